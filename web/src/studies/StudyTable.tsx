/**
 * The worklist: one row per study, sortable columns, the series thumbnails
 * of a study one click (or Enter) away. Rows link to the study; the patient
 * links to their timeline.
 */
import { ActionIcon, Anchor, Badge, Center, Group, Loader, Mark, ScrollArea, Table, Text, Tooltip, UnstyledButton } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { IconCheck, IconChevronDown, IconChevronRight, IconChevronUp, IconSelector } from '@tabler/icons-react';
import type { StudyFilter, StudySort } from '@medlake/shared/query/study-filter';
import { Fragment, useState } from 'react';
import { Link } from 'react-router';
import { fetchStudy } from '../api/studies';
import type { StudySummary } from '../api/types';
import { FormError } from '../pages/FormError';
import { SeriesThumbnail } from './SeriesThumbnail';
import { formatAge, formatSex, formatStudyDate, formatStudyTime, shortId } from './format';

function SortHeader({ label, sort, filter, onSort }: { label: string; sort: StudySort; filter: StudyFilter; onSort: (sort: StudySort, order: 'asc' | 'desc') => void }) {
  const active = filter.sort === sort;
  const Icon = active ? (filter.order === 'asc' ? IconChevronUp : IconChevronDown) : IconSelector;
  return (
    <Table.Th aria-sort={active ? (filter.order === 'asc' ? 'ascending' : 'descending') : 'none'} style={{ whiteSpace: 'nowrap' }}>
      <UnstyledButton onClick={() => onSort(sort, active && filter.order === 'desc' ? 'asc' : 'desc')} aria-label={`Sort by ${label}`}>
        <Group gap={4} wrap="nowrap">
          <Text fw={600} size="sm" component="span">
            {label}
          </Text>
          <Icon size={14} aria-hidden="true" />
        </Group>
      </UnstyledButton>
    </Table.Th>
  );
}

/** The series strip of one study, loaded when its row opens. */
function SeriesStrip({ study }: { study: string }) {
  const detail = useQuery({ queryKey: ['study', study], queryFn: ({ signal }) => fetchStudy(study, signal) });
  if (detail.isPending) return <Loader size="sm" aria-label="Loading series" />;
  if (detail.error) return <FormError error={detail.error} title="Could not load the series" />;
  return (
    <ScrollArea type="auto" offsetScrollbars>
      <Group gap="sm" wrap="nowrap" py={4}>
        {detail.data.series.map((series) => {
          const label = `Series ${series.seriesNumber ?? '?'} ${series.modality ?? ''}${series.description ? `: ${series.description}` : ''}`;
          return (
            <Tooltip key={series.seriesInstanceUID} label={`${label} (${series.numInstances} images)`}>
              <Anchor component={Link} to={`/studies/${encodeURIComponent(study)}`} underline="never" aria-label={label}>
                <SeriesThumbnail study={study} series={series.seriesInstanceUID} label={label} size={84} />
              </Anchor>
            </Tooltip>
          );
        })}
      </Group>
    </ScrollArea>
  );
}

/** The words of a report that matched the search, in their context. */
function ReportSnippet({ segments }: { segments: { text: string; match: boolean }[] }) {
  return (
    <Text size="xs" c="dimmed" lineClamp={2} mt={2}>
      <span style={{ position: 'absolute', left: -9999 }}>Report: </span>
      {segments.map((segment, i) => (segment.match ? <Mark key={i}>{segment.text}</Mark> : <span key={i}>{segment.text}</span>))}
    </Text>
  );
}

export function StudyTable({
  items,
  filter,
  onSort,
  loading,
  reportHighlights,
}: {
  items: StudySummary[];
  filter: StudyFilter;
  onSort: (sort: StudySort, order: 'asc' | 'desc') => void;
  loading: boolean;
  /** Report matches of the text search, by study. */
  reportHighlights?: ReadonlyMap<string, { text: string; match: boolean }[]>;
}) {
  const [open, setOpen] = useState<ReadonlySet<string>>(new Set());
  const toggle = (uid: string) =>
    setOpen((current) => {
      const next = new Set(current);
      if (next.has(uid)) next.delete(uid);
      else next.add(uid);
      return next;
    });
  const columns = 12;
  return (
    <Table.ScrollContainer minWidth={1100}>
      <Table striped highlightOnHover verticalSpacing={6} aria-label="Studies" aria-busy={loading}>
        <Table.Thead>
          <Table.Tr>
            <Table.Th w={36}>
              <span style={{ position: 'absolute', left: -9999 }}>Series</span>
            </Table.Th>
            <SortHeader label="Patient" sort="patientId" filter={filter} onSort={onSort} />
            <Table.Th>Sex</Table.Th>
            <Table.Th>Age</Table.Th>
            <SortHeader label="Date" sort="studyDate" filter={filter} onSort={onSort} />
            <SortHeader label="Modality" sort="modalities" filter={filter} onSort={onSort} />
            <SortHeader label="Description" sort="description" filter={filter} onSort={onSort} />
            <Table.Th>Body part</Table.Th>
            <Table.Th ta="right">Series</Table.Th>
            <SortHeader label="Images" sort="numInstances" filter={filter} onSort={onSort} />
            <Table.Th>Report</Table.Th>
            <Table.Th>Labels</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {items.map((study) => {
            const expanded = open.has(study.studyInstanceUID);
            const studyPath = `/studies/${encodeURIComponent(study.studyInstanceUID)}`;
            return (
              <Fragment key={study.studyInstanceUID}>
                <Table.Tr data-study={study.studyInstanceUID}>
                  <Table.Td>
                    <ActionIcon variant="subtle" color="gray" onClick={() => toggle(study.studyInstanceUID)} aria-expanded={expanded} aria-label={`${expanded ? 'Hide' : 'Show'} series of the study from ${formatStudyDate(study.studyDate)}`}>
                      {expanded ? <IconChevronDown size={16} /> : <IconChevronRight size={16} />}
                    </ActionIcon>
                  </Table.Td>
                  <Table.Td style={{ whiteSpace: 'nowrap' }}>
                    <Tooltip label={study.patientId}>
                      <Anchor component={Link} to={`/patients/${encodeURIComponent(study.patientId)}`} ff="monospace" size="sm">
                        {shortId(study.patientId)}
                      </Anchor>
                    </Tooltip>
                  </Table.Td>
                  <Table.Td>
                    <Tooltip label={formatSex(study.patientSex)}>
                      <span>{formatSex(study.patientSex, true)}</span>
                    </Tooltip>
                  </Table.Td>
                  <Table.Td style={{ whiteSpace: 'nowrap' }}>{formatAge(study.patientAge)}</Table.Td>
                  <Table.Td style={{ whiteSpace: 'nowrap' }}>
                    {formatStudyDate(study.studyDate)}{' '}
                    <Text span size="xs" c="dimmed">
                      {formatStudyTime(study.studyTime)}
                    </Text>
                  </Table.Td>
                  <Table.Td>
                    <Group gap={4} wrap="nowrap">
                      {study.modalities.map((m) => (
                        <Badge key={m} size="sm" variant="outline" radius="sm">
                          {m}
                        </Badge>
                      ))}
                    </Group>
                  </Table.Td>
                  <Table.Td>
                    <Anchor component={Link} to={studyPath} size="sm" fw={500}>
                      {study.description || 'Untitled study'}
                    </Anchor>
                    {reportHighlights?.get(study.studyInstanceUID) ? <ReportSnippet segments={reportHighlights.get(study.studyInstanceUID) ?? []} /> : null}
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm">{study.bodyParts.join(', ') || '–'}</Text>
                  </Table.Td>
                  <Table.Td ta="right">{study.numSeries}</Table.Td>
                  <Table.Td ta="right">{study.numInstances}</Table.Td>
                  <Table.Td>{study.hasReport ? <IconCheck size={16} aria-label="Has a report" color="var(--mantine-color-teal-5)" /> : <Text size="sm" c="dimmed" aria-label="No report">–</Text>}</Table.Td>
                  <Table.Td>
                    <Group gap={4}>
                      {study.labels.map((label) => (
                        <Badge key={label} size="sm" variant="light" color="grape">
                          {label}
                        </Badge>
                      ))}
                    </Group>
                  </Table.Td>
                </Table.Tr>
                {expanded ? (
                  <Table.Tr>
                    <Table.Td colSpan={columns}>
                      <SeriesStrip study={study.studyInstanceUID} />
                    </Table.Td>
                  </Table.Tr>
                ) : null}
              </Fragment>
            );
          })}
          {items.length === 0 && !loading ? (
            <Table.Tr>
              <Table.Td colSpan={columns}>
                <Center py="xl">
                  <Text c="dimmed">No studies match these filters.</Text>
                </Center>
              </Table.Td>
            </Table.Tr>
          ) : null}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
