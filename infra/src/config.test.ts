import { describe, expect, it } from 'vitest';
import { cdkJsonContext } from './app';
import { ConfigError, stageConfig } from './config';

const reader = (overrides: Record<string, unknown> = {}) => {
  const context = { ...cdkJsonContext(), ...overrides };
  return (key: string) => context[key];
};

describe('stage settings from cdk.json context', () => {
  it('dev is disposable and cheap at idle; prod retains data and is protected', () => {
    const dev = stageConfig(reader());
    expect(dev).toMatchObject({ stage: 'dev', retainData: false, deletionProtection: false, minAcu: 0, databaseProxy: false, natGateways: 1 });
    const prod = stageConfig(reader({ stage: 'prod' }));
    expect(prod).toMatchObject({ stage: 'prod', retainData: true, deletionProtection: true, databaseProxy: true, readerInstance: true, interfaceEndpoints: true, logRetentionDays: 365 });
    expect(prod.minAcu).toBeGreaterThan(0);
    // A scheduled digest run reads the database every 15 minutes: dev's would never let Aurora pause.
    expect(dev.digestScheduleMinutes).toBe(0);
    expect(prod.digestScheduleMinutes).toBe(15);
  });

  it('-c values arrive as strings and override the stage defaults', () => {
    const config = stageConfig(reader({ stage: 'prod', maxAcu: '32', databaseProxy: 'false', extraUploadOrigins: 'http://localhost:5173, https://x.example' }));
    expect(config.maxAcu).toBe(32);
    expect(config.databaseProxy).toBe(false);
    expect(config.extraUploadOrigins).toEqual(['http://localhost:5173', 'https://x.example']);
  });

  it('refuses settings that cannot work, saying which and why', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ stage: 'Prod!' }, /lowercase/],
      [{ stage: 'qa' }, /No settings for stage "qa"/],
      [{ stage: 'prod', minAcu: '0' }, /cannot sit behind RDS Proxy/],
      [{ minAcu: '8', maxAcu: '4' }, /must not exceed/],
      [{ maxAcu: '2.3' }, /steps of 0.5/],
      [{ logRetentionDays: '45' }, /not a CloudWatch retention/],
      [{ mailFrom: 'nobody' }, /not an email address/],
      [{ domainName: 'x.example' }, /go together/],
      [{ retainData: 'yes' }, /true or false/],
      [{ digestScheduleMinutes: '7.5' }, /whole number of minutes/],
      [{ digestScheduleMinutes: '2000' }, /from 0 to 1440/],
    ];
    for (const [overrides, message] of cases) {
      expect(() => stageConfig(reader(overrides)), JSON.stringify(overrides)).toThrow(ConfigError);
      expect(() => stageConfig(reader(overrides))).toThrow(message);
    }
  });
});
