/**
 * The text layer of a PDF has a line break wherever the page wrapped a line,
 * also in the middle of a sentence or a name ("Referring: Dr. Harriet" /
 * "Vance"). The report pipeline reads line breaks as boundaries (names after
 * titles, negation scopes, header labels), so soft wraps are joined back:
 * a line that does not end a sentence or a label continues on the next one,
 * unless either is a heading ("IMPRESSION") or the next starts a label
 * ("MRN: …"). Hard breaks (blank lines, list items) stay.
 */

const endsOpen = /[\p{L}\p{N},)]$/u;
const startsOpen = /^[\p{L}\p{N}(]/u;
/** Upper-case words only (a heading, or a name printed in capitals: not joined either way). */
const heading = /^[^\p{Ll}]*\p{Lu}[^\p{Ll}]*$/u;
/** "Accession: …", "Exam date: …": a field of its own. */
const labelStart = /^[\p{L}][\p{L} .'’/-]{0,30}:/u;
const listItem = /^(?:[-–•*]\s|\d{1,2}[.)]\s)/u;

function continues(line: string, next: string): boolean {
  if (!endsOpen.test(line) || !startsOpen.test(next)) return false;
  if (heading.test(line) || heading.test(next)) return false;
  return !labelStart.test(next) && !listItem.test(next);
}

export function joinWrappedLines(text: string): string {
  const lines = text.split('\n').map((line) => line.trim());
  let out = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (i === 0) {
      out = line;
      continue;
    }
    const previous = lines[i - 1] as string;
    out += previous !== '' && line !== '' && continues(previous, line) ? ` ${line}` : `\n${line}`;
  }
  return out;
}
