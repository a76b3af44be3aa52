/**
 * The study and series counters (studies.num_instances, num_series,
 * series.num_instances) count what DICOMweb shows everybody by default: of
 * each annotation set only its latest version (shared/src/annotations/
 * visibility-sql.ts). The index writer counts an arriving SR like any
 * instance; when a version is recorded its set's pointer moves, which hides
 * the version it was at (and maybe that version's whole series) and may show
 * another. `moveShownCounters` runs such a change and moves the counters by
 * what it changed in the default view: increments, like the index writer's,
 * so concurrent ingest into the study is never overwritten by a recount.
 *
 * It runs inside the annotation transaction after the SR was stored (the
 * index writer's transaction takes the same locks and must not wait for this
 * one). The index writer keeps the same counts as instances arrive: a series
 * holding annotation versions is counted while its counter is above 0.
 */
import { annotationInstanceShownByDefaultSql, annotationSeriesShownByDefaultSql } from '@medlake/shared/annotations/visibility-sql';
import type { Queryable } from '../adapters/database';

interface ShownState {
  /** Per SOP Instance UID: its series, study and whether it is shown. */
  instances: Map<string, { seriesUid: string; studyUid: string; shown: boolean }>;
  /** Per series: its study and whether it is shown. */
  series: Map<string, { studyUid: string; shown: boolean }>;
}

/** The series whose shown state the instances can change: theirs, and those their annotation versions name. */
async function seriesOf(db: Queryable, sops: readonly string[]): Promise<string[]> {
  const rows = await db.query<{ series_uid: string }>(
    `SELECT series_uid FROM instances WHERE sop_uid = ANY($1::text[])
     UNION SELECT series_uid FROM annotation_versions WHERE sop_uid = ANY($1::text[])`,
    [sops],
  );
  return rows.rows.map((r) => r.series_uid);
}

async function shownState(db: Queryable, sops: readonly string[], series: readonly string[]): Promise<ShownState> {
  const found = await db.query<{ instances: { sop_uid: string; series_uid: string; study_uid: string; shown: boolean }[]; series: { series_uid: string; study_uid: string; shown: boolean }[] }>(
    `SELECT
       (SELECT coalesce(json_agg(x), '[]') FROM (SELECT i.sop_uid, i.series_uid, i.study_uid, ${annotationInstanceShownByDefaultSql('i.sop_uid')} AS shown
          FROM instances i WHERE i.sop_uid = ANY($1::text[])) x) AS instances,
       (SELECT coalesce(json_agg(x), '[]') FROM (SELECT se.series_uid, se.study_uid, ${annotationSeriesShownByDefaultSql('se.series_uid')} AS shown
          FROM series se WHERE se.series_uid = ANY($2::text[])) x) AS series`,
    [sops, series],
  );
  const row = found.rows[0] as { instances: { sop_uid: string; series_uid: string; study_uid: string; shown: boolean }[]; series: { series_uid: string; study_uid: string; shown: boolean }[] };
  return {
    instances: new Map(row.instances.map((r) => [r.sop_uid, { seriesUid: r.series_uid, studyUid: r.study_uid, shown: r.shown }])),
    series: new Map(row.series.map((r) => [r.series_uid, { studyUid: r.study_uid, shown: r.shown }])),
  };
}

/**
 * Runs `change` (which may show or hide the instances `sops`, and with them
 * their series) and moves the counters by the difference it made.
 */
export async function moveShownCounters<T>(db: Queryable, sops: readonly string[], change: () => Promise<T>): Promise<T> {
  // Ingest must not move these instances, nor count others into their series, between the two looks:
  // the index writer's SOP locks, then the series rows, in its order (SOPs, then series by key).
  await db.query('SELECT pg_advisory_xact_lock(hashtextextended(s, 0)) FROM unnest($1::text[]) AS s ORDER BY s', [[...new Set(sops)].sort()]);
  const seriesBefore = await seriesOf(db, sops);
  await db.query('SELECT 1 FROM series WHERE series_uid = ANY($1::text[]) ORDER BY series_uid FOR UPDATE', [seriesBefore]);
  const before = await shownState(db, sops, seriesBefore);
  const result = await change();
  const series = [...new Set([...seriesBefore, ...(await seriesOf(db, sops))])];
  const after = await shownState(db, sops, series);

  const seriesDelta = new Map<string, number>();
  const studyDelta = new Map<string, { instances: number; series: number }>();
  const add = (studyUid: string, key: 'instances' | 'series', n: number) => {
    const entry = studyDelta.get(studyUid) ?? { instances: 0, series: 0 };
    entry[key] += n;
    studyDelta.set(studyUid, entry);
  };
  for (const [sop, now] of after.instances) {
    const was = before.instances.get(sop);
    // An instance row does not change series or study here (only ingest moves one, and it holds the SOP's lock).
    if (!was || was.shown === now.shown) continue;
    const n = now.shown ? 1 : -1;
    seriesDelta.set(now.seriesUid, (seriesDelta.get(now.seriesUid) ?? 0) + n);
    add(now.studyUid, 'instances', n);
  }
  for (const [uid, now] of after.series) {
    const was = before.series.get(uid);
    if (was ? was.shown === now.shown : now.shown) continue;
    add(now.studyUid, 'series', now.shown ? 1 : -1);
  }

  const seriesRows = [...seriesDelta].filter(([, n]) => n !== 0).sort(([a], [b]) => a.localeCompare(b));
  const studyRows = [...studyDelta].filter(([, d]) => d.instances !== 0 || d.series !== 0).sort(([a], [b]) => a.localeCompare(b));
  // Series before studies, each in key order: the order the index writer updates them in.
  if (seriesRows.length) {
    await db.query(
      `UPDATE series s SET num_instances = s.num_instances + d.n
       FROM (SELECT * FROM unnest($1::text[], $2::int[]) AS x(uid, n) ORDER BY uid) d WHERE s.series_uid = d.uid`,
      [seriesRows.map(([uid]) => uid), seriesRows.map(([, n]) => n)],
    );
  }
  if (studyRows.length) {
    await db.query(
      `UPDATE studies s SET num_instances = s.num_instances + d.instances, num_series = s.num_series + d.series
       FROM (SELECT * FROM unnest($1::text[], $2::int[], $3::int[]) AS x(uid, instances, series) ORDER BY uid) d WHERE s.study_uid = d.uid`,
      [studyRows.map(([uid]) => uid), studyRows.map(([, d]) => d.instances), studyRows.map(([, d]) => d.series)],
    );
  }
  return result;
}
