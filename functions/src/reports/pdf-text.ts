/**
 * Text of a PDF report with unpdf (a serverless build of Mozilla's PDF.js,
 * no native dependencies: runs in Lambda as is). Scanned PDFs have no text
 * layer: the answer is then empty and the caller says so.
 */
import { extractText, getDocumentProxy } from 'unpdf';

export const pdfWithoutText = 'PDF without extractable text';

export async function pdfText(document: Uint8Array): Promise<string> {
  // PDF.js may take ownership of (detach) the buffer it is given: hand it a copy.
  const pdf = await getDocumentProxy(new Uint8Array(document));
  try {
    const { text } = await extractText(pdf, { mergePages: false });
    return text.map((page) => page.replace(/[ \t]+\n/g, '\n').trim()).filter(Boolean).join('\n\n');
  } finally {
    await pdf.loadingTask.destroy();
  }
}
