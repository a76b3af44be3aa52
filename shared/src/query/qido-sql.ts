/**
 * A parsed QIDO-RS query as SQL over the index (functions/migrations):
 * studies `s` joined with patients `p`, series `se`, instances `i`. Indexed
 * attributes match their columns; any other attribute of the level matches
 * the stored DICOM JSON. Values are parameters only.
 */
import { annotationInstanceShownSql, annotationSeriesShownSql, seriesShownCountSql, studyShownCountsSql } from '../annotations/visibility-sql';
import type { AttributeMatch, QidoLevel, QidoQuery } from './qido';
import type { SqlQuery } from './sql';
import { SqlParameters, likeLiteral, likePattern } from './sql';

/** The request path fixes these (e.g. /studies/{S}/series). */
export interface QidoScope {
  studyUid?: string;
  seriesUid?: string;
}

interface Column {
  sql: string;
  /** How the column stores the value. */
  type: 'text' | 'date' | 'seconds' | 'integer' | 'text[]';
}

const columns: Record<string, Column> = {
  StudyInstanceUID: { sql: 's.study_uid', type: 'text' },
  PatientID: { sql: 's.patient_id', type: 'text' },
  PatientName: { sql: 'p.patient_name', type: 'text' },
  PatientSex: { sql: 'p.sex', type: 'text' },
  PatientBirthDate: { sql: 'p.birth_date', type: 'date' },
  StudyDate: { sql: 's.study_date', type: 'date' },
  StudyTime: { sql: 's.study_time_seconds', type: 'seconds' },
  AccessionNumber: { sql: 's.accession_number', type: 'text' },
  StudyID: { sql: 's.study_id', type: 'text' },
  StudyDescription: { sql: 's.description', type: 'text' },
  ReferringPhysicianName: { sql: 's.referring_physician', type: 'text' },
  ModalitiesInStudy: { sql: 's.modalities', type: 'text[]' },
  SeriesInstanceUID: { sql: 'se.series_uid', type: 'text' },
  Modality: { sql: 'se.modality', type: 'text' },
  SeriesNumber: { sql: 'se.series_number', type: 'integer' },
  SeriesDescription: { sql: 'se.description', type: 'text' },
  BodyPartExamined: { sql: 'se.body_part', type: 'text' },
  SOPInstanceUID: { sql: 'i.sop_uid', type: 'text' },
  SOPClassUID: { sql: 'i.sop_class_uid', type: 'text' },
  InstanceNumber: { sql: 'i.instance_number', type: 'integer' },
};

const fromClause: Record<QidoLevel, string> = {
  study: 'studies s JOIN patients p ON p.patient_id = s.patient_id',
  series: 'series se JOIN studies s ON s.study_uid = se.study_uid JOIN patients p ON p.patient_id = s.patient_id',
  instance:
    'instances i JOIN series se ON se.series_uid = i.series_uid JOIN studies s ON s.study_uid = i.study_uid JOIN patients p ON p.patient_id = s.patient_id',
};

const orderClause: Record<QidoLevel, string> = {
  study: 's.study_date DESC NULLS LAST, s.study_uid',
  series: 's.study_date DESC NULLS LAST, s.study_uid, se.series_number NULLS LAST, se.series_uid',
  instance: 'se.series_number NULLS LAST, se.series_uid, i.instance_number NULLS LAST, i.sop_uid',
};

/**
 * The columns of each level. Counts come from the index counters (what
 * everybody is shown by default); `viewer`, the caller's placeholder, takes
 * them again in the studies where the caller picked other annotation versions
 * to view (shared/src/annotations/visibility-sql.ts).
 */
function selectClause(level: QidoLevel, viewer: string | null): string {
  switch (level) {
    case 'study':
      return `s.study_uid, s.patient_id, s.study_date, s.study_time, s.accession_number, s.study_id, s.description AS study_description,
    s.referring_physician, s.modalities, ${viewer ? studyShownCountsSql('s', viewer) : 's.num_series, s.num_instances'}, s.attributes AS study_attributes,
    p.patient_name, p.sex AS patient_sex, p.birth_date AS patient_birth_date`;
    case 'series':
      return `se.series_uid, se.study_uid, se.modality, se.series_number, se.description AS series_description, se.body_part,
    ${viewer ? seriesShownCountSql('se', viewer) : 'se.num_instances'} AS series_num_instances, se.attributes AS series_attributes`;
    case 'instance':
      return `i.sop_uid, i.series_uid, i.study_uid, i.sop_class_uid, i.instance_number, i.number_of_frames, i.rows, i.columns,
    i.transfer_syntax_uid, i.attributes AS instance_attributes`;
  }
}

/** With the study (and series) columns a response needs when the path does not fix them. */
function selectFor(level: QidoLevel, scope: QidoScope, viewer: string | null): string {
  const parts = [selectClause(level, viewer)];
  if (level !== 'study' && !scope.studyUid) parts.push(selectClause('study', viewer));
  if (level === 'instance' && !scope.seriesUid) parts.push(selectClause('series', viewer));
  return parts.join(',\n    ');
}

export interface QidoSql {
  /** The page of matches. */
  page: SqlQuery;
  /** How many match in all (X-Total-Count). */
  count: SqlQuery;
}

/**
 * `viewerSub`: who is asking (their `sub`), for the annotation versions they
 * picked to view; series and instance lists show one version per annotation
 * set (shared/src/annotations/visibility-sql.ts).
 */
export function qidoSql(query: QidoQuery, scope: QidoScope = {}, viewerSub: string | null = null): QidoSql {
  const params = new SqlParameters();
  const where: string[] = [];
  if (scope.studyUid) where.push(`${query.level === 'study' ? 's.study_uid' : query.level === 'series' ? 'se.study_uid' : 'i.study_uid'} = ${params.add(scope.studyUid)}`);
  if (scope.seriesUid) where.push(`${query.level === 'series' ? 'se.series_uid' : 'i.series_uid'} = ${params.add(scope.seriesUid)}`);
  for (const match of query.matches) {
    const condition = matchCondition(match, query.fuzzy, params);
    if (condition) where.push(condition);
  }
  let viewer: string | null = null;
  if (query.level === 'series') where.push(annotationSeriesShownSql('se.series_uid', (viewer = params.add(viewerSub))));
  if (query.level === 'instance') where.push(annotationInstanceShownSql('i.sop_uid', (viewer = params.add(viewerSub))));
  const whereSql = where.length ? `WHERE ${where.join('\n  AND ')}` : '';
  const from = fromClause[query.level];
  const countValues = [...params.values];
  // Counts in the page as the caller is shown them; nobody (no sub) reads the counters as they are.
  if (viewerSub === null) viewer = null;
  else viewer ??= params.add(viewerSub);
  const limit = params.add(query.limit);
  const offset = params.add(query.offset);
  return {
    page: {
      text: `SELECT ${selectFor(query.level, scope, viewer)}\nFROM ${from}\n${whereSql}\nORDER BY ${orderClause[query.level]}\nLIMIT ${limit} OFFSET ${offset}`,
      values: params.values,
    },
    count: { text: `SELECT count(*)::int AS total FROM ${from} ${whereSql}`, values: countValues },
  };
}

function matchCondition(match: AttributeMatch, fuzzy: boolean, params: SqlParameters): string | undefined {
  const value = match.match;
  if (value.type === 'universal') return undefined;
  const column = columns[match.keyword] ?? genericColumn(match, params);
  const c = column.sql;
  switch (value.type) {
    case 'range': {
      const parts: string[] = [];
      const cast = column.type === 'date' ? '::date' : column.type === 'seconds' ? '::float8' : '';
      const target = column.type === 'date' || column.type === 'seconds' ? c : `(${c})`;
      if (value.from !== undefined) parts.push(`${target} >= ${params.add(rangeValue(value.from, column))}${cast}`);
      if (value.to !== undefined) parts.push(`${target} <= ${params.add(rangeValue(value.to, column))}${cast}`);
      return parts.join(' AND ');
    }
    case 'single':
      if (column.type === 'text[]') return `${c} @> ARRAY[${params.add(value.value)}]::text[]`;
      if (column.type === 'integer') return `${c} = ${params.add(Number(value.value))}::int`;
      if (match.kind === 'name') {
        if (fuzzy) return fuzzyName(match, value.value, params);
        return `lower(${c}) = lower(${params.add(value.value)})`;
      }
      return `${c} = ${params.add(value.value)}`;
    case 'list':
      if (column.type === 'text[]') return `${c} && ${params.add(value.values)}::text[]`;
      if (column.type === 'integer') return `${c} = ANY(${params.add(value.values.map(Number))}::int[])`;
      if (match.kind === 'name') return `lower(${c}) = ANY(${params.add(value.values.map((v) => v.toLowerCase()))}::text[])`;
      return `${c} = ANY(${params.add(value.values)}::text[])`;
    case 'wildcard':
      if (match.kind === 'name' && fuzzy) return fuzzyName(match, value.pattern, params);
      if (column.type === 'text[]') return `EXISTS (SELECT 1 FROM unnest(${c}) AS code WHERE code LIKE ${params.add(likePattern(value.pattern))})`;
      if (column.type === 'integer') return `${c}::text LIKE ${params.add(likePattern(value.pattern))}`;
      // Wildcard searches are what people type into search boxes: case-insensitive.
      return `lower(${c}) LIKE lower(${params.add(likePattern(value.pattern))})`;
  }
}

/**
 * fuzzymatching=true on a person name: case- and accent-insensitive, every
 * word of the query a prefix of one of the name's parts (`jo sm` finds
 * SMITH^JOHN); a leading `*` lets the word match inside a part. The patient
 * name is folded in a generated column with a trigram index.
 */
function fuzzyName(match: AttributeMatch, raw: string, params: SqlParameters): string {
  const words = raw.split(/[\s^=,]+/).filter((w) => w.replace(/[*?]/g, '') !== '');
  if (words.length === 0) return 'TRUE';
  const column = match.keyword === 'PatientName' ? 'p.patient_name_fold' : `medlake_fold(${columns[match.keyword]?.sql ?? 'NULL'})`;
  return words
    .map((word) => {
      const anywhere = word.startsWith('*');
      const body = likeLiteral(word.replace(/[*?]/g, ''));
      return `(' ' || ${column}) LIKE ('%' || ${anywhere ? "''" : "' '"} || medlake_fold(${params.add(body)}) || '%')`;
    })
    .join(' AND ');
}

/** An attribute without its own column: the first value in the level's stored DICOM JSON. */
function genericColumn(match: AttributeMatch, params: SqlParameters): Column {
  const alias = match.level === 'study' ? 's' : match.level === 'series' ? 'se' : 'i';
  const tag = params.add(match.tag);
  if (match.kind === 'name') return { sql: `${alias}.attributes -> ${tag} -> 'Value' -> 0 ->> 'Alphabetic'`, type: 'text' };
  const first = `${alias}.attributes -> ${tag} -> 'Value' ->> 0`;
  // Dates stay YYYYMMDD text (ordered like dates); times become seconds like StudyTime's column.
  if (match.kind === 'time') return { sql: `medlake_tm_seconds(${first})`, type: 'seconds' };
  return { sql: first, type: 'text' };
}

function rangeValue(bound: string | number, column: Column): string | number {
  if (column.type === 'date' && typeof bound === 'string') return `${bound.slice(0, 4)}-${bound.slice(4, 6)}-${bound.slice(6, 8)}`;
  return bound;
}
