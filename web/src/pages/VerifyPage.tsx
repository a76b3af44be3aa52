import { Anchor, Button, Group, Stack, Text, TextInput } from '@mantine/core';
import { useState } from 'react';
import type { FormEvent } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import * as session from '../api/session';
import { AuthLayout } from '../layout/AuthLayout';
import { FormError } from './FormError';

export function VerifyPage() {
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const [email, setEmail] = useState(params.get('email') ?? '');
  const [code, setCode] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const [resent, setResent] = useState<string>();
  const sentTo = params.get('sentTo');

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await session.confirmSignUp(email.trim(), code.trim());
      void navigate(`/sign-in?notice=confirmed&email=${encodeURIComponent(email.trim())}`);
    } catch (failure) {
      setError(failure);
      setBusy(false);
    }
  };

  const resend = async () => {
    setError(undefined);
    setResent(undefined);
    try {
      const answer = await session.resendCode(email.trim());
      setResent(`A new code is on its way${answer.codeSentTo ? ` to ${answer.codeSentTo}` : ''}.`);
    } catch (failure) {
      setError(failure);
    }
  };

  return (
    <AuthLayout
      title="Confirm your email"
      subtitle={sentTo ? `We sent a code to ${sentTo}.` : 'Enter the code we emailed you.'}
      footer={<Anchor component={Link} to="/sign-in" underline="always">Back to sign in</Anchor>}
    >
      <form onSubmit={(event) => void submit(event)} noValidate>
        <Stack gap="md">
          <TextInput label="Email" type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.currentTarget.value)} />
          <TextInput
            label="Code"
            description="The code from the email, usually 6 digits"
            autoComplete="one-time-code"
            inputMode="numeric"
            required
            value={code}
            onChange={(e) => setCode(e.currentTarget.value)}
            autoFocus={Boolean(email)}
          />
          <FormError error={error} />
          {resent ? (
            <Text size="sm" c="teal" role="status">
              {resent}
            </Text>
          ) : null}
          <Group justify="space-between">
            <Button variant="subtle" onClick={() => void resend()} disabled={!email}>
              Send a new code
            </Button>
            <Button type="submit" loading={busy} disabled={!email || !code}>
              Confirm
            </Button>
          </Group>
        </Stack>
      </form>
    </AuthLayout>
  );
}
