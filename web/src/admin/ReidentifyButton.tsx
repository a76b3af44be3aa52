/**
 * Re-identification (admins, the honest-broker function): a stated reason,
 * then the original identifiers shown once. The answer lives only in this
 * dialog: closing it forgets it (nothing in the query cache or storage).
 * Every attempt is in the audit log.
 */
import { Alert, Button, Code, Group, Modal, Stack, Table, Text } from '@mantine/core';
import { useMutation } from '@tanstack/react-query';
import { IconShieldLock } from '@tabler/icons-react';
import { useState } from 'react';
import type { OriginalIdentifiers, PatientReidentification, StudyReidentification } from '../api/subscriptions';
import { reidentifyPatient, reidentifyStudy } from '../api/subscriptions';
import { ReasonForm } from './ReasonForm';

function Originals({ title, values }: { title: string; values: OriginalIdentifiers }) {
  const rows = Object.entries(values ?? {}).filter(([, v]) => v !== null && v !== undefined && v !== '');
  return (
    <Stack gap={4}>
      <Text fw={600} size="sm">
        {title}
      </Text>
      {rows.length === 0 ? (
        <Text size="sm" c="dimmed">
          The vault holds no record.
        </Text>
      ) : (
        <Table withRowBorders={false} verticalSpacing={2}>
          <Table.Tbody>
            {rows.map(([key, value]) => (
              <Table.Tr key={key}>
                <Table.Td w="40%">
                  <Text size="xs" c="dimmed">
                    {key}
                  </Text>
                </Table.Td>
                <Table.Td>
                  <Code>{typeof value === 'string' ? value : JSON.stringify(value)}</Code>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Stack>
  );
}

export function ReidentifyButton({ kind, id }: { kind: 'study' | 'patient'; id: string }) {
  const [open, setOpen] = useState(false);
  const reveal = useMutation<StudyReidentification | PatientReidentification, Error, string>({
    mutationFn: (reason) => (kind === 'study' ? reidentifyStudy(id, reason) : reidentifyPatient(id, reason)),
    // The original identifiers must not outlive the dialog in React Query's mutation cache.
    gcTime: 0,
  });
  const close = () => {
    setOpen(false);
    reveal.reset();
  };
  const answer = reveal.data;
  return (
    <>
      <Button variant="subtle" color="orange" size="xs" leftSection={<IconShieldLock size={16} />} onClick={() => setOpen(true)}>
        Re-identify
      </Button>
      <Modal opened={open} onClose={close} title={kind === 'study' ? 'Re-identify this study' : 'Re-identify this patient'} size="lg">
        {answer ? (
          <Stack gap="md">
            <Alert color="orange" variant="light">
              Original identifiers, disclosed at {new Date(answer.disclosedAt).toLocaleString()} and recorded in the audit log with your reason. They are not kept by this page.
            </Alert>
            <Originals title="Patient" values={answer.patient.original} />
            {'study' in answer ? <Originals title="Study" values={answer.study.original} /> : null}
            {'series' in answer ? answer.series.map((s, i) => <Originals key={s.seriesInstanceUID} title={`Series ${i + 1}`} values={s.original} />) : null}
            {'studies' in answer ? <Text size="sm">{answer.studies.length} studies of this patient in the lake.</Text> : null}
            <Group justify="flex-end">
              <Button onClick={close}>Close and forget</Button>
            </Group>
          </Stack>
        ) : (
          <ReasonForm
            intro="The original identifiers leave the PHI vault only with a reason, which is kept in the audit log with your name. Name the protocol, request or ticket; do not type patient names."
            submitLabel="Show original identifiers"
            color="orange"
            pending={reveal.isPending}
            error={reveal.error}
            errorTitle="Not disclosed"
            onSubmit={(reason) => reveal.mutate(reason)}
            onCancel={close}
          />
        )}
      </Modal>
    </>
  );
}
