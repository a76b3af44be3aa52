/**
 * Writes localstack/init/ready.d/10-medlake-resources.sh and localstack/medlake.env
 * from shared/src/resources.ts (infra/src/localstack.ts). Run after changing a
 * bucket, queue or notification there.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { envFilePath, initHookPath, renderEnvFile, renderInitHook } from '../src/localstack';

mkdirSync(dirname(initHookPath), { recursive: true });
writeFileSync(initHookPath, renderInitHook());
chmodSync(initHookPath, 0o755);
writeFileSync(envFilePath, renderEnvFile());
console.log(`wrote ${initHookPath}\nwrote ${envFilePath}`);
