/**
 * User administration: sign-ups waiting for approval (approve with roles),
 * and every user with their roles (change roles, disable, enable).
 */
import { Badge, Button, Checkbox, Group, Loader, Modal, Stack, Table, Tabs, Text, TextInput, Title, Tooltip } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { IconSearch } from '@tabler/icons-react';
import dayjs from 'dayjs';
import { useEffect, useMemo, useState } from 'react';
import { useSearchParams } from 'react-router';
import { errorMessage } from '../api/http';
import type { PoolUser, Role, UserState } from '../api/types';
import * as users from '../api/users';
import { FormError } from '../pages/FormError';
import { useSession } from '../session/SessionProvider';
import { roleChoices } from './roles';

const stateColors: Record<UserState, string> = { unconfirmed: 'gray', pending: 'yellow', active: 'teal', disabled: 'red' };
const stateLabels: Record<UserState, string> = { unconfirmed: 'email not confirmed', pending: 'waiting for approval', active: 'active', disabled: 'disabled' };

function RoleCheckboxes({ value, onChange, label }: { value: Role[]; onChange: (roles: Role[]) => void; label: string }) {
  return (
    <Checkbox.Group label={label} value={value} onChange={(next) => onChange(next as Role[])}>
      <Stack gap={6} mt={6}>
        {roleChoices.map((role) => (
          <Checkbox key={role.value} value={role.value} label={role.label} description={role.description} />
        ))}
      </Stack>
    </Checkbox.Group>
  );
}

function useUserMutation<T>(run: (input: T) => Promise<PoolUser>, success: (user: PoolUser) => string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: run,
    onSuccess: async (user) => {
      notifications.show({ color: 'teal', message: success(user) });
      await queryClient.invalidateQueries({ queryKey: ['users'] });
    },
    onError: (error) => notifications.show({ color: 'red', title: 'Not done', message: errorMessage(error) }),
  });
}

function ApproveRow({ user }: { user: PoolUser }) {
  const [roles, setRoles] = useState<Role[]>(['annotator']);
  const approve = useUserMutation((groups: Role[]) => users.approveUser(user.username, groups), (u) => `${u.email ?? u.username} is approved.`);
  return (
    <Table.Tr>
      <Table.Td>{user.email ?? user.username}</Table.Td>
      <Table.Td>{user.createdAt ? dayjs(user.createdAt).format('YYYY-MM-DD HH:mm') : '–'}</Table.Td>
      <Table.Td>
        <Checkbox.Group value={roles} onChange={(next) => setRoles(next as Role[])} aria-label={`Roles for ${user.email ?? user.username}`}>
          <Group gap="md">
            {roleChoices.map((role) => (
              <Tooltip key={role.value} label={role.description}>
                <Checkbox value={role.value} label={role.label} />
              </Tooltip>
            ))}
          </Group>
        </Checkbox.Group>
      </Table.Td>
      <Table.Td>
        <Button size="xs" disabled={roles.length === 0} loading={approve.isPending} onClick={() => approve.mutate(roles)} aria-label={`Approve ${user.email ?? user.username}`}>
          Approve
        </Button>
      </Table.Td>
    </Table.Tr>
  );
}

function EditRolesModal({ user, onClose }: { user: PoolUser; onClose: () => void }) {
  const [roles, setRoles] = useState<Role[]>(user.groups);
  const save = useUserMutation((groups: Role[]) => users.setUserGroups(user.username, groups), (u) => `Roles of ${u.email ?? u.username} are saved and apply at once: the user's next request brings them in.`);
  return (
    <Modal opened onClose={onClose} title={`Roles of ${user.email ?? user.username}`}>
      <Stack>
        <RoleCheckboxes label="Roles" value={roles} onChange={setRoles} />
        {roles.length === 0 ? (
          <Text size="sm" c="yellow">
            Without any role the user is back to waiting for approval.
          </Text>
        ) : null}
        <FormError error={save.error} />
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button loading={save.isPending} onClick={() => save.mutate(roles, { onSuccess: onClose })}>
            Save roles
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}

function UserRow({ user, self, onEdit }: { user: PoolUser; self: boolean; onEdit: (user: PoolUser) => void }) {
  const disable = useUserMutation(() => users.disableUser(user.username), (u) => `${u.email ?? u.username} is disabled.`);
  const enable = useUserMutation(() => users.enableUser(user.username), (u) => `${u.email ?? u.username} is enabled.`);
  const name = user.email ?? user.username;
  return (
    <Table.Tr>
      <Table.Td>
        {name}
        {self ? (
          <Badge ml={6} size="xs" variant="outline">
            you
          </Badge>
        ) : null}
      </Table.Td>
      <Table.Td>
        <Badge color={stateColors[user.state]} variant="light">
          {stateLabels[user.state]}
        </Badge>
      </Table.Td>
      <Table.Td>
        <Group gap={4}>
          {user.groups.length === 0 ? <Text size="sm" c="dimmed">none</Text> : user.groups.map((g) => <Badge key={g} variant="light">{g}</Badge>)}
        </Group>
      </Table.Td>
      <Table.Td>{user.createdAt ? dayjs(user.createdAt).format('YYYY-MM-DD') : '–'}</Table.Td>
      <Table.Td>
        <Group gap="xs" wrap="nowrap">
          <Button size="xs" variant="default" onClick={() => onEdit(user)} disabled={user.state === 'unconfirmed'} aria-label={`Change roles of ${name}`}>
            Roles…
          </Button>
          {user.enabled ? (
            <Button size="xs" variant="subtle" color="red" disabled={self} loading={disable.isPending} onClick={() => disable.mutate(undefined)} aria-label={`Disable ${name}`}>
              Disable
            </Button>
          ) : (
            <Button size="xs" variant="subtle" loading={enable.isPending} onClick={() => enable.mutate(undefined)} aria-label={`Enable ${name}`}>
              Enable
            </Button>
          )}
        </Group>
      </Table.Td>
    </Table.Tr>
  );
}

export function UsersPage() {
  const { me } = useSession();
  const [params, setParams] = useSearchParams();
  const tab = params.get('tab') === 'all' ? 'all' : 'pending';
  const [search, setSearch] = useState('');
  const [editing, setEditing] = useState<PoolUser>();
  const list = useQuery({ queryKey: ['users'], queryFn: () => users.listUsers(), refetchInterval: 30_000 });
  useEffect(() => {
    document.title = 'Users · medlake';
  }, []);

  const all = useMemo(() => [...(list.data ?? [])].sort((a, b) => (a.email ?? a.username).localeCompare(b.email ?? b.username)), [list.data]);
  const pending = all.filter((u) => u.state === 'pending');
  const unconfirmed = all.filter((u) => u.state === 'unconfirmed');
  const shown = all.filter((u) => !search || (u.email ?? u.username).toLowerCase().includes(search.toLowerCase()));

  return (
    <Stack gap="md">
      <Group justify="space-between">
        <Title order={1} size="h3">
          Users
        </Title>
        {list.isFetching ? <Loader size="xs" aria-label="Refreshing" /> : null}
      </Group>
      <FormError error={list.error} title="Could not load the users" />
      <Tabs value={tab} onChange={(value) => setParams(value === 'all' ? { tab: 'all' } : {}, { replace: true })}>
        <Tabs.List>
          <Tabs.Tab value="pending" rightSection={pending.length ? <Badge size="sm" color="yellow" circle>{pending.length}</Badge> : undefined}>
            Waiting for approval
          </Tabs.Tab>
          <Tabs.Tab value="all">All users</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="pending" pt="md">
          {pending.length === 0 && !list.isPending ? (
            <Text c="dimmed">Nobody is waiting for approval.</Text>
          ) : (
            <Table striped highlightOnHover verticalSpacing="sm" aria-label="Users waiting for approval">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Email</Table.Th>
                  <Table.Th>Signed up</Table.Th>
                  <Table.Th>Roles to give</Table.Th>
                  <Table.Th>
                    <span style={{ position: 'absolute', left: -9999 }}>Action</span>
                  </Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {pending.map((user) => (
                  <ApproveRow key={user.username} user={user} />
                ))}
              </Table.Tbody>
            </Table>
          )}
          {unconfirmed.length > 0 ? (
            <Text size="sm" c="dimmed" mt="md">
              {unconfirmed.length} more {unconfirmed.length === 1 ? 'person has' : 'people have'} signed up but not confirmed their email yet.
            </Text>
          ) : null}
        </Tabs.Panel>
        <Tabs.Panel value="all" pt="md">
          <Stack gap="sm">
            <TextInput placeholder="Filter by email" leftSection={<IconSearch size={16} />} value={search} onChange={(e) => setSearch(e.currentTarget.value)} aria-label="Filter users by email" maw={360} />
            <Table striped highlightOnHover verticalSpacing="xs" aria-label="All users">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Email</Table.Th>
                  <Table.Th>State</Table.Th>
                  <Table.Th>Roles</Table.Th>
                  <Table.Th>Created</Table.Th>
                  <Table.Th>Actions</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {shown.map((user) => (
                  <UserRow key={user.username} user={user} self={user.sub === me?.sub || user.username === me?.username} onEdit={setEditing} />
                ))}
              </Table.Tbody>
            </Table>
          </Stack>
        </Tabs.Panel>
      </Tabs>
      {editing ? <EditRolesModal user={editing} onClose={() => setEditing(undefined)} /> : null}
    </Stack>
  );
}
