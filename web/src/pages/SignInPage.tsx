import { Alert, Anchor, Button, Group, PasswordInput, Stack, TextInput } from '@mantine/core';
import { useState } from 'react';
import type { FormEvent } from 'react';
import { Link, Navigate, useNavigate, useSearchParams } from 'react-router';
import { ApiError } from '../api/http';
import { AuthLayout } from '../layout/AuthLayout';
import { useSession } from '../session/SessionProvider';
import { homePath } from '../session/permissions';
import { FormError } from './FormError';

/** Only same-app paths are followed after sign-in (no open redirects). */
export function safeNext(next: string | null): string | undefined {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return undefined;
  return next;
}

const notices: Record<string, string> = {
  confirmed: 'Your email is confirmed. Sign in; an administrator will approve your account.',
  reset: 'Your password is changed. Sign in with the new one.',
  'signed-out': 'You are signed out.',
};

export function SignInPage() {
  const { me, signIn } = useSession();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const [email, setEmail] = useState(params.get('email') ?? '');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const next = safeNext(params.get('next'));
  const notice = notices[params.get('notice') ?? ''];

  if (me) return <Navigate to={me.state === 'pending' ? '/pending' : (next ?? homePath(me))} replace />;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const answer = await signIn(email.trim(), password);
      void navigate(answer.state === 'pending' ? '/pending' : (next ?? homePath(answer)), { replace: true });
    } catch (failure) {
      setError(failure);
      setBusy(false);
    }
  };

  const unverified = error instanceof ApiError && error.code === 'email_not_verified';
  return (
    <AuthLayout title="Sign in" subtitle="Use the email address you registered with." footer={<>New here? <Anchor component={Link} to="/sign-up" underline="always">Create an account</Anchor></>}>
      <form onSubmit={(event) => void submit(event)} noValidate>
        <Stack gap="md">
          {notice ? (
            <Alert color="teal" variant="light" role="status">
              {notice}
            </Alert>
          ) : null}
          <TextInput label="Email" type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.currentTarget.value)} autoFocus={!email} />
          <PasswordInput label="Password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.currentTarget.value)} autoFocus={Boolean(email)} />
          <FormError error={error} title="Could not sign in" />
          {unverified ? (
            <Anchor component={Link} to={`/verify?email=${encodeURIComponent(email.trim())}`} size="sm">
              Enter the code from the email
            </Anchor>
          ) : null}
          <Group justify="space-between">
            <Anchor component={Link} to={`/forgot-password${email ? `?email=${encodeURIComponent(email.trim())}` : ''}`} size="sm">
              Forgot password?
            </Anchor>
            <Button type="submit" loading={busy} disabled={!email || !password}>
              Sign in
            </Button>
          </Group>
        </Stack>
      </form>
    </AuthLayout>
  );
}
