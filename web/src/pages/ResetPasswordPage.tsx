import { Anchor, Button, Stack, TextInput } from '@mantine/core';
import { useState } from 'react';
import type { FormEvent } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import * as session from '../api/session';
import { AuthLayout } from '../layout/AuthLayout';
import { FormError } from './FormError';
import { NewPasswordField } from './PasswordField';
import { passwordProblems } from './passwordRules';

export function ResetPasswordPage() {
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const [email, setEmail] = useState(params.get('email') ?? '');
  const [code, setCode] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const ready = email.includes('@') && code.trim().length > 0 && passwordProblems(password).length === 0;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!ready) return;
    setBusy(true);
    setError(undefined);
    try {
      await session.resetPassword(email.trim(), code.trim(), password);
      void navigate(`/sign-in?notice=reset&email=${encodeURIComponent(email.trim())}`);
    } catch (failure) {
      setError(failure);
      setBusy(false);
    }
  };

  return (
    <AuthLayout title="Choose a new password" subtitle="If the email has an account, a code is on its way." footer={<Anchor component={Link} to="/sign-in" underline="always">Back to sign in</Anchor>}>
      <form onSubmit={(event) => void submit(event)} noValidate>
        <Stack gap="md">
          <TextInput label="Email" type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.currentTarget.value)} />
          <TextInput label="Code" autoComplete="one-time-code" inputMode="numeric" required value={code} onChange={(e) => setCode(e.currentTarget.value)} autoFocus={Boolean(email)} />
          <NewPasswordField label="New password" value={password} onChange={setPassword} />
          <FormError error={error} />
          <Button type="submit" loading={busy} disabled={!ready}>
            Set the new password
          </Button>
        </Stack>
      </form>
    </AuthLayout>
  );
}
