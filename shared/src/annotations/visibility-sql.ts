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
