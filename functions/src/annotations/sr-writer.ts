/**
 * Writing a measurement report as DICOM Part 10 with dcmjs (the library the
 * viewer itself writes its SRs with; typed in dcmjs.d.ts).
 */
import dcmjs from 'dcmjs';
import type { Naturalized } from '@medlake/shared/annotations/sr-content';
import { implementationClassUid, implementationVersionName } from '@medlake/shared/dicom/uid';

/** The report as a Part 10 file in Explicit VR Little Endian. */
export function writeSrPart10(dataset: Naturalized): Uint8Array {
  const { DicomDict, DicomMetaDictionary } = dcmjs.data;
  const meta = {
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: dataset.SOPClassUID,
    MediaStorageSOPInstanceUID: dataset.SOPInstanceUID,
    TransferSyntaxUID: '1.2.840.10008.1.2.1',
    ImplementationClassUID: implementationClassUid,
    ImplementationVersionName: implementationVersionName,
  };
  const dict = new DicomDict(DicomMetaDictionary.denaturalizeDataset(meta));
  dict.dict = DicomMetaDictionary.denaturalizeDataset(dataset);
  return new Uint8Array(dict.write());
}
