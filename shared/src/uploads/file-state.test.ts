import { describe, expect, it } from 'vitest';
import { alreadyInLakeReason, heldForReviewReason, settledFileState } from './file-state';

describe('settledFileState', () => {
  it.each([
    [{ accepted: 1, duplicate: 0, rejected: 0, held: 0 }, { state: 'accepted', reason: undefined }],
    [{ accepted: 1, duplicate: 0, rejected: 0, held: 1 }, { state: 'accepted', reason: 'Of 2 instances: 1 held for review.' }],
    [{ accepted: 0, duplicate: 1, rejected: 0, held: 1 }, { state: 'held', reason: heldForReviewReason }],
    [{ accepted: 0, duplicate: 2, rejected: 0, held: 0 }, { state: 'duplicate', reason: alreadyInLakeReason }],
    [{ accepted: 0, duplicate: 1, rejected: 1, held: 0 }, { state: 'duplicate', reason: 'Of 2 instances: 1 already in the lake, 1 rejected.' }],
  ])('%j is %j', (counts, expected) => expect(settledFileState(counts)).toEqual(expected));

  it('leaves an all-rejected file to its caller, who knows why', () => {
    expect(settledFileState({ accepted: 0, duplicate: 0, rejected: 3, held: 0 })).toBeUndefined();
  });
});
