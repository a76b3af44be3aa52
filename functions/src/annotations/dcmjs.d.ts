/**
 * The part of dcmjs (which ships no type declarations) the lake uses:
 * naturalized data sets to Part 10 and back.
 */
declare module 'dcmjs' {
  interface DicomDictInstance {
    meta: Record<string, unknown>;
    dict: Record<string, unknown>;
    write(options?: Record<string, unknown>): ArrayBuffer;
  }
  interface DcmjsData {
    DicomDict: new (meta: Record<string, unknown>) => DicomDictInstance;
    DicomMessage: { readFile(buffer: ArrayBuffer, options?: Record<string, unknown>): DicomDictInstance };
    DicomMetaDictionary: {
      denaturalizeDataset(dataset: Record<string, unknown>): Record<string, unknown>;
      naturalizeDataset(dataset: Record<string, unknown>): Record<string, unknown>;
      uid(): string;
    };
  }
  const dcmjs: { data: DcmjsData; adapters: Record<string, unknown> };
  export default dcmjs;
}
