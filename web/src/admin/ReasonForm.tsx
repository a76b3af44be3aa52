/**
 * The reason an administrator gives for a sensitive action (releasing or
 * discarding a held image, disclosing original identifiers): the action
 * stays disabled until the reason is long enough to say something, and the
 * reason goes into the audit log with the decision.
 */
import { Button, Group, Stack, Text, Textarea } from '@mantine/core';
import type { ReactNode } from 'react';
import { useState } from 'react';
import { FormError } from '../pages/FormError';

const minReasonLength = 10;

export interface ReasonFormProps {
  /** What the action does, shown above the reason. */
  intro: ReactNode;
  /** Said after the minimum length in the field's description, e.g. where the reason is kept. */
  hint?: string;
  submitLabel: string;
  color: string;
  pending: boolean;
  error: unknown;
  errorTitle: string;
  /** Gets the reason as typed. */
  onSubmit: (reason: string) => void;
  onCancel: () => void;
}

export function ReasonForm({ intro, hint, submitLabel, color, pending, error, errorTitle, onSubmit, onCancel }: ReasonFormProps) {
  const [reason, setReason] = useState('');
  return (
    <form
      onSubmit={(event) => {
        event.preventDefault();
        onSubmit(reason);
      }}
    >
      <Stack gap="sm">
        <Text size="sm">{intro}</Text>
        <Textarea
          label="Reason"
          description={`At least ${minReasonLength} characters${hint ? `; ${hint}` : '.'}`}
          value={reason}
          onChange={(e) => setReason(e.currentTarget.value)}
          minRows={3}
          maxLength={1000}
          required
          data-autofocus
        />
        <FormError error={error} title={errorTitle} />
        <Group justify="flex-end">
          <Button variant="subtle" onClick={onCancel}>
            Cancel
          </Button>
          <Button type="submit" color={color} loading={pending} disabled={reason.trim().length < minReasonLength}>
            {submitLabel}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
