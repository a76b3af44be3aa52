/**
 * The audit log: who did what, when, with which outcome; newest first,
 * filtered by user, action, resource and time, paged backwards in time.
 * Filters live in the URL, so a link reproduces the view.
 */
import { Autocomplete, Badge, Button, Code, Group, Loader, Select, Stack, Table, Text, TextInput, Title, Tooltip } from '@mantine/core';
import { DateTimePicker } from '@mantine/dates';
import { useQuery } from '@tanstack/react-query';
import { IconChevronLeft, IconChevronRight } from '@tabler/icons-react';
import dayjs from 'dayjs';
import { useEffect, useMemo } from 'react';
import type { AuditRecord } from '../api/types';
import * as users from '../api/users';
import { FormError } from '../pages/FormError';
import type { SearchParamChanges } from '../pages/useSearchParamUpdate';
import { useSearchParamUpdate } from '../pages/useSearchParamUpdate';

const pageSize = 50;

/** Actions the API records today; the field also takes any other. `phi.reidentify` is the honest-broker log. */
const knownActions = [
  'phi.reidentify', 'study.open', 'study.retrieve',
  'session.sign-in', 'session.sign-out', 'session.refresh', 'session.machine-sign-in', 'account.sign-up', 'account.confirm', 'account.reset-password',
  'users.approve', 'users.groups', 'users.disable', 'users.enable',
  'uploads.create', 'held.release', 'held.discard', 'dicomweb.stow', 'reports.read', 'reports.write', 'reports.search', 'reports.versions', 'reports.link',
  'annotations.save', 'annotations.create', 'annotations.version', 'annotations.restore', 'annotations.select', 'labels.write', 'labels.vocabulary.add', 'labels.vocabulary.replace',
  'exports.download-link', 'exports.cancel', 'exports.done', 'exports.failed', 'exports.link-emailed',
  'subscriptions.create', 'subscriptions.update', 'subscriptions.delete', 'subscriptions.unsubscribe', 'subscriptions.digest',
];

const outcomeColors: Record<AuditRecord['outcome'], string> = { ok: 'teal', denied: 'orange', failed: 'red' };

function toDate(value: string | null): Date | null {
  if (!value) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

export function AuditPage() {
  const [params, updateParams, setParams] = useSearchParamUpdate();
  const filter = {
    actor: params.get('actor') ?? undefined,
    action: params.get('action') ?? undefined,
    resource: params.get('resource') ?? undefined,
    since: params.get('since') ?? undefined,
    until: params.get('until') ?? undefined,
  };
  /** The `before` ids of the pages above this one (for "newer"). */
  const trail = (params.get('trail') ?? '').split(',').filter(Boolean).map(Number);
  const before = params.get('before') ? Number(params.get('before')) : undefined;

  useEffect(() => {
    document.title = 'Audit log · medlake';
  }, []);
  const people = useQuery({ queryKey: ['users'], queryFn: () => users.listUsers(), staleTime: 60_000 });
  const page = useQuery({
    queryKey: ['audit', filter, before],
    queryFn: ({ signal }) => users.fetchAudit({ ...filter, limit: pageSize, before }, signal),
    placeholderData: (previous) => previous,
  });

  const actorOptions = useMemo(
    () => (people.data ?? []).filter((u) => u.sub).map((u) => ({ value: u.sub as string, label: u.email ?? u.username })),
    [people.data],
  );

  // A new filter starts again from the newest entries.
  const update = (changes: SearchParamChanges) => updateParams({ ...changes, before: undefined, trail: undefined });

  const older = () => {
    const entries = page.data?.entries ?? [];
    const last = entries.at(-1);
    if (!last) return;
    updateParams({ before: String(last.id), trail: [...trail, before ?? 0].join(',') }, { replace: false });
  };
  const newer = () => {
    const previous = trail.at(-1);
    updateParams({ before: previous ? String(previous) : undefined, trail: trail.slice(0, -1).join(',') }, { replace: false });
  };

  const entries = page.data?.entries ?? [];
  return (
    <Stack gap="md">
      <Group justify="space-between">
        <Title order={1} size="h3">
          Audit log
        </Title>
        {page.isFetching ? <Loader size="xs" aria-label="Loading" /> : null}
      </Group>
      <Group align="flex-end" gap="sm" wrap="wrap">
        <Select label="User" placeholder="Anyone" data={actorOptions} value={filter.actor ?? null} onChange={(value) => update({ actor: value ?? undefined })} searchable clearable w={240} />
        <Autocomplete label="Action" placeholder="Any action" data={knownActions} defaultValue={filter.action ?? ''} key={`action-${filter.action ?? ''}`} onChange={(value) => (value === '' || knownActions.includes(value) ? update({ action: value || undefined }) : undefined)} onBlur={(e) => update({ action: e.currentTarget.value || undefined })} w={220} />
        <TextInput label="Resource" placeholder="e.g. user/…" defaultValue={filter.resource ?? ''} key={`resource-${filter.resource ?? ''}`} onBlur={(e) => update({ resource: e.currentTarget.value.trim() || undefined })} onKeyDown={(e) => (e.key === 'Enter' ? update({ resource: e.currentTarget.value.trim() || undefined }) : undefined)} w={220} />
        <DateTimePicker label="From" placeholder="Any time" value={toDate(filter.since ?? null)} onChange={(value) => update({ since: value ? dayjs(value).toISOString() : undefined })} clearable w={200} />
        <DateTimePicker label="Until" placeholder="Now" value={toDate(filter.until ?? null)} onChange={(value) => update({ until: value ? dayjs(value).toISOString() : undefined })} clearable w={200} />
        <Button variant="subtle" onClick={() => setParams({}, { replace: true })} disabled={params.toString() === ''}>
          Clear filters
        </Button>
      </Group>
      <FormError error={page.error} title="Could not load the audit log" />
      <Table striped highlightOnHover verticalSpacing="xs" aria-label="Audit log entries" stickyHeader>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Time</Table.Th>
            <Table.Th>User</Table.Th>
            <Table.Th>Action</Table.Th>
            <Table.Th>Resource</Table.Th>
            <Table.Th>Outcome</Table.Th>
            <Table.Th>Details</Table.Th>
            <Table.Th>From</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {entries.map((entry) => (
            <Table.Tr key={entry.id}>
              <Table.Td style={{ whiteSpace: 'nowrap' }}>
                <Tooltip label={entry.at}>
                  <span>{dayjs(entry.at).format('YYYY-MM-DD HH:mm:ss')}</span>
                </Tooltip>
              </Table.Td>
              <Table.Td>{entry.actorName ?? entry.actorSub ?? '–'}</Table.Td>
              <Table.Td>
                <Code>{entry.action}</Code>
              </Table.Td>
              <Table.Td>{entry.resource ?? '–'}</Table.Td>
              <Table.Td>
                <Badge color={outcomeColors[entry.outcome]} variant="light">
                  {entry.outcome}
                </Badge>
              </Table.Td>
              <Table.Td>
                {Object.keys(entry.details).length ? (
                  <Code block style={{ maxWidth: 360, whiteSpace: 'pre-wrap', overflowWrap: 'anywhere', overflow: 'visible', fontSize: 11 }}>
                    {JSON.stringify(entry.details)}
                  </Code>
                ) : (
                  '–'
                )}
              </Table.Td>
              <Table.Td>
                <Text size="xs" c="dimmed">
                  {entry.sourceIp ?? ''}
                </Text>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {entries.length === 0 && !page.isPending ? <Text c="dimmed">No entries match these filters.</Text> : null}
      <Group justify="space-between">
        <Button variant="default" leftSection={<IconChevronLeft size={16} />} onClick={newer} disabled={before === undefined}>
          Newer
        </Button>
        <Text size="sm" c="dimmed">
          {entries.length ? `${entries.length} entries, #${entries[0]?.id} to #${entries.at(-1)?.id}` : ''}
        </Text>
        <Button variant="default" rightSection={<IconChevronRight size={16} />} onClick={older} disabled={!page.data?.next}>
          Older
        </Button>
      </Group>
    </Stack>
  );
}
