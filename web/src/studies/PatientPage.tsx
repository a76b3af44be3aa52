/** All studies of one pseudonymous patient, on a timeline (newest first). */
import { Anchor, Badge, Breadcrumbs, Group, Loader, Stack, Text, Timeline, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { IconCalendar } from '@tabler/icons-react';
import { useEffect } from 'react';
import { Link, useParams } from 'react-router';
import { ReidentifyButton } from '../admin/ReidentifyButton';
import { fetchPatientStudies } from '../api/studies';
import { FormError } from '../pages/FormError';
import { useSession } from '../session/SessionProvider';
import { can } from '../session/permissions';
import { formatAge, formatSex, formatStudyDate, shortId } from './format';

/** Whole days between two ISO dates (the intervals stay true: the date shift is per patient). */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to.slice(0, 10)}T00:00:00Z`) - Date.parse(`${from.slice(0, 10)}T00:00:00Z`)) / 86_400_000);
}

function interval(days: number): string {
  if (days < 60) return `${days} days later`;
  if (days < 730) return `${Math.round(days / 30.4)} months later`;
  return `${(days / 365.25).toFixed(1)} years later`;
}

export function PatientPage() {
  const { me } = useSession();
  const { patientId = '' } = useParams();
  const patient = useQuery({ queryKey: ['patient', patientId], queryFn: ({ signal }) => fetchPatientStudies(patientId, signal) });
  useEffect(() => {
    document.title = `Patient ${shortId(patientId)} · medlake`;
  }, [patientId]);

  if (patient.isPending) return <Loader aria-label="Loading the patient's studies" />;
  if (patient.error) return <FormError error={patient.error} title="Could not load the patient's studies" />;
  const studies = [...patient.data.items].sort((a, b) => (b.studyDate ?? '').localeCompare(a.studyDate ?? ''));
  const sex = studies[0]?.patientSex;
  const more = patient.data.total - studies.length;

  return (
    <Stack gap="lg">
      <Breadcrumbs>
        <Anchor component={Link} to="/studies">
          Studies
        </Anchor>
        <Text size="sm">Patient {shortId(patientId)}</Text>
      </Breadcrumbs>
      <Stack gap={4}>
        <Group justify="space-between" align="flex-start">
          <Title order={1} size="h3">
            Patient <span style={{ fontFamily: 'var(--mantine-font-family-monospace)' }}>{patientId}</span>
          </Title>
          {can(me, 'phi:reidentify') ? <ReidentifyButton kind="patient" id={patientId} /> : null}
        </Group>
        <Text c="dimmed" size="sm">
          {formatSex(sex)} · {patient.data.total} {patient.data.total === 1 ? 'study' : 'studies'} · dates are shifted for privacy; intervals between studies are true.
        </Text>
        {more > 0 ? (
          <Text size="sm" c="yellow">
            The {studies.length} most recent are shown; find the others in the study list filtered by this patient.
          </Text>
        ) : null}
      </Stack>
      <Timeline active={studies.length} bulletSize={22} lineWidth={2} aria-label="Studies over time">
        {studies.map((study, i) => {
          const older = studies[i + 1];
          return (
            <Timeline.Item key={study.studyInstanceUID} bullet={<IconCalendar size={12} />} title={<Anchor component={Link} to={`/studies/${encodeURIComponent(study.studyInstanceUID)}`} fw={600}>{formatStudyDate(study.studyDate)} · {study.description || 'Untitled study'}</Anchor>}>
              <Group gap={6} mt={4}>
                {study.modalities.map((m) => (
                  <Badge key={m} size="sm" variant="outline">
                    {m}
                  </Badge>
                ))}
                <Text size="sm" c="dimmed">
                  {study.numSeries} series · {study.numInstances} images · age {formatAge(study.patientAge)}
                  {study.bodyParts.length ? ` · ${study.bodyParts.join(', ')}` : ''}
                  {study.hasReport ? ' · report' : ''}
                </Text>
              </Group>
              {older?.studyDate && study.studyDate ? (
                <Text size="xs" c="dimmed" mt={4}>
                  {interval(daysBetween(older.studyDate, study.studyDate))} than the study before
                </Text>
              ) : null}
            </Timeline.Item>
          );
        })}
      </Timeline>
    </Stack>
  );
}
