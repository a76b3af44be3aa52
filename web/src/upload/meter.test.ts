import { describe, expect, it } from 'vitest';
import { TransferMeter, formatBytes, formatDuration, formatSpeed } from './meter';

function meterWithClock(windowMs = 5_000) {
  let now = 0;
  const meter = new TransferMeter(windowMs, () => now);
  return { meter, advance: (ms: number) => (now += ms) };
}

describe('TransferMeter', () => {
  it('knows no speed before a second of samples', () => {
    const { meter, advance } = meterWithClock();
    meter.record(0);
    advance(500);
    meter.record(1_000_000);
    expect(meter.bytesPerSecond()).toBeUndefined();
    expect(meter.etaSeconds(5_000_000)).toBeUndefined();
  });

  it('measures a steady rate and the time left at that rate', () => {
    const { meter, advance } = meterWithClock();
    for (let second = 0; second <= 4; second++) {
      meter.record(second * 2_000_000);
      advance(1_000);
    }
    expect(meter.bytesPerSecond()).toBeCloseTo(2_000_000);
    expect(meter.etaSeconds(10_000_000)).toBeCloseTo(5);
    expect(meter.etaSeconds(0)).toBe(0);
  });

  it('follows a change of speed within its window and forgets older samples', () => {
    const { meter, advance } = meterWithClock(3_000);
    let done = 0;
    for (let i = 0; i < 10; i++) {
      meter.record(done);
      done += 10_000_000;
      advance(1_000);
    }
    expect(meter.bytesPerSecond()).toBeCloseTo(10_000_000);
    for (let i = 0; i < 4; i++) {
      meter.record(done);
      done += 1_000_000;
      advance(1_000);
    }
    // Only the last three seconds count: the slow rate, not an average with the fast one.
    expect(meter.bytesPerSecond()).toBeCloseTo(1_000_000);
  });

  it('does not report a negative speed when a failed part starts over', () => {
    const { meter, advance } = meterWithClock();
    meter.record(5_000_000);
    advance(1_500);
    meter.record(1_000_000);
    expect(meter.bytesPerSecond()).toBe(0);
    expect(meter.etaSeconds(1)).toBeUndefined();
  });
});

describe('formatting', () => {
  it('sizes in decimal units, as browsers show them (the rule itself: shared/src/byte-size.ts)', () => {
    expect(formatBytes(52_400_000)).toBe('52 MB');
  });

  it.each([
    [undefined, '–'],
    [0.4, '0 s'],
    [45, '45 s'],
    [200, '3 min 20 s'],
    [3_900, '1 h 05 min'],
  ])('formatDuration(%s) = %s', (seconds, text) => expect(formatDuration(seconds)).toBe(text));

  it('writes speeds per second', () => {
    expect(formatSpeed(2_500_000)).toBe('2.5 MB/s');
    expect(formatSpeed(undefined)).toBe('–');
  });
});
