/**
 * Classes that often carry burned-in text (names, IDs, dates typed or
 * rendered into the pixels): without an explicit Burned In Annotation = NO,
 * instances of these are held for review.
 */
export const burnedInProneSopClasses: ReadonlyMap<string, string> = new Map([
  ['1.2.840.10008.5.1.4.1.1.7', 'Secondary Capture Image'],
  ['1.2.840.10008.5.1.4.1.1.7.1', 'Multi-frame Single Bit Secondary Capture Image'],
  ['1.2.840.10008.5.1.4.1.1.7.2', 'Multi-frame Grayscale Byte Secondary Capture Image'],
  ['1.2.840.10008.5.1.4.1.1.7.3', 'Multi-frame Grayscale Word Secondary Capture Image'],
  ['1.2.840.10008.5.1.4.1.1.7.4', 'Multi-frame True Color Secondary Capture Image'],
  ['1.2.840.10008.5.1.4.1.1.6', 'Ultrasound Image (retired)'],
  ['1.2.840.10008.5.1.4.1.1.6.1', 'Ultrasound Image'],
  ['1.2.840.10008.5.1.4.1.1.6.2', 'Enhanced US Volume'],
  ['1.2.840.10008.5.1.4.1.1.3', 'Ultrasound Multi-frame Image (retired)'],
  ['1.2.840.10008.5.1.4.1.1.3.1', 'Ultrasound Multi-frame Image'],
  ['1.2.840.10008.5.1.4.1.1.104.1', 'Encapsulated PDF'],
  ['1.2.840.10008.5.1.4.1.1.104.2', 'Encapsulated CDA'],
  ['1.2.840.10008.5.1.4.1.1.77.1.1', 'VL Endoscopic Image'],
  ['1.2.840.10008.5.1.4.1.1.77.1.1.1', 'Video Endoscopic Image'],
  ['1.2.840.10008.5.1.4.1.1.77.1.2', 'VL Microscopic Image'],
  ['1.2.840.10008.5.1.4.1.1.77.1.2.1', 'Video Microscopic Image'],
  ['1.2.840.10008.5.1.4.1.1.77.1.4', 'VL Photographic Image'],
  ['1.2.840.10008.5.1.4.1.1.77.1.4.1', 'Video Photographic Image'],
  ['1.2.840.10008.5.1.4.1.1.77.1.5.1', 'Ophthalmic Photography 8 Bit Image'],
  ['1.2.840.10008.5.1.4.1.1.77.1.5.2', 'Ophthalmic Photography 16 Bit Image'],
]);

/** Why an instance must be reviewed before it is published, or undefined. */
export function burnedInHoldReason(sopClassUid: string, burnedInAnnotation: string | undefined): string | undefined {
  const flag = burnedInAnnotation?.trim().toUpperCase();
  if (flag === 'YES') return 'The image declares burned-in annotation (Burned In Annotation = YES): its pixels may show identifying text.';
  const className = burnedInProneSopClasses.get(sopClassUid);
  if (className && flag !== 'NO') return `${className} instances often carry burned-in text and this one does not declare Burned In Annotation = NO.`;
  return undefined;
}
