/**
 * The study's de-identified report: the current text (or an earlier
 * version), who wrote each version and why, what the scrubber replaced; and,
 * for roles that may, a correction saved as a new version (nothing is
 * overwritten).
 */
import { Badge, Button, Group, Loader, Modal, Paper, Select, Stack, Text, TextInput, Textarea, Title, Tooltip } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { IconPencil } from '@tabler/icons-react';
import dayjs from 'dayjs';
import { useState } from 'react';
import type { ReportVersion } from '../api/reports';
import { fetchReport, fetchReportVersions, saveReport } from '../api/reports';
import { FormError } from '../pages/FormError';
import { useSession } from '../session/SessionProvider';
import { can } from '../session/permissions';

function scrubbedSummary(replaced: Record<string, number>): string {
  const parts = Object.entries(replaced)
    .filter(([, n]) => n > 0)
    .map(([kind, n]) => `${n} ${kind}`);
  return parts.length ? `Removed before storage: ${parts.join(', ')}.` : '';
}

function ReportEditor({ study, current, onClose }: { study: string; current: ReportVersion | null; onClose: () => void }) {
  const queryClient = useQueryClient();
  const [text, setText] = useState(current?.text ?? '');
  const [reason, setReason] = useState('');
  const save = useMutation({
    mutationFn: () => saveReport(study, text, reason),
    onSuccess: async (answer) => {
      notifications.show({ color: 'teal', message: answer.unchanged ? 'The report is unchanged.' : `Saved as version ${answer.version}.` });
      await queryClient.invalidateQueries({ queryKey: ['report', study] });
      await queryClient.invalidateQueries({ queryKey: ['study', study] });
      onClose();
    },
  });
  return (
    <Modal opened onClose={onClose} title={current ? 'Correct the report' : 'Add a report'} size="xl">
      <Stack>
        <Text size="sm" c="dimmed">
          Names, identifiers, dates, phone numbers and addresses are removed before the text is stored. {current ? 'The earlier version stays readable.' : ''}
        </Text>
        <Textarea label="Report text" autosize minRows={12} maxRows={24} value={text} onChange={(e) => setText(e.currentTarget.value)} required />
        <TextInput label="Reason" description={current ? 'Why this correction (kept with the version)' : 'Optional'} value={reason} onChange={(e) => setReason(e.currentTarget.value)} maxLength={500} />
        <FormError error={save.error} title="Not saved" />
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button onClick={() => save.mutate()} loading={save.isPending} disabled={!text.trim() || (Boolean(current) && !reason.trim())}>
            Save new version
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}

export function StudyReport({ study }: { study: string }) {
  const { me } = useSession();
  const [version, setVersion] = useState<number>();
  const [editing, setEditing] = useState(false);
  const report = useQuery({ queryKey: ['report', study, version ?? 'current'], queryFn: ({ signal }) => fetchReport(study, version, signal) });
  const hasReport = Boolean(report.data);
  const versions = useQuery({ queryKey: ['report', study, 'versions'], queryFn: ({ signal }) => fetchReportVersions(study, signal), enabled: hasReport });
  const r = report.data;
  const mayWrite = can(me, 'reports:write');

  return (
    <Paper withBorder p="md" component="section" aria-labelledby="report-heading">
      <Group justify="space-between" mb="xs">
        <Group gap="xs">
          <Title order={2} size="h4" id="report-heading">
            Report
          </Title>
          {r ? (
            <Badge variant="light" color={r.latest ? 'teal' : 'yellow'}>
              {r.latest ? `version ${r.version}` : `version ${r.version} (not the latest)`}
            </Badge>
          ) : null}
        </Group>
        <Group gap="xs">
          {(versions.data?.length ?? 0) > 1 ? (
            <Select
              aria-label="Report version"
              size="xs"
              w={200}
              allowDeselect={false}
              value={String(version ?? r?.version ?? '')}
              onChange={(v) => setVersion(v ? Number(v) : undefined)}
              data={(versions.data ?? []).map((v) => ({ value: String(v.version), label: `Version ${v.version} · ${dayjs(v.createdAt).format('YYYY-MM-DD')}` }))}
            />
          ) : null}
          {mayWrite && !report.isPending && (r?.latest ?? true) ? (
            <Button size="xs" variant="default" leftSection={<IconPencil size={14} />} onClick={() => setEditing(true)}>
              {r ? 'Correct…' : 'Add a report…'}
            </Button>
          ) : null}
        </Group>
      </Group>
      {report.isPending ? <Loader size="sm" aria-label="Loading the report" /> : null}
      <FormError error={report.error} title="Could not load the report" />
      {report.data === null ? (
        <Text c="dimmed" size="sm">
          No report.
        </Text>
      ) : null}
      {r ? (
        <Stack gap="xs">
          <Text size="sm" style={{ whiteSpace: 'pre-wrap', lineHeight: 1.6 }} component="div">
            {r.text}
          </Text>
          <Text size="xs" c="dimmed">
            {dayjs(r.createdAt).format('YYYY-MM-DD HH:mm')} · {r.source}
            {r.author ? ` · by ${r.author}` : ''}
            {r.reason ? ` · ${r.reason}` : ''}
          </Text>
          {scrubbedSummary(r.replaced) ? (
            <Tooltip label="The lake scrubs report text before storing it; the original is kept encrypted for authorized re-identification only.">
              <Text size="xs" c="dimmed" w="fit-content">
                {scrubbedSummary(r.replaced)}
              </Text>
            </Tooltip>
          ) : null}
        </Stack>
      ) : null}
      {editing ? <ReportEditor study={study} current={r ?? null} onClose={() => setEditing(false)} /> : null}
    </Paper>
  );
}
