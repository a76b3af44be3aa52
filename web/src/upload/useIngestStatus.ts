/** Polls `GET /api/uploads/{id}` for the uploads still settling, every two seconds. */
import { useEffect, useRef, useState } from 'react';
import type { UploadStatus } from '../api/uploads';
import { fetchUpload } from '../api/uploads';
import type { FileProgress } from './engine';
import { uploadsToWatch } from './ingest';

export function useIngestStatus(files: readonly FileProgress[], intervalMs = 2_000): ReadonlyMap<string, UploadStatus> {
  const [statuses, setStatuses] = useState<ReadonlyMap<string, UploadStatus>>(new Map());
  const latest = useRef({ files, statuses });
  latest.current = { files, statuses };
  const watching = uploadsToWatch(files, statuses).join(',');

  useEffect(() => {
    if (!watching) return;
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      const ids = uploadsToWatch(latest.current.files, latest.current.statuses);
      const answers = await Promise.all(ids.map((id) => fetchUpload(id, controller.signal).catch(() => undefined)));
      if (controller.signal.aborted) return;
      setStatuses((previous) => {
        const next = new Map(previous);
        for (const answer of answers) if (answer) next.set(answer.uploadId, answer);
        return next;
      });
      timer = setTimeout(() => void poll(), intervalMs);
    };
    timer = setTimeout(() => void poll(), 300);
    return () => {
      controller.abort();
      if (timer) clearTimeout(timer);
    };
  }, [watching, intervalMs]);

  return statuses;
}
