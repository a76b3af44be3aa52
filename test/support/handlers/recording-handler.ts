/**
 * A queue handler for the harness's own tests: records every invocation (the
 * SQSEvent exactly as received) where the test can read it, and fails on
 * demand. Function instances are processes of their own, so invocations are
 * appended to a file (one JSON line each) named by MEDLAKE_RECORDING_FILE,
 * which importing this module in the test sets before the stack starts (the
 * instances inherit it). Driven by the message body:
 *   {"fail": "always"}      → reported in batchItemFailures every time
 *   {"fail": "first"}       → reported on its first receive only
 *   {"throw": true}         → the whole invocation throws
 *   {"holdMs": 300}         → the invocation takes that long (concurrency tests)
 *   {"crash": "first"}      → the function instance dies (exits) on the message's first receive
 * S3 event messages (anything else) succeed.
 */
import { appendFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';

export interface Invocation {
  event: SQSEvent;
  remainingMs: number;
  /** The function instance (process) that ran it. */
  pid: number;
  startedAt: number;
}

if (!process.env.MEDLAKE_RECORDING_FILE) {
  const file = join(tmpdir(), `medlake-recorded-${process.pid}-${Date.now()}.jsonl`);
  process.env.MEDLAKE_RECORDING_FILE = file;
  // The test's process owns the file; instances only append to it.
  process.once('exit', () => rmSync(file, { force: true }));
}
const recordingFile = process.env.MEDLAKE_RECORDING_FILE;

/** Every invocation so far, in the order they started. */
export function recordedInvocations(): Invocation[] {
  if (!existsSync(recordingFile)) return [];
  return readFileSync(recordingFile, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Invocation);
}

interface Instruction { fail?: 'always' | 'first'; throw?: boolean; holdMs?: number; crash?: 'first' }

function instruction(body: string): Instruction {
  try {
    const parsed = JSON.parse(body) as unknown;
    return typeof parsed === 'object' && parsed !== null ? (parsed as Instruction) : {};
  } catch {
    return {};
  }
}

export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  // One appending write per invocation: lines of concurrent instances do not interleave.
  appendFileSync(recordingFile, `${JSON.stringify({ event, remainingMs: context.getRemainingTimeInMillis(), pid: process.pid, startedAt: Date.now() } satisfies Invocation)}\n`);
  if (event.Records.some((r) => instruction(r.body).throw)) throw new Error('recording handler asked to throw');
  if (event.Records.some((r) => instruction(r.body).crash === 'first' && r.attributes.ApproximateReceiveCount === '1')) process.exit(3);
  const holdMs = Math.max(0, ...event.Records.map((r) => instruction(r.body).holdMs ?? 0));
  if (holdMs > 0) await new Promise((resolve) => setTimeout(resolve, holdMs));
  const failures = event.Records.filter((r) => {
    const { fail } = instruction(r.body);
    return fail === 'always' || (fail === 'first' && r.attributes.ApproximateReceiveCount === '1');
  });
  return { batchItemFailures: failures.map((r) => ({ itemIdentifier: r.messageId })) };
}
