/**
 * The S3 and SQS work of ingest without ingest: per file, what the pipeline
 * asks of S3 and SQS — a presigned PUT into quarantine (as upload clients
 * do), its S3 event on a queue, the receive, the GET the ingest function reads
 * it with (Quarantine.read: SHA-256 while reading), the archive PUT
 * (Archive.put, checksum known) and the delete — with no de-identification,
 * no index and no vault. Objects go under `ceiling/` (no S3 event rule there)
 * and their events onto a queue of their own, sent by the producers with the
 * body S3 would send, so no ingest function picks them up.
 * The uploads run first, then the processing, so each sees the emulator as
 * in a real ingest (events waiting on the queue, received ten at a time). On
 * this machine the emulator, the clients and the consumers share two cores:
 * the CPU these requests cost per file bounds what an end-to-end ingest can
 * reach through the local S3 and SQS, and the ingest row next to it shows how
 * close it comes.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, DeleteMessageBatchCommand, DeleteQueueCommand, ReceiveMessageCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import pLimit from 'p-limit';
import { Archive } from '@medlake/functions/adapters/archive';
import { Quarantine } from '@medlake/functions/adapters/quarantine';
import { localCredentials, region } from '@medlake/local/stack';

export interface IngestCeilingInput {
  endpoint: string;
  quarantineBucket: string;
  archiveBucket: string;
  files: readonly { bytes: Buffer }[];
  /** Uploading clients, as in the ingest workload. */
  clients: number;
  /** Consumers, as many as ingest function instances, each with `inFlight` files at once (the handler's concurrency). */
  consumers: number;
  inFlight: number;
}

export interface IngestCeiling {
  /** Both phases: the uploads (with their events), then reading and archiving every file. */
  seconds: number;
  uploadSeconds: number;
  processSeconds: number;
  files: number;
}

/** An S3 ObjectCreated event as S3 (and the local bridge) puts it on the ingest queue. */
function objectCreatedEvent(bucket: string, key: string, size: number): string {
  return JSON.stringify({ Records: [{ eventVersion: '2.1', eventSource: 'aws:s3', awsRegion: region, eventName: 'ObjectCreated:Put', s3: { bucket: { name: bucket }, object: { key, size } } }] });
}

export async function measureIngestCeiling(input: IngestCeilingInput): Promise<IngestCeiling> {
  const s3 = new S3Client({ endpoint: input.endpoint, region, credentials: localCredentials, forcePathStyle: true });
  const presigner = new S3Client({ endpoint: input.endpoint, region, credentials: localCredentials, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' });
  const sqs = new SQSClient({ endpoint: input.endpoint, region, credentials: localCredentials });
  const quarantine = new Quarantine(input.quarantineBucket, s3, presigner);
  const archive = new Archive(input.archiveBucket, s3);
  const run = `ceiling/${Date.now()}`;
  const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `bench-ingest-ceiling-${Date.now()}`, Attributes: { VisibilityTimeout: '120' } }))).QueueUrl as string;
  try {
    // Uploads first, then their processing: each part then sees what it sees in a real ingest (a queue with events
    // waiting, received ten at a time) rather than one event per receive, which would cost the emulator more per file.
    const started = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: input.clients }, async () => {
      const events: { Id: string; MessageBody: string }[] = [];
      const flush = async () => {
        if (events.length > 0) await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: events.splice(0) }));
      };
      while (next < input.files.length) {
        const i = next++;
        const bytes = (input.files[i] as { bytes: Buffer }).bytes;
        const key = `${run}/${i}.dcm`;
        const put = await quarantine.presignPut(key, bytes.length, 900);
        const res = await fetch(put.url, { method: 'PUT', body: bytes, headers: put.headers });
        if (!res.ok) throw new Error(`PUT failed: ${res.status}`);
        await res.arrayBuffer();
        // S3 sends its events one by one; ten to a request here, so the client's SQS calls stay a small part.
        events.push({ Id: String(i), MessageBody: objectCreatedEvent(input.quarantineBucket, key, bytes.length) });
        if (events.length === 10) await flush();
      }
      await flush();
    }));
    const uploaded = performance.now();
    let consumed = 0;
    await Promise.all(Array.from({ length: input.consumers }, async () => {
      const limit = pLimit(input.inFlight);
      while (consumed < input.files.length) {
        const { Messages: messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
        await Promise.all(messages.map((m) => limit(async () => {
          const event = JSON.parse(m.Body ?? '{}') as { Records: { s3: { object: { key: string } } }[] };
          const key = event.Records[0]?.s3.object.key ?? '';
          const object = await quarantine.read(input.quarantineBucket, key, 256 * 1024 * 1024);
          if (object.kind !== 'memory') throw new Error('expected an object in memory');
          await archive.put(key, object.bytes, object.sha256);
        })));
        if (messages.length > 0) {
          await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })) }));
          consumed += messages.length;
        }
      }
    }));
    const done = performance.now();
    return { seconds: (done - started) / 1000, uploadSeconds: (uploaded - started) / 1000, processSeconds: (done - uploaded) / 1000, files: consumed };
  } finally {
    await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl })).catch(() => undefined);
    s3.destroy();
    presigner.destroy();
    sqs.destroy();
  }
}
