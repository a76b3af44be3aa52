/**
 * A confirmed user without any group: nothing to do but wait. The page asks
 * every few seconds whether an administrator approved the account, and once
 * they have, refreshes the session to bring the new roles in.
 */
import { Alert, Button, Group, Loader, Stack, Text } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { IconHourglass } from '@tabler/icons-react';
import { useEffect, useState } from 'react';
import { Navigate, useNavigate } from 'react-router';
import * as session from '../api/session';
import { AuthLayout } from '../layout/AuthLayout';
import { useSession } from '../session/SessionProvider';
import { homePath } from '../session/permissions';
import { FormError } from './FormError';

export function PendingPage() {
  const { me, loading, refresh, signOut } = useSession();
  const navigate = useNavigate();
  const [error, setError] = useState<unknown>();
  const check = useQuery({ queryKey: ['me', 'approval'], queryFn: ({ signal }) => session.fetchMe(signal), refetchInterval: 10_000, enabled: me?.state === 'pending' });

  useEffect(() => {
    if (!check.data?.refreshRequired) return;
    refresh()
      .then((answer) => {
        if (answer.state === 'active') void navigate(homePath(answer), { replace: true });
      })
      .catch(setError);
  }, [check.data?.refreshRequired, refresh, navigate]);

  if (loading) return <Loader aria-label="Loading" />;
  if (!me) return <Navigate to="/sign-in" replace />;
  if (me.state === 'active') return <Navigate to={homePath(me)} replace />;

  return (
    <AuthLayout title="Waiting for approval" subtitle={me.email}>
      <Stack gap="md">
        <Alert color="yellow" variant="light" icon={<IconHourglass size={18} />}>
          Your email is confirmed. An administrator must now give your account a role (uploader, annotator, researcher or admin). This page moves on by itself once they have.
        </Alert>
        <Group gap="xs">
          <Loader size="xs" />
          <Text size="sm" c="dimmed" role="status">
            {check.isFetching ? 'Checking…' : 'Checking every 10 seconds.'}
          </Text>
        </Group>
        <FormError error={error ?? check.error} />
        <Group justify="space-between">
          <Button variant="default" onClick={() => void check.refetch()}>
            Check now
          </Button>
          <Button
            variant="subtle"
            onClick={() => {
              void signOut().finally(() => navigate('/sign-in?notice=signed-out', { replace: true }));
            }}
          >
            Sign out
          </Button>
        </Group>
      </Stack>
    </AuthLayout>
  );
}
