/**
 * Labels as part of the one study filter: SQL fragments the study filter
 * (shared/src/query/study-filter-sql.ts) adds for `label` and the `labels`
 * column of /api/studies. A study carries a label when the current version
 * of the label set of the study, of one of its series or of one of its
 * instances holds it (migration 0021).
 */

/** The current labels of every labelled object (target) of a study: rows of (study_uid, code). */
const currentLabels = `SELECT ls.study_uid, l.code
  FROM label_sets ls
  JOIN label_versions lv ON lv.target = ls.target AND lv.version = ls.current_version
  CROSS JOIN LATERAL jsonb_to_recordset(lv.labels) AS l(code text)`;

/** True when the study carries every label code in the text[] parameter `placeholder`. */
export function labelMatchSql(studyAlias: string, placeholder: string): string {
  return `${studyAlias}.study_uid IN (SELECT cl.study_uid FROM (${currentLabels}) cl
    WHERE cl.code = ANY(${placeholder}::text[]) GROUP BY cl.study_uid
    HAVING count(DISTINCT cl.code) = cardinality(${placeholder}::text[]))`;
}

/** A select-list column: the distinct label codes the study carries, sorted. */
export function labelsColumn(studyAlias: string): string {
  return `ARRAY(SELECT DISTINCT cl.code FROM (${currentLabels}) cl WHERE cl.study_uid = ${studyAlias}.study_uid ORDER BY cl.code) AS labels`;
}

/** Label codes as users type them in the filter: compared in lower case. */
export function normalizeLabelCodes(codes: readonly string[]): string[] {
  return [...new Set(codes.map((c) => c.trim().toLowerCase()).filter(Boolean))];
}
