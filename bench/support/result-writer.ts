/**
 * Writes a benchmark report: bench/results/<stamp>[-quick].{json,md} always;
 * latest.{json,md} and the README section between its markers when published
 * (full data and every phase, or --publish).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Report } from './results';
import { readmeSection, renderMarkdown, replaceReadmeSection, resultStamp } from './results';

export interface WrittenReport {
  json: string;
  markdown: string;
  latest?: { json: string; markdown: string };
  readme?: string;
}

export function writeReport(report: Report, options: { resultsDir: string; readmePath: string; publish: boolean }): WrittenReport {
  mkdirSync(options.resultsDir, { recursive: true });
  const base = join(options.resultsDir, `${resultStamp(new Date(report.startedAt))}${report.quick ? '-quick' : ''}`);
  const json = `${JSON.stringify(report, null, 2)}\n`;
  const markdown = renderMarkdown(report);
  const written: WrittenReport = { json: `${base}.json`, markdown: `${base}.md` };
  writeFileSync(written.json, json);
  writeFileSync(written.markdown, markdown);
  if (options.publish) {
    written.latest = { json: join(options.resultsDir, 'latest.json'), markdown: join(options.resultsDir, 'latest.md') };
    writeFileSync(written.latest.json, json);
    writeFileSync(written.latest.markdown, markdown);
    const readme = existsSync(options.readmePath) ? readFileSync(options.readmePath, 'utf8') : '';
    writeFileSync(options.readmePath, replaceReadmeSection(readme, readmeSection(report)));
    written.readme = options.readmePath;
  }
  return written;
}
