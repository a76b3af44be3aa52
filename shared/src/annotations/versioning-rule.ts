/**
 * Which annotation set a measurement report saved by the viewer belongs to.
 * OHIF stores every save as a new SR; the lake turns those into versions of
 * one set, by the first rule that applies:
 *
 * 1. predecessor — the SR names a predecessor (PredecessorDocumentsSequence,
 *    which OHIF writes when the user saves into an existing report series)
 *    that is a version of a set of the study: the next version of that set,
 *    based on that version.
 * 2. series — the SR is in the series of earlier versions of exactly one set
 *    (a writer reusing the report's series without naming a predecessor):
 *    the next version of that set.
 * 3. name — the same author already has a set of that name in the study
 *    (OHIF asks for a report name and writes it as SeriesDescription; the
 *    name is compared trimmed and case-insensitively): the next version.
 * 4. otherwise a new set, version 1.
 *
 * Under rules 2 and 3 the new version's parent is the version the author
 * had open in the viewer (their viewer selection of that set), else the
 * set's latest version.
 */

export interface IncomingReport {
  authorSub: string;
  title: string;
  seriesInstanceUID: string;
  predecessorSopUids: readonly string[];
}

export interface KnownSet {
  setId: string;
  authorSub: string;
  name: string;
  currentVersion: number;
}

export interface KnownVersion {
  setId: string;
  version: number;
  sopUid: string;
  seriesUid: string;
}

export interface StudyAnnotations {
  sets: readonly KnownSet[];
  versions: readonly KnownVersion[];
  /** The author's viewer selections: set → the version they had open. */
  selections: ReadonlyMap<string, number>;
}

export type SetDecision =
  | { kind: 'next'; setId: string; parentVersion: number; rule: 'predecessor' | 'series' | 'name' }
  | { kind: 'new'; rule: 'new' };

export function nameKey(name: string): string {
  return name.trim().replace(/\s+/g, ' ').toLowerCase();
}

export function decideAnnotationSet(report: IncomingReport, study: StudyAnnotations): SetDecision {
  const setById = new Map(study.sets.map((s) => [s.setId, s]));
  const parentFor = (set: KnownSet) => study.selections.get(set.setId) ?? set.currentVersion;

  for (const sop of report.predecessorSopUids) {
    const version = study.versions.find((v) => v.sopUid === sop);
    if (version && setById.has(version.setId)) return { kind: 'next', setId: version.setId, parentVersion: version.version, rule: 'predecessor' };
  }

  const inSeries = new Set(study.versions.filter((v) => v.seriesUid === report.seriesInstanceUID).map((v) => v.setId));
  if (inSeries.size === 1) {
    const set = setById.get([...inSeries][0] as string);
    if (set) return { kind: 'next', setId: set.setId, parentVersion: parentFor(set), rule: 'series' };
  }

  const key = nameKey(report.title);
  const named = study.sets.find((s) => s.authorSub === report.authorSub && nameKey(s.name) === key);
  if (named) return { kind: 'next', setId: named.setId, parentVersion: parentFor(named), rule: 'name' };

  return { kind: 'new', rule: 'new' };
}
