/**
 * Search hits as segments ({ text, match }) rather than markup: the client
 * renders them as it likes and report text is never interpreted as HTML.
 * `headlineSegments` splits PostgreSQL's ts_headline output (run with two
 * control characters as StartSel/StopSel, which stored reports never hold).
 */
export interface Segment {
  text: string;
  match: boolean;
}

export const headlineStart = '\u0002';
export const headlineStop = '\u0003';

export function headlineSegments(headline: string): Segment[] {
  const segments: Segment[] = [];
  let match = false;
  let current = '';
  const flush = () => {
    if (current) segments.push({ text: current, match });
    current = '';
  };
  for (const c of headline) {
    if (c === headlineStart || c === headlineStop) {
      flush();
      match = c === headlineStart;
    } else current += c;
  }
  flush();
  return segments;
}
