/**
 * Which annotation SRs DICOMweb shows. Every save of an annotation set is a
 * stored SR; a viewer that finds several would load any one of them (OHIF
 * loads the first). So QIDO-RS series and instance lists show, of each set,
 * only the version the caller is looking at: the one they picked in their
 * viewer selection (annotation_view_selections, short-lived), else the
 * latest. Instances that are no annotation version are always shown.
 * (Fragments for shared/src/query/qido-sql.ts; the viewer placeholder is the
 * caller's `sub` as a parameter, or NULL.)
 */

/** The version of set `setAlias` shown to `viewer` (its selection if still valid, else the latest). */
function shownVersion(setAlias: string, viewer: string): string {
  return `coalesce((SELECT sel.version FROM annotation_view_selections sel
      WHERE sel.actor_sub = ${viewer} AND sel.set_id = ${setAlias}.set_id AND sel.expires_at > now()), ${setAlias}.current_version)`;
}

/** True when the instance `sopExpr` is shown: not an annotation version, or the shown version of its set. */
export function annotationInstanceShownSql(sopExpr: string, viewer: string): string {
  return `(NOT EXISTS (SELECT 1 FROM annotation_versions avx WHERE avx.sop_uid = ${sopExpr})
    OR EXISTS (SELECT 1 FROM annotation_versions avs JOIN annotation_sets ast ON ast.set_id = avs.set_id
      WHERE avs.sop_uid = ${sopExpr} AND avs.version = ${shownVersion('ast', viewer)}))`;
}

/** True when the series `seriesExpr` is shown: it holds no annotation version, or at least one shown instance. */
export function annotationSeriesShownSql(seriesExpr: string, viewer: string): string {
  return `(NOT EXISTS (SELECT 1 FROM annotation_versions avq WHERE avq.series_uid = ${seriesExpr})
    OR EXISTS (SELECT 1 FROM instances ivs WHERE ivs.series_uid = ${seriesExpr} AND ${annotationInstanceShownSql('ivs.sop_uid', viewer)}))`;
}

/*
 * Counts. The index keeps study and series counters of what everybody is
 * shown by default (the latest version of each set): the index writer and
 * the annotation store move them at write time
 * (functions/src/annotations/shown-counters.ts), so listing studies reads
 * columns. Only a caller with a live viewer selection in a study may be shown
 * other versions: for those few studies the counts are taken again, by the
 * SQL functions of migration 0053 (the rule above; functions are planned only
 * when called, which keeps these fragments from adding planning time to every
 * search).
 */

/** True for a study in which `viewer` has a live selection (the array is taken once per query). */
function picked(studyExpr: string, viewer: string): string {
  return `${studyExpr} = ANY(ARRAY(SELECT sel.study_uid FROM annotation_view_selections sel WHERE sel.actor_sub = ${viewer} AND sel.expires_at > now()))`;
}

/** Select-list columns `num_instances` and `num_series` of study `studyAlias` as `viewer` is shown them. */
export function studyShownCountsSql(studyAlias: string, viewer: string): string {
  const study = `${studyAlias}.study_uid`;
  return `CASE WHEN ${picked(study, viewer)} THEN medlake_study_shown_instances(${study}, ${viewer}) ELSE ${studyAlias}.num_instances END AS num_instances,
    CASE WHEN ${picked(study, viewer)} THEN medlake_study_shown_series(${study}, ${viewer}) ELSE ${studyAlias}.num_series END AS num_series`;
}

/** The number of instances of series `seriesAlias` `viewer` is shown (a select-list expression). */
export function seriesShownCountSql(seriesAlias: string, viewer: string): string {
  return `CASE WHEN ${picked(`${seriesAlias}.study_uid`, viewer)} THEN medlake_series_shown_instances(${seriesAlias}.series_uid, ${viewer}) ELSE ${seriesAlias}.num_instances END`;
}

/** True when instance `sopExpr` is shown by default: the counters count it. */
export function annotationInstanceShownByDefaultSql(sopExpr: string): string {
  return annotationInstanceShownSql(sopExpr, 'NULL');
}

/** True when series `seriesExpr` is shown by default: the study's series counter counts it. */
export function annotationSeriesShownByDefaultSql(seriesExpr: string): string {
  return annotationSeriesShownSql(seriesExpr, 'NULL');
}
