import { Anchor, Button, PasswordInput, Stack, TextInput } from '@mantine/core';
import { useState } from 'react';
import type { FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';
import * as session from '../api/session';
import { AuthLayout } from '../layout/AuthLayout';
import { FormError } from './FormError';
import { NewPasswordField } from './PasswordField';
import { passwordProblems } from './passwordRules';

export function SignUpPage() {
  const navigate = useNavigate();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const mismatch = repeat.length > 0 && repeat !== password;
  const ready = email.includes('@') && passwordProblems(password).length === 0 && repeat === password;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!ready) return;
    setBusy(true);
    setError(undefined);
    try {
      const answer = await session.signUp(email.trim(), password);
      const to = answer.state === 'unconfirmed' ? `/verify?email=${encodeURIComponent(email.trim())}${answer.codeSentTo ? `&sentTo=${encodeURIComponent(answer.codeSentTo)}` : ''}` : `/sign-in?notice=confirmed&email=${encodeURIComponent(email.trim())}`;
      void navigate(to);
    } catch (failure) {
      setError(failure);
      setBusy(false);
    }
  };

  return (
    <AuthLayout
      title="Create an account"
      subtitle="We email you a code to confirm the address. An administrator then gives you access."
      footer={<>Already registered? <Anchor component={Link} to="/sign-in" underline="always">Sign in</Anchor></>}
    >
      <form onSubmit={(event) => void submit(event)} noValidate>
        <Stack gap="md">
          <TextInput label="Email" type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.currentTarget.value)} autoFocus />
          <NewPasswordField value={password} onChange={setPassword} />
          <PasswordInput label="Repeat the password" autoComplete="new-password" required value={repeat} onChange={(e) => setRepeat(e.currentTarget.value)} error={mismatch ? 'The two passwords differ.' : undefined} />
          <FormError error={error} title="Could not create the account" />
          <Button type="submit" loading={busy} disabled={!ready}>
            Create account
          </Button>
        </Stack>
      </form>
    </AuthLayout>
  );
}
