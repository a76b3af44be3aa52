/** dcmjs ships its DICOM data dictionary as an untyped module. */
declare module 'dcmjs/dictionary' {
  export interface DictionaryEntry {
    tag: string;
    vr: string;
    name: string;
    vm: string;
    version: string;
  }
  export const dictionary: Record<string, DictionaryEntry>;
  export default dictionary;
}
