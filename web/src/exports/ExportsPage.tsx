/**
 * The user's exports (everybody's for administrators): what each selected,
 * how far it is, and its download link once the zip is ready; cancel a
 * running one, run an expired or failed one again.
 */
import { Alert, Anchor, Badge, Button, Group, Loader, Progress, Stack, Table, Text, Title, Tooltip } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
import { IconDownload, IconPlayerStop, IconRefresh } from '@tabler/icons-react';
import dayjs from 'dayjs';
import { useEffect } from 'react';
import { Link } from 'react-router';
import type { ExportView, ExportState } from '../api/exports';
import { cancelExport, downloadHref, isActiveExport, listExports, rerunExport } from '../api/exports';
import { errorMessage } from '../api/http';
import { FormError } from '../pages/FormError';
import { useSession } from '../session/SessionProvider';
import { can } from '../session/permissions';
import { formatBytes } from '../upload/meter';

const stateColors: Record<ExportState, string> = { queued: 'gray', running: 'blue', done: 'teal', failed: 'red', cancelled: 'gray', expired: 'yellow' };

function selectionText(record: ExportView): string {
  const parts: string[] = [];
  const filter = record.selection.filterQuery;
  // URLSearchParams decodes each value on its own: a stray % cannot throw, an encoded & stays inside its value.
  if (filter !== null) parts.push(filter ? [...new URLSearchParams(filter)].map(([name, value]) => `${name}=${value}`).join(', ') : 'every study');
  const listed = record.selection.studyCount ?? record.selection.studies?.length ?? 0;
  if (listed) parts.push(`${listed} listed ${listed === 1 ? 'study' : 'studies'}`);
  return parts.join(' + ') || '–';
}

function ExportRow({ record }: { record: ExportView }) {
  const { me } = useSession();
  const queryClient = useQueryClient();
  const done = () => queryClient.invalidateQueries({ queryKey: ['exports'] });
  const cancel = useMutation({ mutationFn: () => cancelExport(record.exportId), onSuccess: done, onError: (e) => notifications.show({ color: 'red', message: errorMessage(e) }) });
  const rerun = useMutation({
    mutationFn: () => rerunExport(record.exportId),
    onSuccess: async () => {
      notifications.show({ color: 'teal', message: 'The export runs again with exactly the same files.' });
      await done();
    },
    onError: (e) => notifications.show({ color: 'red', message: errorMessage(e) }),
  });
  const label = record.name || `Export of ${dayjs(record.createdAt).format('YYYY-MM-DD HH:mm')}`;
  const percent = record.progress?.percent ?? 0;
  return (
    <Table.Tr>
      <Table.Td>
        <Text size="sm" fw={500}>
          {label}
        </Text>
        <Text size="xs" c="dimmed">
          {selectionText(record)}
          {record.selection.filterQuery ? (
            <>
              {' · '}
              <Anchor component={Link} to={`/studies?${record.selection.filterQuery}`} size="xs" underline="always">
                open the search
              </Anchor>
            </>
          ) : null}
        </Text>
      </Table.Td>
      <Table.Td>{record.owner}</Table.Td>
      <Table.Td style={{ whiteSpace: 'nowrap' }}>{dayjs(record.createdAt).format('YYYY-MM-DD HH:mm')}</Table.Td>
      <Table.Td>
        <Text size="sm">
          {record.estimate.studies} {record.estimate.studies === 1 ? 'study' : 'studies'} · {record.estimate.instances} {record.estimate.instances === 1 ? 'image' : 'images'}
        </Text>
        <Text size="xs" c="dimmed">
          {formatBytes(record.zip?.bytes ?? record.estimate.bytes)}
          {record.options.reports ? ' · reports' : ''}
          {record.options.annotations ? ' · annotations' : ''}
        </Text>
      </Table.Td>
      <Table.Td w={220}>
        {record.state === 'running' ? (
          <Progress value={percent} size="lg" aria-label={`${label}: ${percent}% written`} />
        ) : (
          <Badge color={stateColors[record.state]} variant="light">
            {record.state}
          </Badge>
        )}
        {record.failure ? (
          <Text size="xs" c="red" mt={2}>
            {record.failure.message}
          </Text>
        ) : null}
        {record.errors.length ? (
          <Tooltip label={record.errors.slice(0, 5).map((e) => e.message).join(' · ')}>
            <Text size="xs" c="yellow" mt={2} w="fit-content">
              {record.errors.length} {record.errors.length === 1 ? 'file' : 'files'} left out
            </Text>
          </Tooltip>
        ) : null}
        {record.download ? (
          <Text size="xs" c="dimmed" mt={2}>
            until {dayjs(record.download.expiresAt).format('YYYY-MM-DD')}
          </Text>
        ) : null}
      </Table.Td>
      <Table.Td>
        <Group gap="xs" wrap="nowrap">
          {record.download && record.state === 'done' ? (
            <Button component="a" href={downloadHref(record.exportId)} size="xs" leftSection={<IconDownload size={14} />} aria-label={`Download ${label}`}>
              Download
            </Button>
          ) : null}
          {isActiveExport(record.state) ? (
            <Button size="xs" variant="subtle" color="red" leftSection={<IconPlayerStop size={14} />} loading={cancel.isPending} onClick={() => cancel.mutate()} aria-label={`Cancel ${label}`}>
              Cancel
            </Button>
          ) : null}
          {can(me, 'exports:create') && (record.state === 'expired' || record.state === 'failed' || record.state === 'done') && record.startedAt ? (
            <Button size="xs" variant="subtle" leftSection={<IconRefresh size={14} />} loading={rerun.isPending} onClick={() => rerun.mutate()} aria-label={`Run ${label} again`}>
              Run again
            </Button>
          ) : null}
        </Group>
      </Table.Td>
    </Table.Tr>
  );
}

export function ExportsPage() {
  const exports = useInfiniteQuery({
    queryKey: ['exports'],
    queryFn: ({ pageParam, signal }) => listExports({ before: pageParam, limit: 50 }, signal),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next,
    // Follow running exports closely, the rest now and then.
    refetchInterval: (query) => (query.state.data?.pages.some((p) => p.items.some((e) => isActiveExport(e.state))) ? 3_000 : 30_000),
  });
  useEffect(() => {
    document.title = 'Exports · medlake';
  }, []);
  const items = exports.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <Stack gap="md">
      <Group justify="space-between">
        <Title order={1} size="h3">
          Exports
        </Title>
        {exports.isFetching ? <Loader size="xs" aria-label="Refreshing" /> : null}
      </Group>
      <Alert variant="light" color="cyan">
        To export a cohort, filter the{' '}
        <Anchor component={Link} to="/studies" underline="always">
          study browser
        </Anchor>{' '}
        and choose Export. The zip holds the de-identified DICOM files, reports, annotations and manifests; you get an email when it is ready.
      </Alert>
      <FormError error={exports.error} title="Could not load the exports" />
      {items.length === 0 && !exports.isPending ? (
        <Text c="dimmed">No exports yet.</Text>
      ) : (
        <Table striped verticalSpacing="xs" aria-label="Exports">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Export</Table.Th>
              <Table.Th>By</Table.Th>
              <Table.Th>Requested</Table.Th>
              <Table.Th>Content</Table.Th>
              <Table.Th>State</Table.Th>
              <Table.Th>Actions</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {items.map((record) => (
              <ExportRow key={record.exportId} record={record} />
            ))}
          </Table.Tbody>
        </Table>
      )}
      {exports.hasNextPage ? (
        <Button variant="subtle" w="fit-content" loading={exports.isFetchingNextPage} onClick={() => void exports.fetchNextPage()}>
          Older exports
        </Button>
      ) : null}
    </Stack>
  );
}
