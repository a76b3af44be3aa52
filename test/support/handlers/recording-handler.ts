/**
 * A queue handler for the harness's own tests: records every invocation (the
 * SQSEvent exactly as received) where the test can read it, and fails on
 * demand, driven by the message body:
 *   {"fail": "always"}      → reported in batchItemFailures every time
 *   {"fail": "first"}       → reported on its first receive only
 *   {"throw": true}         → the whole invocation throws
 * S3 event messages (anything else) succeed.
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';

export interface Invocation {
  event: SQSEvent;
  remainingMs: number;
}

const registry = globalThis as unknown as { medlakeRecordedInvocations?: Invocation[] };

export function recordedInvocations(): Invocation[] {
  registry.medlakeRecordedInvocations ??= [];
  return registry.medlakeRecordedInvocations;
}

function instruction(body: string): { fail?: 'always' | 'first'; throw?: boolean } {
  try {
    const parsed = JSON.parse(body) as unknown;
    return typeof parsed === 'object' && parsed !== null ? (parsed as { fail?: 'always' | 'first'; throw?: boolean }) : {};
  } catch {
    return {};
  }
}

export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  recordedInvocations().push({ event: structuredClone(event), remainingMs: context.getRemainingTimeInMillis() });
  if (event.Records.some((r) => instruction(r.body).throw)) throw new Error('recording handler asked to throw');
  const failures = event.Records.filter((r) => {
    const { fail } = instruction(r.body);
    return fail === 'always' || (fail === 'first' && r.attributes.ApproximateReceiveCount === '1');
  });
  return { batchItemFailures: failures.map((r) => ({ itemIdentifier: r.messageId })) };
}
