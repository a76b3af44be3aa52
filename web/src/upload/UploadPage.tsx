/**
 * The upload page: drop files, folders or zips (or pick them), watch them go
 * straight to storage with per-file and total progress, speed and time left,
 * then follow what the lake's ingest made of each file.
 */
import { Alert, Anchor, Badge, Button, FileButton, Group, Paper, Progress, SegmentedControl, Stack, Table, Text, Title, Tooltip } from '@mantine/core';
import { Dropzone } from '@mantine/dropzone';
import { useQueryClient } from '@tanstack/react-query';
import type { FileWithPath } from '@mantine/dropzone';
import { IconAlertTriangle, IconCloudUpload, IconFile, IconFolder, IconPlayerStop, IconRefresh } from '@tabler/icons-react';
import { useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import { Link } from 'react-router';
import { useSession } from '../session/SessionProvider';
import { can } from '../session/permissions';
import { pendingResumes } from './resume-store';
import type { FileProgress, TransferState } from './engine';
import type { PickedFile } from './files';
import { collect, filesFromDataTransfer, filesFromInput } from './files';
import type { UploadRow } from './ingest';
import { ingestLabels, joinIngest, summarizeIngest } from './ingest';
import { TransferMeter, formatBytes, formatDuration, formatSpeed } from './meter';
import { RecentUploads } from './RecentUploads';
import { throttledSubscribe, uploadEngineFor } from './session';
import { useIngestStatus } from './useIngestStatus';

/** Paths of dropped files, kept beside the File objects react-dropzone passes on. */
const droppedPaths = new WeakMap<File, string>();

async function filesFromDropEvent(event: unknown): Promise<(File | DataTransferItem)[]> {
  const dragEvent = event as DragEvent;
  if (dragEvent.dataTransfer) {
    // While dragging only the item kinds are readable; the files come with the drop.
    if (dragEvent.type !== 'drop') return Array.from(dragEvent.dataTransfer.items).filter((item) => item.kind === 'file');
    const picked = await filesFromDataTransfer(dragEvent.dataTransfer);
    for (const p of picked) droppedPaths.set(p.file, p.path);
    return picked.map((p) => p.file);
  }
  const input = (event as Event).target as HTMLInputElement | null;
  if (input?.files) return Array.from(input.files);
  return [];
}

const transferLabels: Record<TransferState, { label: string; color: string }> = {
  queued: { label: 'queued', color: 'gray' },
  preparing: { label: 'preparing', color: 'gray' },
  uploading: { label: 'uploading', color: 'cyan' },
  retrying: { label: 'retrying', color: 'orange' },
  'waiting-network': { label: 'offline, waiting', color: 'orange' },
  uploaded: { label: 'sent', color: 'teal' },
  failed: { label: 'failed', color: 'red' },
  cancelled: { label: 'stopped', color: 'gray' },
};

type View = 'all' | 'active' | 'problems';
const pageSize = 100;

function isProblem(row: UploadRow): boolean {
  return row.state === 'failed' || row.ingest?.state === 'rejected' || row.ingest?.state === 'held';
}

function isActive(row: FileProgress): boolean {
  return ['queued', 'preparing', 'uploading', 'retrying', 'waiting-network'].includes(row.state);
}

function FileRow({ row }: { row: UploadRow }) {
  const transfer = transferLabels[row.state];
  const percent = row.sizeBytes ? (row.loadedBytes / row.sizeBytes) * 100 : 0;
  const ingest = row.ingest ? ingestLabels[row.ingest.state] : undefined;
  return (
    <Table.Tr>
      <Table.Td maw={420}>
        <Tooltip label={row.path} openDelay={400}>
          <Text size="sm" truncate>
            {row.path}
          </Text>
        </Tooltip>
      </Table.Td>
      <Table.Td ta="right" style={{ whiteSpace: 'nowrap' }}>
        {formatBytes(row.sizeBytes)}
      </Table.Td>
      <Table.Td w={220}>
        {row.state === 'uploading' || row.state === 'retrying' ? (
          <Progress value={percent} size="lg" aria-label={`${row.path}: ${Math.round(percent)}% sent`} />
        ) : (
          <Badge color={transfer.color} variant="light">
            {transfer.label}
          </Badge>
        )}
        {row.message ? (
          <Text size="xs" c={row.state === 'failed' ? 'red' : 'dimmed'} mt={2}>
            {row.message}
          </Text>
        ) : null}
      </Table.Td>
      <Table.Td>
        {ingest ? (
          <Badge color={ingest.color} variant={row.ingest?.state === 'accepted' ? 'filled' : 'light'}>
            {ingest.label}
          </Badge>
        ) : row.state === 'uploaded' ? (
          <Badge color="gray" variant="light">
            waiting for ingest
          </Badge>
        ) : (
          <Text size="sm" c="dimmed">
            –
          </Text>
        )}
        {row.ingest?.reason ? (
          <Text size="xs" c={row.ingest.state === 'rejected' ? 'red.4' : 'yellow.4'} mt={2}>
            {row.ingest.reason}
          </Text>
        ) : null}
      </Table.Td>
      <Table.Td ta="right" style={{ whiteSpace: 'nowrap' }}>
        {row.ingest ? (
          <Tooltip label={`${row.ingest.instances.accepted} accepted, ${row.ingest.instances.duplicate} already there, ${row.ingest.instances.rejected} rejected, ${row.ingest.instances.held} held`}>
            <span>{row.ingest.instances.accepted + row.ingest.instances.duplicate}</span>
          </Tooltip>
        ) : (
          ''
        )}
      </Table.Td>
    </Table.Tr>
  );
}

export function UploadPage() {
  const { me } = useSession();
  const owner = me?.sub ?? 'anonymous';
  const engine = useMemo(() => uploadEngineFor(owner), [owner]);
  const subscribe = useMemo(() => throttledSubscribe(engine), [engine]);
  const snapshot = useSyncExternalStore(subscribe, () => engine.snapshot());
  const statuses = useIngestStatus(snapshot.files);
  const rows = useMemo(() => joinIngest(snapshot.files, statuses), [snapshot.files, statuses]);
  const summary = useMemo(() => summarizeIngest(rows), [rows]);
  const meter = useRef(new TransferMeter());
  const [skipped, setSkipped] = useState(0);
  const [view, setView] = useState<View>('all');
  const [shown, setShown] = useState(pageSize);
  const [resumable, setResumable] = useState(() => pendingResumes(owner));

  const queryClient = useQueryClient();
  useEffect(() => {
    document.title = 'Upload · medlake';
  }, []);
  // New uploads and newly ingested studies show in the lists at once.
  const uploadCount = snapshot.uploadIds.length;
  useEffect(() => {
    if (uploadCount > 0) void queryClient.invalidateQueries({ queryKey: ['uploads'] });
  }, [uploadCount, queryClient]);
  const settled = summary.accepted + summary.duplicate + summary.rejected + summary.held;
  useEffect(() => {
    if (settled > 0) {
      void queryClient.invalidateQueries({ queryKey: ['uploads'] });
      void queryClient.invalidateQueries({ queryKey: ['studies'] });
    }
  }, [settled, queryClient]);
  useEffect(() => {
    meter.current.record(snapshot.loadedBytes);
  }, [snapshot.loadedBytes]);
  const transferring = snapshot.counts.queued + snapshot.counts.preparing + snapshot.counts.uploading + snapshot.counts.retrying + snapshot.counts['waiting-network'] > 0;
  useEffect(() => {
    if (!transferring) {
      meter.current.reset();
      setResumable(pendingResumes(owner));
      return;
    }
    // Closing the tab would stop the transfers: ask first.
    const warn = (event: BeforeUnloadEvent) => event.preventDefault();
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, [transferring, owner]);

  const add = (picked: PickedFile[]) => {
    const collected = collect(picked);
    setSkipped((n) => n + collected.skipped);
    engine.add(collected.files);
  };
  const onDrop = (files: FileWithPath[]) => add(files.map((file) => ({ file, path: droppedPaths.get(file) ?? file.webkitRelativePath ?? file.path ?? file.name })));

  const speed = meter.current.bytesPerSecond();
  const left = snapshot.totalBytes - snapshot.loadedBytes;
  const eta = transferring ? meter.current.etaSeconds(left) : undefined;
  const totalPercent = snapshot.totalBytes ? (snapshot.loadedBytes / snapshot.totalBytes) * 100 : 0;
  const filtered = rows.filter((row) => (view === 'all' ? true : view === 'active' ? isActive(row) : isProblem(row)));
  const problems = rows.filter(isProblem).length;
  const canBrowse = can(me, 'studies:read');
  const stillResumable = resumable.filter((r) => !snapshot.files.some((f) => f.uploadId === r.uploadId && f.index === r.index));

  return (
    <Stack gap="md">
      <Title order={1} size="h3">
        Upload DICOM
      </Title>
      {stillResumable.length > 0 && !transferring ? (
        <Alert color="yellow" variant="light" title="Unfinished uploads" icon={<IconAlertTriangle size={18} />}>
          {stillResumable.length} large {stillResumable.length === 1 ? 'file was' : 'files were'} not finished ({stillResumable.map((r) => r.label).slice(0, 5).join('; ')}
          {stillResumable.length > 5 ? '; …' : ''}). Drop the same files or folder again: they continue where they stopped.
        </Alert>
      ) : null}
      <Dropzone onDrop={onDrop} getFilesFromEvent={filesFromDropEvent} multiple activateOnClick={false} aria-label="Drop DICOM files, folders or zips here" useFsAccessApi={false}>
        <Group justify="center" gap="xl" mih={150} style={{ pointerEvents: 'none' }}>
          <Dropzone.Accept>
            <IconCloudUpload size={52} color="var(--mantine-color-cyan-5)" />
          </Dropzone.Accept>
          <Dropzone.Idle>
            <IconCloudUpload size={52} color="var(--mantine-color-dimmed)" />
          </Dropzone.Idle>
          <Stack gap={6} align="center">
            <Text size="lg" fw={500}>
              Drop DICOM files, folders or zip archives here
            </Text>
            <Text size="sm" c="dimmed">
              Everything is de-identified on arrival. Reports (text, CSV or PDF) join their studies, scrubbed; other files are reported, not stored.
            </Text>
            <Group gap="sm" mt="xs" style={{ pointerEvents: 'all' }}>
              <FileButton multiple onChange={(files) => add(filesFromInput(files))}>
                {(props) => (
                  <Button {...props} variant="default" leftSection={<IconFile size={16} />}>
                    Choose files
                  </Button>
                )}
              </FileButton>
              <FileButton multiple onChange={(files) => add(filesFromInput(files))} inputProps={{ ...({ webkitdirectory: '', directory: '' } as Record<string, string>) }}>
                {(props) => (
                  <Button {...props} variant="default" leftSection={<IconFolder size={16} />}>
                    Choose a folder
                  </Button>
                )}
              </FileButton>
            </Group>
          </Stack>
        </Group>
      </Dropzone>

      {snapshot.files.length > 0 ? (
        <Paper withBorder p="md">
          <Stack gap="xs">
            <Group justify="space-between" wrap="wrap">
              <Text fw={600} aria-live="polite">
                {transferring
                  ? `Sending ${snapshot.counts.uploaded} of ${snapshot.files.length} files sent`
                  : `${snapshot.counts.uploaded} of ${snapshot.files.length} files sent${snapshot.counts.failed ? `, ${snapshot.counts.failed} failed` : ''}`}
              </Text>
              <Group gap="xs">
                {transferring ? (
                  <Button size="xs" variant="default" color="red" leftSection={<IconPlayerStop size={14} />} onClick={() => engine.cancel()}>
                    Stop
                  </Button>
                ) : null}
                {snapshot.counts.failed + snapshot.counts.cancelled > 0 ? (
                  <Button size="xs" variant="light" leftSection={<IconRefresh size={14} />} onClick={() => engine.retryFailed()}>
                    Retry failed ({snapshot.counts.failed + snapshot.counts.cancelled})
                  </Button>
                ) : null}
              </Group>
            </Group>
            <Progress.Root size={22} aria-label={`Total: ${Math.round(totalPercent)}% sent`}>
              <Progress.Section value={totalPercent} color={snapshot.counts.failed ? 'orange' : 'cyan'} animated={transferring}>
                <Progress.Label>{Math.round(totalPercent)}%</Progress.Label>
              </Progress.Section>
            </Progress.Root>
            <Group gap="lg">
              <Text size="sm">
                {formatBytes(snapshot.loadedBytes)} of {formatBytes(snapshot.totalBytes)}
              </Text>
              <Text size="sm" c="dimmed">
                Speed {transferring ? formatSpeed(speed) : '–'}
              </Text>
              <Text size="sm" c="dimmed">
                Time left {transferring ? formatDuration(eta) : '–'}
              </Text>
              {skipped > 0 ? (
                <Text size="sm" c="dimmed">
                  {skipped} system {skipped === 1 ? 'file' : 'files'} (like .DS_Store) left out
                </Text>
              ) : null}
            </Group>
            <Group gap="xs" aria-label="Ingest results">
              <Badge color="teal" variant="light">{summary.accepted} accepted</Badge>
              <Badge color="cyan" variant="light">{summary.duplicate} already in the lake</Badge>
              <Badge color="red" variant="light">{summary.rejected} rejected</Badge>
              <Badge color="yellow" variant="light">{summary.held} held for review</Badge>
              {summary.pending ? <Badge color="gray" variant="light">{summary.pending} being ingested</Badge> : null}
              {summary.instancesAccepted ? (
                <Text size="sm" c="dimmed">
                  {summary.instancesAccepted} images in {summary.studies.length} {summary.studies.length === 1 ? 'study' : 'studies'}
                </Text>
              ) : null}
              {canBrowse && summary.studies.length > 0 ? (
                <Group gap={6}>
                  {summary.studies.slice(0, 5).map((uid, i) => (
                    <Anchor key={uid} component={Link} to={`/studies/${encodeURIComponent(uid)}`} size="sm">
                      Study {i + 1}
                    </Anchor>
                  ))}
                </Group>
              ) : null}
            </Group>
          </Stack>
        </Paper>
      ) : null}

      {snapshot.files.length > 0 ? (
        <Stack gap="xs">
          <SegmentedControl
            value={view}
            onChange={(v) => setView(v as View)}
            data={[
              { value: 'all', label: `All (${rows.length})` },
              { value: 'active', label: `In progress (${rows.filter(isActive).length})` },
              { value: 'problems', label: `Problems (${problems})` },
            ]}
            w="fit-content"
            aria-label="Show files"
          />
          <Table striped verticalSpacing={4} aria-label="Files">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>File</Table.Th>
                <Table.Th ta="right">Size</Table.Th>
                <Table.Th>Transfer</Table.Th>
                <Table.Th>Ingest</Table.Th>
                <Table.Th ta="right">Images</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {filtered.slice(0, shown).map((row) => (
                <FileRow key={row.id} row={row} />
              ))}
            </Table.Tbody>
          </Table>
          {filtered.length > shown ? (
            <Button variant="subtle" onClick={() => setShown((n) => n + pageSize)} w="fit-content">
              Show {Math.min(pageSize, filtered.length - shown)} more of {filtered.length - shown}
            </Button>
          ) : null}
        </Stack>
      ) : null}

      <RecentUploads />
    </Stack>
  );
}
