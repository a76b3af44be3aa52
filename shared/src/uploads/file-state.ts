/**
 * What an uploaded file's status says, from how its instances went: one
 * rule for the ingest worker (when the file is processed) and for the
 * review of held instances (when an administrator releases or discards one
 * later), so the two never tell a file's story differently.
 */

export interface InstanceCounts {
  accepted: number;
  duplicate: number;
  rejected: number;
  held: number;
}

export type SettledFileState = 'accepted' | 'duplicate' | 'held' | 'rejected';

export const heldForReviewReason = 'Held for review before publication: the image may show identifying text (burned-in annotation).';
export const alreadyInLakeReason = 'Already in the lake: this content was uploaded before.';
export const discardedAfterReviewReason = 'Discarded after review: an administrator found identifying text in the image; it is kept out of the lake.';

/** "Of 12 instances: 1 already in the lake, 2 held for review." (undefined when everything was accepted). */
export function partialReason(counts: InstanceCounts): string | undefined {
  const parts: string[] = [];
  if (counts.duplicate) parts.push(`${counts.duplicate} already in the lake`);
  if (counts.held) parts.push(`${counts.held} held for review`);
  if (counts.rejected) parts.push(`${counts.rejected} rejected`);
  return parts.length ? `Of ${counts.accepted + counts.duplicate + counts.held + counts.rejected} instances: ${parts.join(', ')}.` : undefined;
}

/**
 * The state of a file whose instances are counted: published if any was,
 * else held while any waits for review, else a duplicate if any was already
 * in the lake; undefined when every instance was rejected (the caller knows
 * why and says so).
 */
export function settledFileState(counts: InstanceCounts): { state: Exclude<SettledFileState, 'rejected'>; reason: string | undefined } | undefined {
  if (counts.accepted > 0) return { state: 'accepted', reason: partialReason(counts) };
  if (counts.held > 0) return { state: 'held', reason: heldForReviewReason };
  if (counts.duplicate > 0) return { state: 'duplicate', reason: counts.rejected > 0 ? partialReason(counts) : alreadyInLakeReason };
  return undefined;
}
