/**
 * One study: who (pseudonymous), when, what; its series with thumbnails; the
 * report and the annotations once the lake has them; "Open viewer".
 */
import { Anchor, Badge, Breadcrumbs, Button, Card, Group, Loader, Paper, SimpleGrid, Stack, Text, Title, Tooltip } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { IconEye } from '@tabler/icons-react';
import { useEffect } from 'react';
import { Link, useParams } from 'react-router';
import { ReidentifyButton } from '../admin/ReidentifyButton';
import { fetchStudy } from '../api/studies';
import { FormError } from '../pages/FormError';
import { useSession } from '../session/SessionProvider';
import { can } from '../session/permissions';
import { SeriesThumbnail } from './SeriesThumbnail';
import { StudyAnnotations } from './StudyAnnotations';
import { StudyReport } from './StudyReport';
import { formatAge, formatSex, formatStudyDate, formatStudyTime, shortId } from './format';

function Fact({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      <Text size="sm" component="div">
        {children}
      </Text>
    </div>
  );
}

export function StudyPage() {
  const { me } = useSession();
  const { studyUid = '' } = useParams();
  const study = useQuery({ queryKey: ['study', studyUid], queryFn: ({ signal }) => fetchStudy(studyUid, signal) });
  useEffect(() => {
    document.title = `${study.data?.description || 'Study'} · medlake`;
  }, [study.data?.description]);

  if (study.isPending) return <Loader aria-label="Loading the study" />;
  if (study.error) return <FormError error={study.error} title="Could not load the study" />;
  const s = study.data;
  const viewerPath = `/studies/${encodeURIComponent(s.studyInstanceUID)}/viewer`;
  const series = [...s.series].sort((a, b) => (a.seriesNumber ?? 1e9) - (b.seriesNumber ?? 1e9));

  return (
    <Stack gap="lg">
      <Breadcrumbs>
        <Anchor component={Link} to="/studies">
          Studies
        </Anchor>
        <Anchor component={Link} to={`/patients/${encodeURIComponent(s.patientId)}`}>
          Patient {shortId(s.patientId)}
        </Anchor>
        <Text size="sm">{formatStudyDate(s.studyDate)}</Text>
      </Breadcrumbs>
      <Group justify="space-between" align="flex-start">
        <Stack gap={4}>
          <Title order={1} size="h3">
            {s.description || 'Untitled study'}
          </Title>
          <Group gap={6}>
            {s.modalities.map((m) => (
              <Badge key={m} variant="outline">
                {m}
              </Badge>
            ))}
            {s.labels.map((label) => (
              <Badge key={label} variant="light" color="grape">
                {label}
              </Badge>
            ))}
          </Group>
        </Stack>
        <Group gap="sm">
          {can(me, 'phi:reidentify') ? <ReidentifyButton kind="study" id={s.studyInstanceUID} /> : null}
          <Button component={Link} to={viewerPath} size="md" leftSection={<IconEye size={18} />}>
            Open viewer
          </Button>
        </Group>
      </Group>
      <Paper withBorder p="md">
        <SimpleGrid cols={{ base: 2, sm: 4, lg: 8 }} spacing="md">
          <Fact label="Patient">
            <Tooltip label={s.patientId}>
              <Anchor component={Link} to={`/patients/${encodeURIComponent(s.patientId)}`} ff="monospace">
                {shortId(s.patientId)}
              </Anchor>
            </Tooltip>
          </Fact>
          <Fact label="Sex">{formatSex(s.patientSex)}</Fact>
          <Fact label="Age">{formatAge(s.patientAge)}</Fact>
          <Fact label="Date">
            {formatStudyDate(s.studyDate)} {formatStudyTime(s.studyTime)}
          </Fact>
          <Fact label="Accession">{s.accessionNumber || '–'}</Fact>
          <Fact label="Body part">{s.bodyParts.join(', ') || '–'}</Fact>
          <Fact label="Series">{s.numSeries}</Fact>
          <Fact label="Images">{s.numInstances}</Fact>
        </SimpleGrid>
      </Paper>

      <Stack gap="sm" component="section" aria-labelledby="series-heading">
        <Title order={2} size="h4" id="series-heading">
          Series
        </Title>
        <SimpleGrid cols={{ base: 2, sm: 3, md: 4, lg: 6, xl: 8 }} spacing="sm">
          {series.map((item) => {
            const label = `Series ${item.seriesNumber ?? '?'} ${item.modality ?? ''}${item.description ? `: ${item.description}` : ''}`;
            return (
              <Card key={item.seriesInstanceUID} withBorder padding="xs" component={Link} to={viewerPath} title={`Open ${label} in the viewer`}>
                <Card.Section>
                  <SeriesThumbnail study={s.studyInstanceUID} series={item.seriesInstanceUID} label={label} size={160} />
                </Card.Section>
                <Text size="sm" fw={500} mt={6} lineClamp={1}>
                  {item.description || 'Untitled series'}
                </Text>
                <Text size="xs" c="dimmed">
                  #{item.seriesNumber ?? '?'} · {item.modality ?? '?'} · {item.numInstances} {item.numInstances === 1 ? 'image' : 'images'}
                  {item.bodyPart ? ` · ${item.bodyPart}` : ''}
                </Text>
              </Card>
            );
          })}
        </SimpleGrid>
      </Stack>

      <SimpleGrid cols={{ base: 1, md: 2 }} spacing="md">
        <StudyReport study={s.studyInstanceUID} />
        <StudyAnnotations study={s.studyInstanceUID} labels={s.labels} />
      </SimpleGrid>
    </Stack>
  );
}
