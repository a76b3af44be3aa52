/**
 * The key of unsubscribe tokens, derived from the de-identification key the
 * deployment already keeps (a file locally, Secrets Manager in AWS): no new
 * secret to provision or rotate, and HKDF keeps the two uses apart (a token
 * reveals nothing about the de-identification key).
 */
import { unsubscribeKey } from '@medlake/shared/subscriptions/unsubscribe-token';
import { deidKey } from '../adapters/deid-key';

export async function unsubscribeKeyFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<Uint8Array> {
  return unsubscribeKey(await deidKey(env));
}
