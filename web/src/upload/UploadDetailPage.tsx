/** One upload, file by file: what ingest made of each, and why a file was rejected or held. */
import { Anchor, Badge, Breadcrumbs, Group, Loader, SegmentedControl, Stack, Table, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import dayjs from 'dayjs';
import { useEffect, useState } from 'react';
import { Link, useParams } from 'react-router';
import { fetchUpload } from '../api/uploads';
import { FormError } from '../pages/FormError';
import { useSession } from '../session/SessionProvider';
import { can } from '../session/permissions';
import { ingestLabels, isSettled } from './ingest';
import { formatBytes } from './meter';

export function UploadDetailPage() {
  const { uploadId = '' } = useParams();
  const { me } = useSession();
  const [view, setView] = useState<'all' | 'problems'>('all');
  const upload = useQuery({
    queryKey: ['upload', uploadId],
    queryFn: ({ signal }) => fetchUpload(uploadId, signal),
    refetchInterval: (query) => (query.state.data?.files.every((f) => isSettled(f.state)) ? false : 3_000),
  });
  useEffect(() => {
    document.title = 'Upload · medlake';
  }, []);
  if (upload.isPending) return <Loader aria-label="Loading the upload" />;
  if (upload.error) return <FormError error={upload.error} title="Could not load the upload" />;
  const u = upload.data;
  const files = u.files.filter((f) => view === 'all' || f.state === 'rejected' || f.state === 'held');
  return (
    <Stack gap="md">
      <Breadcrumbs>
        <Anchor component={Link} to="/upload">
          Upload
        </Anchor>
        <Text size="sm">{dayjs(u.createdAt).format('YYYY-MM-DD HH:mm')}</Text>
      </Breadcrumbs>
      <Title order={1} size="h3">
        Upload of {dayjs(u.createdAt).format('YYYY-MM-DD HH:mm')}
      </Title>
      <Group gap="xs">
        <Text size="sm" c="dimmed">
          by {u.owner} · {u.totals.files} files ·
        </Text>
        <Badge color="teal" variant="light">{u.totals.instances.accepted} images accepted</Badge>
        <Badge color="cyan" variant="light">{u.totals.instances.duplicate} already there</Badge>
        <Badge color="red" variant="light">{u.totals.instances.rejected} rejected</Badge>
        <Badge color="yellow" variant="light">{u.totals.instances.held} held</Badge>
      </Group>
      <SegmentedControl value={view} onChange={(v) => setView(v as 'all' | 'problems')} data={[{ value: 'all', label: 'All files' }, { value: 'problems', label: `Rejected or held (${u.totals.rejected + u.totals.held})` }]} w="fit-content" aria-label="Show files" />
      <Table striped verticalSpacing={4} aria-label="Files of the upload">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>File</Table.Th>
            <Table.Th ta="right">Size</Table.Th>
            <Table.Th>State</Table.Th>
            <Table.Th>Reason</Table.Th>
            <Table.Th>Studies</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {files.map((f) => (
            <Table.Tr key={f.index}>
              <Table.Td>{f.name}</Table.Td>
              <Table.Td ta="right">{formatBytes(f.sizeBytes)}</Table.Td>
              <Table.Td>
                <Badge color={ingestLabels[f.state].color} variant="light">
                  {ingestLabels[f.state].label}
                </Badge>
              </Table.Td>
              <Table.Td>
                <Text size="sm" c={f.reason ? undefined : 'dimmed'}>
                  {f.reason ?? '–'}
                </Text>
              </Table.Td>
              <Table.Td>
                <Group gap={6}>
                  {can(me, 'studies:read')
                    ? f.studies.map((uid, i) => (
                        <Anchor key={uid} component={Link} to={`/studies/${encodeURIComponent(uid)}`} size="sm">
                          Study {i + 1}
                        </Anchor>
                      ))
                    : f.studies.length || ''}
                </Group>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Stack>
  );
}
