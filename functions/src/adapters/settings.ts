/**
 * Tuning values from environment variables (limits, sizes, timings), read the
 * one way: unset or empty means the default; anything else must be a number
 * in its range, or the function stops with a sentence naming the variable and
 * what it accepts (a typo must not run as NaN or as a silent default).
 */

/** A setting that cannot be used as it is: the deployment's configuration must change. */
export class ConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigurationError';
  }
}

export interface SettingRange {
  default: number;
  min?: number;
  max?: number;
}

function rawValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const raw = env[name]?.trim();
  return raw === undefined || raw === '' ? undefined : raw;
}

function describeRange(kind: string, min: number, max: number): string {
  if (max === Number.MAX_SAFE_INTEGER || max === Number.POSITIVE_INFINITY) return `${kind} of at least ${min}`;
  return `${kind} from ${min} to ${max}`;
}

function parsed(env: NodeJS.ProcessEnv, name: string, range: Omit<SettingRange, 'default'>, whole: boolean): number | undefined {
  const raw = rawValue(env, name);
  if (raw === undefined) return undefined;
  const min = range.min ?? (whole ? Number.MIN_SAFE_INTEGER : Number.NEGATIVE_INFINITY);
  const max = range.max ?? (whole ? Number.MAX_SAFE_INTEGER : Number.POSITIVE_INFINITY);
  const value = Number(raw);
  const valid = Number.isFinite(value) && (!whole || Number.isSafeInteger(value)) && value >= min && value <= max;
  if (!valid) throw new ConfigurationError(`${name} must be ${describeRange(whole ? 'a whole number' : 'a number', min, max)} (it is "${raw}").`);
  return value;
}

/** A whole number (counts, bytes, seconds): fractions are refused rather than rounded. */
export function integerSetting(env: NodeJS.ProcessEnv, name: string, range: SettingRange): number {
  return parsed(env, name, range, true) ?? range.default;
}

/** A number that may have a fraction (seconds of a timing). */
export function numberSetting(env: NodeJS.ProcessEnv, name: string, range: SettingRange): number {
  return parsed(env, name, range, false) ?? range.default;
}

/** A number with no default: undefined when the variable is unset. */
export function optionalNumberSetting(env: NodeJS.ProcessEnv, name: string, range: Omit<SettingRange, 'default'>): number | undefined {
  return parsed(env, name, range, false);
}
