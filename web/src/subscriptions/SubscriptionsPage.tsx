/**
 * The user's subscriptions: saved searches emailed as digests when matching
 * studies arrive. Open the search, pause or resume, rename, delete. New ones
 * are made from the study browser ("Subscribe to this search").
 */
import { ActionIcon, Anchor, Badge, Button, Group, Loader, Stack, Table, Text, TextInput, Title, Tooltip } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { IconCheck, IconPencil, IconTrash, IconX } from '@tabler/icons-react';
import { useEffect, useState } from 'react';
import { Link } from 'react-router';
import type { Subscription } from '../api/subscriptions';
import { deleteSubscription, listSubscriptions, updateSubscription } from '../api/subscriptions';
import { FormError } from '../pages/FormError';

const inactiveLabels: Record<NonNullable<Subscription['inactiveReason']>, string> = {
  paused: 'Paused',
  unsubscribed: 'Unsubscribed by email link',
  account_disabled: 'Stopped: account disabled',
  access_removed: 'Stopped: role removed',
};

function when(iso: string | null): string {
  return iso ? new Date(iso).toLocaleString() : 'never';
}

function NameCell({ subscription, onRename }: { subscription: Subscription; onRename: (name: string) => void }) {
  const [editing, setEditing] = useState(false);
  const [name, setName] = useState(subscription.name);
  if (!editing) {
    return (
      <Group gap={4} wrap="nowrap">
        <Text size="sm" fw={500}>
          {subscription.name}
        </Text>
        <Tooltip label="Rename">
          <ActionIcon variant="subtle" size="sm" aria-label={`Rename ${subscription.name}`} onClick={() => setEditing(true)}>
            <IconPencil size={14} />
          </ActionIcon>
        </Tooltip>
      </Group>
    );
  }
  return (
    <Group gap={4} wrap="nowrap">
      <TextInput size="xs" value={name} onChange={(e) => setName(e.currentTarget.value)} maxLength={100} aria-label="New name" />
      <ActionIcon variant="subtle" size="sm" aria-label="Save the name" onClick={() => { onRename(name); setEditing(false); }} disabled={!name.trim()}>
        <IconCheck size={14} />
      </ActionIcon>
      <ActionIcon variant="subtle" size="sm" aria-label="Cancel" onClick={() => { setName(subscription.name); setEditing(false); }}>
        <IconX size={14} />
      </ActionIcon>
    </Group>
  );
}

export function SubscriptionsPage() {
  const queryClient = useQueryClient();
  const subscriptions = useQuery({ queryKey: ['subscriptions'], queryFn: ({ signal }) => listSubscriptions(signal) });
  useEffect(() => {
    document.title = 'Subscriptions · medlake';
  }, []);
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ['subscriptions'] });
  const change = useMutation({ mutationFn: ({ id, ...rest }: { id: string; name?: string; active?: boolean }) => updateSubscription(id, rest), onSuccess: refresh });
  const remove = useMutation({ mutationFn: (id: string) => deleteSubscription(id), onSuccess: refresh });

  const items = subscriptions.data ?? [];
  return (
    <Stack gap="md">
      <Group justify="space-between" align="baseline">
        <Group gap="sm" align="baseline">
          <Title order={1} size="h3">
            Subscriptions
          </Title>
          {subscriptions.isFetching ? <Loader size="xs" aria-label="Loading" /> : null}
        </Group>
        <Button component={Link} to="/studies" variant="light" size="xs">
          New: filter the studies, then “Subscribe to this search”
        </Button>
      </Group>
      <Text size="sm" c="dimmed">
        Each subscription emails you once per batch of new matching studies (dates, modalities and links only; the details stay here).
      </Text>
      <FormError error={subscriptions.error ?? change.error ?? remove.error} title="Could not update the subscriptions" />
      {subscriptions.isSuccess && items.length === 0 ? <Text>No subscriptions yet.</Text> : null}
      {items.length > 0 ? (
        <Table striped verticalSpacing="xs" aria-label="Your subscriptions">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Name</Table.Th>
              <Table.Th>Search</Table.Th>
              <Table.Th>State</Table.Th>
              <Table.Th>Last email</Table.Th>
              <Table.Th>Studies sent</Table.Th>
              <Table.Th aria-label="Actions" />
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {items.map((s) => (
              <Table.Tr key={s.id}>
                <Table.Td>
                  <NameCell subscription={s} onRename={(name) => change.mutate({ id: s.id, name })} />
                </Table.Td>
                <Table.Td>
                  <Anchor component={Link} to={s.browserPath} size="sm" ff="monospace">
                    {s.query || 'all studies'}
                  </Anchor>
                </Table.Td>
                <Table.Td>{s.active ? <Badge color="teal" variant="light">Active</Badge> : <Badge color="gray" variant="light">{s.inactiveReason ? inactiveLabels[s.inactiveReason] : 'Inactive'}</Badge>}</Table.Td>
                <Table.Td>
                  <Text size="sm">{when(s.lastDigestAt)}</Text>
                </Table.Td>
                <Table.Td>
                  <Text size="sm">{s.studiesSent.toLocaleString()}</Text>
                </Table.Td>
                <Table.Td>
                  <Group gap="xs" justify="flex-end" wrap="nowrap">
                    <Button size="xs" variant="subtle" onClick={() => change.mutate({ id: s.id, active: !s.active })} disabled={s.inactiveReason === 'account_disabled' || s.inactiveReason === 'access_removed'}>
                      {s.active ? 'Pause' : 'Resume'}
                    </Button>
                    <Tooltip label="Delete">
                      <ActionIcon variant="subtle" color="red" aria-label={`Delete ${s.name}`} onClick={() => (window.confirm(`Delete the subscription "${s.name}"?`) ? remove.mutate(s.id) : undefined)}>
                        <IconTrash size={16} />
                      </ActionIcon>
                    </Tooltip>
                  </Group>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      ) : null}
    </Stack>
  );
}
