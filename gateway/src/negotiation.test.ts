import { describe, expect, it } from 'vitest';
import { chooseTransferSyntax, isAcceptedAbstractSyntax } from './storage-sop-classes';

describe('presentation context negotiation', () => {
  it.each([
    [['1.2.840.10008.1.2.4.80', '1.2.840.10008.1.2.1'], '1.2.840.10008.1.2.4.80'],
    [['1.2.840.10008.1.2.1', '1.2.840.10008.1.2'], '1.2.840.10008.1.2.1'],
    [['1.2.840.10008.1.2.4.100', '1.2.840.10008.1.2\0'], '1.2.840.10008.1.2'],
    [['1.2.840.10008.1.2.4.100'], undefined],
  ])('proposed %j → %s (the sender\'s first choice we store as is)', (proposed, chosen) => {
    expect(chooseTransferSyntax(proposed)).toBe(chosen);
  });

  it.each([
    ['1.2.840.10008.1.1', true],
    ['1.2.840.10008.5.1.4.1.1.2', true],
    ['1.2.840.10008.5.1.4.1.1.4.1', true],
    ['1.2.840.10008.5.1.4.1.1.66.4', true],
    ['1.2.840.10008.5.1.4.1.1.88.22', true],
    ['1.2.840.10008.5.1.4.1.2.2.1', false],
    ['1.3.6.1.4.1.9999.1', false],
  ])('abstract syntax %s accepted: %s', (uid, accepted) => {
    expect(isAcceptedAbstractSyntax(uid)).toBe(accepted);
  });
});
