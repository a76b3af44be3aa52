/**
 * What the report pipeline needs, wired once per container: a PostgreSQL
 * pool, the de-identification key and options (the same pseudonyms and date
 * shifts as the images) and the PHI vault (originals of reports).
 */
import type pg from 'pg';
import type { DeidOptions } from '@medlake/shared/dicom/options';
import { parseDeidOptions } from '@medlake/shared/dicom/options';
import { envNames } from '@medlake/shared/resources';
import { databasePool } from '../adapters/database';
import { deidKey } from '../adapters/deid-key';
import type { PhiVault } from '../adapters/phi-vault';
import { phiVaultFromEnv } from '../adapters/phi-vault';

export interface ReportContext {
  db: pg.Pool;
  key: Uint8Array;
  deidOptions: DeidOptions;
  vault: PhiVault;
}

export async function reportContextFromEnv(env: NodeJS.ProcessEnv = process.env, db: pg.Pool = databasePool(env)): Promise<ReportContext> {
  const [key, vault] = await Promise.all([deidKey(env), phiVaultFromEnv(env)]);
  return { db, key, vault, deidOptions: parseDeidOptions(env[envNames.deidOptions]) };
}

/** The report context of the ingest worker: its pool, key and options, the container's vault. */
export async function reportContextFor(ingest: { db: pg.Pool; key: Uint8Array; deidOptions: DeidOptions }, env: NodeJS.ProcessEnv = process.env): Promise<ReportContext> {
  return { db: ingest.db, key: ingest.key, deidOptions: ingest.deidOptions, vault: await phiVaultFromEnv(env) };
}
