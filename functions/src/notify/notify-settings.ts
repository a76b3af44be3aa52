/**
 * Timing of subscription digests, from the environment (defaults: a burst is
 * over after two quiet minutes; at most one email per subscription and hour).
 */
import type { DigestSettings } from '@medlake/shared/subscriptions/digest-schedule';
import { defaultDigestSettings } from '@medlake/shared/subscriptions/digest-schedule';
import { numberSetting } from '../adapters/settings';

export const notifyEnv = {
  quietSeconds: 'SUBSCRIPTION_DIGEST_QUIET_SECONDS',
  maxWaitSeconds: 'SUBSCRIPTION_DIGEST_MAX_WAIT_SECONDS',
  minIntervalSeconds: 'SUBSCRIPTION_DIGEST_MIN_INTERVAL_SECONDS',
} as const;

export function digestSettings(env: NodeJS.ProcessEnv = process.env): DigestSettings {
  return {
    quietSeconds: numberSetting(env, notifyEnv.quietSeconds, { default: defaultDigestSettings.quietSeconds, min: 0 }),
    maxWaitSeconds: numberSetting(env, notifyEnv.maxWaitSeconds, { default: defaultDigestSettings.maxWaitSeconds, min: 0 }),
    minIntervalSeconds: numberSetting(env, notifyEnv.minIntervalSeconds, { default: defaultDigestSettings.minIntervalSeconds, min: 0 }),
  };
}
