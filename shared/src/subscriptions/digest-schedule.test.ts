import { describe, expect, it } from 'vitest';
import type { DigestSettings } from './digest-schedule';
import { digestDecision } from './digest-schedule';

const settings: DigestSettings = { quietSeconds: 120, maxWaitSeconds: 3600, minIntervalSeconds: 3600 };
const t0 = new Date('2026-11-20T10:00:00Z');
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);

describe('digest schedule', () => {
  it('nothing waiting: idle', () => {
    expect(digestDecision(t0, undefined, undefined, settings)).toEqual({ kind: 'idle' });
    expect(digestDecision(t0, { count: 0, newestChangeAt: t0, pendingSince: undefined }, undefined, settings)).toEqual({ kind: 'idle' });
  });

  it('a burst still arriving waits until it has been quiet for quietSeconds', () => {
    expect(digestDecision(at(30), { count: 3, newestChangeAt: at(25), pendingSince: at(10) }, undefined, settings)).toEqual({ kind: 'wait', until: at(145) });
  });

  it('quiet long enough: send', () => {
    expect(digestDecision(at(200), { count: 3, newestChangeAt: at(60), pendingSince: at(10) }, undefined, settings)).toEqual({ kind: 'send' });
    expect(digestDecision(at(180), { count: 1, newestChangeAt: at(60), pendingSince: undefined }, undefined, settings)).toEqual({ kind: 'send' });
  });

  it('a burst that never settles is sent after maxWaitSeconds from when studies were first seen waiting', () => {
    expect(digestDecision(at(3599), { count: 90, newestChangeAt: at(3598), pendingSince: at(0) }, undefined, settings)).toEqual({ kind: 'wait', until: at(3600) });
    expect(digestDecision(at(3600), { count: 90, newestChangeAt: at(3599), pendingSince: at(0) }, undefined, settings)).toEqual({ kind: 'send' });
  });

  it('first sight of waiting studies starts the maximum wait now', () => {
    expect(digestDecision(at(100), { count: 1, newestChangeAt: at(99), pendingSince: undefined }, undefined, { ...settings, quietSeconds: 7200 })).toEqual({ kind: 'wait', until: at(3700) });
  });

  it('at most one digest per minIntervalSeconds', () => {
    expect(digestDecision(at(600), { count: 2, newestChangeAt: at(100), pendingSince: at(100) }, at(0), settings)).toEqual({ kind: 'wait', until: at(3600) });
    expect(digestDecision(at(3600), { count: 2, newestChangeAt: at(100), pendingSince: at(100) }, at(0), settings)).toEqual({ kind: 'send' });
  });

  it('zero timings send at once', () => {
    expect(digestDecision(t0, { count: 1, newestChangeAt: t0, pendingSince: undefined }, t0, { quietSeconds: 0, maxWaitSeconds: 0, minIntervalSeconds: 0 })).toEqual({ kind: 'send' });
  });
});
