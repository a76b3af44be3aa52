/**
 * The tuning variables the handlers read, with the values the AWS stack sets
 * on each function (the catalog's `settings` groups). Values come from the
 * handlers' own settings parsers, called with no environment, so a default
 * changed in the code is the value deployed next time; only what must differ
 * in AWS (memory-derived budgets) is computed here. Every variable is in the
 * configuration table of README.md, and the infra tests check that each
 * function gets exactly the groups its bundle reads.
 */
import { exportEnv, exportSettings } from '@medlake/functions/export/export-settings';
import { ingestEnv, ingestSettings } from '@medlake/functions/ingest/ingest-settings';
import { uploadEnv, uploadSettings } from '@medlake/functions/ingest/upload-policy';
import { notifyEnv, digestSettings } from '@medlake/functions/notify/notify-settings';
import { maxReidentificationsPerHour, reidentifyEnv } from '@medlake/functions/api/reidentify';

export type SettingGroup = 'uploads' | 'ingest' | 'digests' | 'exports' | 'reidentify' | 'frame-cache';

/** functions/src/dicomweb/frame-cache.ts reads it by name. */
export const frameCacheEnv = 'DICOMWEB_FRAME_CACHE_MB';

const MiB = 1024 * 1024;

/**
 * Variables no AWS function gets, and why: the infra tests accept them in a
 * bundle without a value in the function's environment.
 */
export const settingsLeftUnset: Record<string, string> = {
  [exportEnv.maxRunSeconds]: 'stops export runs early; for tests of continuation only',
  [ingestEnv.deidOptions]: 'an optional override of the de-identification options; unset, the standard profile applies',
};

/** The variables of each group, by name (also what the tests look for in the bundles). */
export const settingGroupVariables: Record<SettingGroup, readonly string[]> = {
  uploads: Object.values(uploadEnv),
  ingest: Object.values(ingestEnv).filter((name) => !(name in settingsLeftUnset)),
  digests: Object.values(notifyEnv),
  exports: Object.values(exportEnv).filter((name) => !(name in settingsLeftUnset)),
  reidentify: Object.values(reidentifyEnv),
  'frame-cache': [frameCacheEnv],
};

/** Each variable of `env` with the setting of the same name (a setting named or computed otherwise is given under that name). */
function byName<K extends string>(env: Readonly<Record<K, string>>, settings: Readonly<Record<NoInfer<K>, number>>): Record<string, number> {
  return Object.fromEntries(Object.entries<string>(env).map(([key, name]) => [name, settings[key as K]]));
}

function groupValues(group: SettingGroup, memoryMb: number): Record<string, number> {
  switch (group) {
    case 'uploads':
      return byName(uploadEnv, uploadSettings({}));
    case 'ingest': {
      const s = ingestSettings({});
      const { deidOptions: _unset, ...env } = ingestEnv;
      return byName(env, {
        ...s,
        // Objects in memory at once: the default (1 GiB) where a third of the function's memory allows it.
        memoryBudgetBytes: Math.min(s.memoryBudgetBytes, Math.floor(memoryMb / 3) * MiB),
        zipMaxEntries: s.zip.maxEntries,
        zipMaxTotalBytes: s.zip.maxTotalBytes,
        zipMaxRatio: s.zip.maxRatio,
        zipMaxDepth: s.zip.maxDepth,
        batchSize: s.indexBatchSize,
      });
    }
    case 'digests':
      return byName(notifyEnv, digestSettings({}));
    case 'exports': {
      // With no S3 endpoint override: the real S3's part size (64 MiB), not the emulator's.
      const s = exportSettings({});
      const { maxRunSeconds: _unset, ...env } = exportEnv;
      return byName(env, { ...s, checkpointMarginSeconds: s.checkpointMarginMs / 1000 });
    }
    case 'reidentify':
      return { [reidentifyEnv.maxPerHour]: maxReidentificationsPerHour({}) };
    case 'frame-cache':
      // A quarter of the function's memory for recently served byte ranges.
      return { [frameCacheEnv]: Math.floor(memoryMb / 4) };
  }
}

/** The environment variables of a function's setting groups. */
export function settingsEnvironment(groups: readonly SettingGroup[], memoryMb: number): Record<string, string> {
  const env: Record<string, string> = {};
  for (const group of groups) {
    const values = groupValues(group, memoryMb);
    const missing = settingGroupVariables[group].filter((name) => !(name in values));
    if (missing.length > 0) throw new Error(`setting group ${group} has no value for ${missing.join(', ')}`);
    for (const [name, value] of Object.entries(values)) env[name] = String(value);
  }
  return env;
}
