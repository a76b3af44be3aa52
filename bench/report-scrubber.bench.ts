/**
 * Report scrubber and report search benchmark (not a test).
 *   npx tsx bench/report-scrubber.bench.ts [copies=100]
 * 1. Scrubber precision and recall on the annotated synthetic corpus
 *    (test/fixtures/reports/corpus.ts: planted spans are the ground truth),
 *    with the study's known identifiers and with pattern rules alone, and on
 *    held-out reports the rules were not tuned on (holdout.ts). A planted
 *    span counts as caught when every letter and digit of it was replaced;
 *    a replacement touching no planted span is a false positive.
 * 2. Search on a real PostgreSQL: the corpus's typo queries (recall: the
 *    query finds its report) with the `english` and `simple` stemming (each
 *    + unaccent + trigram-widened words), then latency of /api/reports/search's
 *    query with the corpus copied `copies` times (different pseudonyms).
 */
import { performance } from 'node:perf_hooks';
import { scrubReport } from '../shared/src/reports/scrub-report';
import type { PhiKind, ScrubSpan } from '../shared/src/reports/scrub-report';
import { normalizeReportQuery, reportSearchText } from '../shared/src/reports/search-text';
import { ReportStore } from '../functions/src/reports/report-store';
import type { CorpusReport } from '../test/fixtures/reports/corpus';
import { corpus, plainReport } from '../test/fixtures/reports/corpus';
import { holdout } from '../test/fixtures/reports/holdout';
import { startTestDatabase } from '../test/support/test-database';

interface Score { planted: number; caught: number; spans: number; falsePositives: number; missed: string[]; byKind: Map<PhiKind, { planted: number; caught: number }> }

function scrubWith(r: CorpusReport, withKnown: boolean): { text: string; spans: ScrubSpan[] } {
  const { text } = plainReport(r);
  const known = withKnown ? { patientNames: [r.patient.name], patientIds: [r.patient.id], accessionNumbers: [r.study.accession], birthDates: [r.patient.birthDate], physicianNames: [r.study.referringPhysician], institutionNames: [r.study.institution] } : {};
  return { text, spans: scrubReport(text, known, { patientName: 'MLP-PSEUDONYM', patientId: 'MLP-PSEUDONYM', accessionNumber: 'MLA-PSEUDONYM', dateShiftDays: -40, referenceYear: Number(r.study.date.slice(0, 4)) }).spans };
}

function score(reports: readonly CorpusReport[], withKnown: boolean): Score {
  const s: Score = { planted: 0, caught: 0, spans: 0, falsePositives: 0, missed: [], byKind: new Map() };
  for (const r of reports) {
    const { planted } = plainReport(r);
    const { text, spans } = scrubWith(r, withKnown);
    for (const p of planted) {
      const covered = [...p.value].every((ch, i) => !/[\p{L}\p{N}]/u.test(ch) || spans.some((x) => x.start <= p.start + i && p.start + i < x.end));
      const kind = s.byKind.get(p.kind) ?? { planted: 0, caught: 0 };
      kind.planted++;
      s.planted++;
      if (covered) {
        kind.caught++;
        s.caught++;
      } else s.missed.push(`${r.id} ${p.kind} "${p.value}"`);
      s.byKind.set(p.kind, kind);
    }
    for (const x of spans) {
      s.spans++;
      if (!planted.some((p) => x.start < p.end && p.start < x.end)) {
        s.falsePositives++;
        s.missed.push(`${r.id} false positive (${x.rule}) "${text.slice(x.start, x.end)}"`);
      }
    }
  }
  return s;
}

const pct = (n: number, d: number) => (d === 0 ? 'n/a' : `${((100 * n) / d).toFixed(1)}%`);

function printScore(label: string, s: Score, showMisses: boolean): void {
  console.log(`${label}: recall ${pct(s.caught, s.planted)} (${s.caught}/${s.planted} planted spans), precision ${pct(s.spans - s.falsePositives, s.spans)} (${s.falsePositives} false positives of ${s.spans} replacements)`);
  console.log(`  by kind: ${[...s.byKind.entries()].map(([k, v]) => `${k} ${v.caught}/${v.planted}`).join(', ')}`);
  if (showMisses) for (const m of s.missed) console.log(`  - ${m}`);
}

console.log('## Scrubber');
printScore('corpus, known identifiers + pattern rules', score(corpus, true), true);
printScore('corpus, pattern rules alone', score(corpus, false), false);
printScore('held-out, known identifiers + pattern rules', score(holdout, true), true);
printScore('held-out, pattern rules alone', score(holdout, false), false);
const started = performance.now();
let rounds = 0;
while (performance.now() - started < 2000) {
  for (const r of corpus) scrubWith(r, true);
  rounds++;
}
console.log(`scrub speed: ${((performance.now() - started) / (rounds * corpus.length)).toFixed(2)} ms per report (${corpus.length} reports × ${rounds} rounds)`);

console.log('\n## Search');
const copies = Number(process.argv[2] ?? 100);
const db = await startTestDatabase();
try {
  const q = (text: string, values: unknown[] = []) => db.pool.query(text, values);
  // Scrubbed corpus texts in the index, as the pipeline stores them.
  const texts = corpus.map((r) => scrubReport(plainReport(r).text, { patientNames: [r.patient.name], patientIds: [r.patient.id], accessionNumbers: [r.study.accession] }, { patientName: 'MLP-X', patientId: 'MLP-X', dateShiftDays: -40 }).text);
  await q(`INSERT INTO patients (patient_id, patient_name) VALUES ('MLP-BENCH', 'MLP-BENCH')`);
  await q(`INSERT INTO studies (study_uid, patient_id, description) SELECT 'corpus.' || id, 'MLP-BENCH', 'bench' FROM unnest($1::text[]) AS id`, [corpus.map((r) => r.id)]);
  await q(`INSERT INTO reports (study_uid, current_version, text, search_text) SELECT 'corpus.' || id, 1, t, s FROM unnest($1::text[], $2::text[], $3::text[]) AS x(id, t, s)`, [corpus.map((r) => r.id), texts, texts.map(reportSearchText)]);

  // Recall of the typo queries under both stemming choices.
  await q(`CREATE TEXT SEARCH CONFIGURATION bench_simple (COPY = pg_catalog.simple); ALTER TEXT SEARCH CONFIGURATION bench_simple ALTER MAPPING FOR hword, hword_part, word WITH unaccent, simple`);
  await q(`CREATE TABLE bench_simple_lexemes AS SELECT DISTINCT unnest(tsvector_to_array(to_tsvector('bench_simple', search_text))) AS lexeme FROM reports; CREATE INDEX ON bench_simple_lexemes USING gin (lexeme gin_trgm_ops)`);
  for (const config of ['english', 'simple'] as const) {
    for (const similarity of [0.35, 0.4, 0.45, 0.5]) {
      let found = 0;
      let total = 0;
      let results = 0;
      for (const r of corpus) {
        for (const query of r.queries) {
          total++;
          const norm = normalizeReportQuery(query);
          let rows: { study_uid: string }[];
          if (config === 'english') rows = (await q(`SELECT study_uid FROM reports WHERE search_tsv @@ (SELECT medlake_report_query($1, $2))`, [norm, similarity])).rows;
          else {
            let tsq = (await q(`SELECT websearch_to_tsquery('bench_simple', $1)::text AS t`, [norm])).rows[0].t as string;
            // Same widening as medlake_report_query (similar lexemes; compounds as there: word similarity ≥ 0.7).
            const words = (await q(`SELECT DISTINCT unnest(tsvector_to_array(to_tsvector('bench_simple', $1))) AS w`, [norm])).rows.map((x) => x.w as string);
            for (const w of words.filter((x) => x.length >= 4 && !/['\\]/.test(x))) {
              const alternatives = (await q(`SELECT lexeme FROM bench_simple_lexemes WHERE (lexeme % $1 OR $1 <% lexeme) AND lexeme <> $1 AND lexeme !~ '[''\\\\]' AND (similarity(lexeme, $1) >= $2 OR (length($1) >= 5 AND word_similarity($1, lexeme) >= 0.7)) ORDER BY similarity(lexeme, $1) DESC LIMIT 6`, [w, similarity])).rows.map((x) => x.lexeme as string);
              if (alternatives.length) tsq = tsq.split(`'${w}'`).join(`( '${w}' | ${alternatives.map((a) => `'${a}'`).join(' | ')} )`);
            }
            rows = (await q(`SELECT study_uid FROM reports WHERE to_tsvector('bench_simple', search_text) @@ $1::tsquery`, [tsq])).rows;
          }
          results += rows.length;
          if (rows.some((x) => x.study_uid === `corpus.${r.id}`)) found++;
        }
      }
      console.log(`${config.padEnd(7)} similarity ≥ ${similarity.toFixed(2)}: ${found}/${total} typo queries find their report, ${(results / total).toFixed(2)} results per query (corpus of ${corpus.length})`);
    }
  }

  // Latency at scale: the corpus copied (its lexicon stays that of real reports).
  await q(`INSERT INTO studies (study_uid, patient_id, description) SELECT 'copy.' || n || '.' || id, 'MLP-BENCH', 'bench' FROM unnest($1::text[]) AS id, generate_series(1, $2::int) AS n`, [corpus.map((r) => r.id), copies]);
  await q(`INSERT INTO reports (study_uid, current_version, text, search_text) SELECT 'copy.' || n || '.' || id, 1, t, s FROM unnest($1::text[], $2::text[], $3::text[]) AS x(id, t, s), generate_series(1, $4::int) AS n`, [corpus.map((r) => r.id), texts, texts.map(reportSearchText), copies]);
  await q('ANALYZE reports; ANALYZE report_lexemes');
  const count = (await q('SELECT count(*)::int AS n FROM reports')).rows[0].n as number;
  const store = new ReportStore(db.pool);
  const queries = corpus.flatMap((r) => r.queries);
  for (const query of queries.slice(0, 5)) await store.search(query, { limit: 20, offset: 0 });
  const timings: number[] = [];
  for (const query of queries) {
    const t0 = performance.now();
    await store.search(query, { limit: 20, offset: 0 });
    timings.push(performance.now() - t0);
  }
  timings.sort((a, b) => a - b);
  const at = (p: number) => (timings[Math.min(timings.length - 1, Math.floor(p * timings.length))] as number).toFixed(1);
  console.log(`search latency over ${count} reports (limit 20, ranked, highlighted): median ${at(0.5)} ms, p95 ${at(0.95)} ms, max ${at(1)} ms (${queries.length} queries)`);
} finally {
  await db.stop();
}
