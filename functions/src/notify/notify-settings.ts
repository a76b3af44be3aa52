/**
 * Timing of subscription digests, from the environment (defaults: a burst is
 * over after two quiet minutes; at most one email per subscription and hour).
 */
import type { DigestSettings } from '@medlake/shared/subscriptions/digest-schedule';
import { defaultDigestSettings } from '@medlake/shared/subscriptions/digest-schedule';

export const notifyEnv = {
  quietSeconds: 'SUBSCRIPTION_DIGEST_QUIET_SECONDS',
  maxWaitSeconds: 'SUBSCRIPTION_DIGEST_MAX_WAIT_SECONDS',
  minIntervalSeconds: 'SUBSCRIPTION_DIGEST_MIN_INTERVAL_SECONDS',
} as const;

function seconds(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number of seconds (0 or more)`);
  return value;
}

export function digestSettings(env: NodeJS.ProcessEnv = process.env): DigestSettings {
  return {
    quietSeconds: seconds(env, notifyEnv.quietSeconds, defaultDigestSettings.quietSeconds),
    maxWaitSeconds: seconds(env, notifyEnv.maxWaitSeconds, defaultDigestSettings.maxWaitSeconds),
    minIntervalSeconds: seconds(env, notifyEnv.minIntervalSeconds, defaultDigestSettings.minIntervalSeconds),
  };
}
