import { Alert } from '@mantine/core';
import { IconAlertTriangle } from '@tabler/icons-react';
import { ApiError, errorMessage } from '../api/http';

/** A failed request, said plainly; the correlation id helps support find it. */
export function FormError({ error, title = 'That did not work' }: { error: unknown; title?: string }) {
  if (!error) return null;
  const correlationId = error instanceof ApiError ? error.correlationId : undefined;
  return (
    <Alert color="red" variant="light" title={title} icon={<IconAlertTriangle size={18} />} role="alert">
      {errorMessage(error)}
      {correlationId ? <div style={{ opacity: 0.7, fontSize: 12, marginTop: 4 }}>Reference: {correlationId}</div> : null}
    </Alert>
  );
}
