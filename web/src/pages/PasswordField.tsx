import { List, PasswordInput, Text } from '@mantine/core';
import { IconCheck, IconX } from '@tabler/icons-react';
import { passwordRules } from './passwordRules';

/** A new-password input that shows which rules are met. */
export function NewPasswordField({ value, onChange, label = 'Password' }: { value: string; onChange: (value: string) => void; label?: string }) {
  return (
    <div>
      <PasswordInput label={label} autoComplete="new-password" required value={value} onChange={(e) => onChange(e.currentTarget.value)} aria-describedby="password-rules" />
      <List id="password-rules" size="xs" mt={6} spacing={2} listStyleType="none" aria-label="Password rules">
        {passwordRules.map((rule) => {
          const ok = rule.test(value);
          return (
            <List.Item key={rule.label} icon={ok ? <IconCheck size={12} color="var(--mantine-color-teal-5)" /> : <IconX size={12} color="var(--mantine-color-gray-5)" />}>
              <Text size="xs" c={ok ? undefined : 'dimmed'} component="span">
                {rule.label}
                <span style={{ position: 'absolute', left: -9999 }}>{ok ? ' (met)' : ' (missing)'}</span>
              </Text>
            </List.Item>
          );
        })}
      </List>
    </div>
  );
}
