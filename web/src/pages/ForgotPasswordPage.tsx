import { Anchor, Button, Stack, TextInput } from '@mantine/core';
import { useState } from 'react';
import type { FormEvent } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import * as session from '../api/session';
import { AuthLayout } from '../layout/AuthLayout';
import { FormError } from './FormError';

export function ForgotPasswordPage() {
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const [email, setEmail] = useState(params.get('email') ?? '');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await session.forgotPassword(email.trim());
      void navigate(`/reset-password?email=${encodeURIComponent(email.trim())}`);
    } catch (failure) {
      setError(failure);
      setBusy(false);
    }
  };

  return (
    <AuthLayout title="Forgot your password?" subtitle="We email you a code to choose a new one." footer={<Anchor component={Link} to="/sign-in" underline="always">Back to sign in</Anchor>}>
      <form onSubmit={(event) => void submit(event)} noValidate>
        <Stack gap="md">
          <TextInput label="Email" type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.currentTarget.value)} autoFocus />
          <FormError error={error} />
          <Button type="submit" loading={busy} disabled={!email.includes('@')}>
            Email me a code
          </Button>
        </Stack>
      </form>
    </AuthLayout>
  );
}
