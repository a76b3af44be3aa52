/**
 * The study's annotation sets with their whole history (every viewer save or
 * API write is a version: author, time, message, parent), opening any
 * version in the viewer (a short-lived viewer selection: DICOMweb then shows
 * that version to this user instead of the latest), what changed between a
 * version and its parent, restoring an old version as a new one, and the
 * study's classification labels (versioned too). docs/annotations.md.
 */
import { Accordion, Anchor, Badge, Button, Group, Loader, Modal, MultiSelect, Paper, Select, Stack, Table, Text, Title, Tooltip, VisuallyHidden } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { IconEye, IconHistory, IconTags } from '@tabler/icons-react';
import dayjs from 'dayjs';
import { useState } from 'react';
import { useNavigate } from 'react-router';
import type { AnnotationSetSummary, LabelTerm, VersionSummary } from '../api/annotations';
import {
  annotationSrUrl,
  clearViewerSelection,
  fetchAnnotationDiff,
  fetchAnnotationSets,
  fetchAnnotationVersions,
  fetchLabelVocabulary,
  fetchStudyLabels,
  fetchViewerSelection,
  restoreAnnotationVersion,
  saveStudyLabels,
  selectViewerVersion,
} from '../api/annotations';
import { FormError } from '../pages/FormError';
import { useSession } from '../session/SessionProvider';
import { can } from '../session/permissions';

const sourceNames: Record<VersionSummary['source'], string> = { viewer: 'viewer', api: 'API', restore: 'restore', upload: 'upload' };

function VersionChanges({ study, setId, version, parent, onClose }: { study: string; setId: string; version: number; parent: number; onClose: () => void }) {
  const diff = useQuery({ queryKey: ['annotations', study, setId, 'diff', parent, version], queryFn: ({ signal }) => fetchAnnotationDiff(study, setId, parent, version, signal) });
  const describe = (m: { tool: string; label: string | null; value: number | null; unit: string | null } | { number: number; label: string }) =>
    'number' in m
      ? `segment ${m.number}${m.label ? ` "${m.label}"` : ''}`
      : `${m.tool}${m.label ? ` "${m.label}"` : ''}${m.value !== null ? ` ${m.value}${m.unit && m.unit !== '1' ? ` ${m.unit}` : ''}` : ''}`;
  type Item = Parameters<typeof describe>[0];
  return (
    <Modal opened onClose={onClose} title={`Version ${version} compared with version ${parent}`} size="lg">
      {diff.isPending ? <Loader size="sm" aria-label="Comparing versions" /> : null}
      <FormError error={diff.error} title="Could not compare the versions" />
      {diff.data ? (
        <Stack gap="xs">
          <Text size="sm">
            {diff.data.added.length} added · {diff.data.removed.length} removed · {diff.data.changed.length} changed · {diff.data.unchanged} unchanged
          </Text>
          {(diff.data.added as Item[]).map((m, i) => (
            <Text key={`a${i}`} size="sm" c="teal">
              + {describe(m)}
            </Text>
          ))}
          {(diff.data.removed as Item[]).map((m, i) => (
            <Text key={`r${i}`} size="sm" c="red">
              − {describe(m)}
            </Text>
          ))}
          {(diff.data.changed as { before: Item; after: Item; fields: string[] }[]).map((c, i) => (
            <Text key={`c${i}`} size="sm" c="yellow">
              ~ {describe(c.before)} → {describe(c.after)} ({c.fields.join(', ')})
            </Text>
          ))}
        </Stack>
      ) : null}
    </Modal>
  );
}

function SetHistory({ study, set, shownVersion, mayWrite }: { study: string; set: AnnotationSetSummary; shownVersion: number; mayWrite: boolean }) {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [comparing, setComparing] = useState<{ version: number; parent: number }>();
  const versions = useQuery({ queryKey: ['annotations', study, set.setId, 'versions'], queryFn: ({ signal }) => fetchAnnotationVersions(study, set.setId, signal) });
  const view = useMutation({
    mutationFn: async (version: number) => {
      if (version === set.currentVersion) await clearViewerSelection(study);
      else await selectViewerVersion(study, set.setId, version);
    },
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ['annotations', study, 'selection'] });
      await navigate(`/studies/${encodeURIComponent(study)}/viewer`);
    },
  });
  const restore = useMutation({
    mutationFn: (version: number) => restoreAnnotationVersion(study, set.setId, version, set.currentVersion),
    onSuccess: async (created) => {
      notifications.show({ color: 'teal', message: `Restored as version ${created.version}.` });
      await queryClient.invalidateQueries({ queryKey: ['annotations', study] });
    },
    onError: async () => {
      await queryClient.invalidateQueries({ queryKey: ['annotations', study] });
    },
  });

  return (
    <Stack gap="xs">
      <FormError error={versions.error ?? view.error ?? restore.error} title="That did not work" />
      {versions.isPending ? <Loader size="sm" aria-label="Loading the versions" /> : null}
      <Table.ScrollContainer minWidth={520}>
      <Table striped highlightOnHover verticalSpacing={4} fz="sm">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Version</Table.Th>
            <Table.Th>Saved</Table.Th>
            <Table.Th>Measurements</Table.Th>
            <Table.Th>
              <VisuallyHidden>Actions</VisuallyHidden>
            </Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {[...(versions.data ?? [])].reverse().map((v) => (
            <Table.Tr key={v.version}>
              <Table.Td style={{ whiteSpace: 'nowrap' }}>
                <Text size="sm" fw={600} span>
                  {v.version}
                </Text>
                {v.version === set.currentVersion ? (
                  <Badge size="xs" variant="light" color="teal" tt="none" ml={6}>
                    latest
                  </Badge>
                ) : null}
                {v.version === shownVersion && shownVersion !== set.currentVersion ? (
                  <Badge size="xs" variant="light" color="yellow" tt="none" ml={6}>
                    in your viewer
                  </Badge>
                ) : null}
              </Table.Td>
              <Table.Td>
                <Tooltip label={`${sourceNames[v.source]}${v.parentVersion ? `, from version ${v.parentVersion}` : ''}${v.restoredFrom ? `, repeats version ${v.restoredFrom}` : ''}`}>
                  <Text size="sm" style={{ whiteSpace: 'nowrap' }}>
                    {dayjs(v.createdAt).format('YYYY-MM-DD HH:mm')}
                  </Text>
                </Tooltip>
                <Text size="xs" c="dimmed">
                  {v.author.name ?? 'unknown'}
                  {v.message ? ` · ${v.message}` : ''}
                </Text>
              </Table.Td>
              <Table.Td>
                <Text size="sm">
                  {set.kind === 'segmentation' ? `${v.segmentCount} ${v.segmentCount === 1 ? 'segment' : 'segments'}` : v.measurementCount}
                  {v.labels.length ? ` · ${v.labels.join(', ')}` : ''}
                </Text>
              </Table.Td>
              <Table.Td>
                <Group gap={2} justify="flex-end" wrap="nowrap">
                  <Button size="compact-xs" variant="subtle" leftSection={<IconEye size={12} />} onClick={() => view.mutate(v.version)} loading={view.isPending && view.variables === v.version}>
                    View
                  </Button>
                  {v.parentVersion ? (
                    <Button size="compact-xs" variant="subtle" onClick={() => setComparing({ version: v.version, parent: v.parentVersion as number })}>
                      Changes
                    </Button>
                  ) : null}
                  {mayWrite && v.version !== set.currentVersion ? (
                    <Button size="compact-xs" variant="subtle" onClick={() => restore.mutate(v.version)} loading={restore.isPending && restore.variables === v.version}>
                      Restore
                    </Button>
                  ) : null}
                  <Anchor size="xs" href={annotationSrUrl(study, set.setId, v.version)} download>
                    SR
                  </Anchor>
                </Group>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      </Table.ScrollContainer>
      {comparing ? <VersionChanges study={study} setId={set.setId} version={comparing.version} parent={comparing.parent} onClose={() => setComparing(undefined)} /> : null}
    </Stack>
  );
}

function LabelEditor({ study, terms, current, onClose }: { study: string; terms: LabelTerm[]; current: { version: number; labels: { code: string; value: string | null }[] }; onClose: () => void }) {
  const queryClient = useQueryClient();
  const usable = terms.filter((t) => t.levels.includes('study'));
  const [codes, setCodes] = useState<string[]>(current.labels.map((l) => l.code).filter((c) => usable.some((t) => t.code === c)));
  const [values, setValues] = useState<Record<string, string | null>>(Object.fromEntries(current.labels.map((l) => [l.code, l.value])));
  const save = useMutation({
    mutationFn: () => saveStudyLabels(study, codes.map((code) => ({ code, value: values[code] ?? null })), current.version),
    onSuccess: async (answer) => {
      notifications.show({ color: 'teal', message: answer.changed ? `Labels saved as version ${answer.version}.` : 'The labels are unchanged.' });
      await queryClient.invalidateQueries({ queryKey: ['labels', study] });
      await queryClient.invalidateQueries({ queryKey: ['study', study] });
      onClose();
    },
  });
  const missingValue = codes.some((code) => (usable.find((t) => t.code === code)?.values.length ?? 0) > 0 && !values[code]);
  return (
    <Modal opened onClose={onClose} title="Study labels" size="md">
      <Stack>
        <MultiSelect label="Labels" data={usable.map((t) => ({ value: t.code, label: t.display }))} value={codes} onChange={setCodes} searchable clearable />
        {codes
          .map((code) => usable.find((t) => t.code === code))
          .filter((t): t is LabelTerm => Boolean(t && t.values.length))
          .map((t) => (
            <Select key={t.code} label={t.display} data={t.values} value={values[t.code] ?? null} onChange={(v) => setValues({ ...values, [t.code]: v })} required />
          ))}
        <Text size="xs" c="dimmed">
          Saved as a new version; the earlier ones stay in the history.
        </Text>
        <FormError error={save.error} title="Not saved" />
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button onClick={() => save.mutate()} loading={save.isPending} disabled={missingValue}>
            Save labels
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}

export function StudyAnnotations({ study, labels }: { study: string; labels: string[] }) {
  const { me } = useSession();
  const queryClient = useQueryClient();
  const [editingLabels, setEditingLabels] = useState(false);
  const mayWrite = can(me, 'annotations:write');
  const sets = useQuery({ queryKey: ['annotations', study, 'sets'], queryFn: ({ signal }) => fetchAnnotationSets(study, signal) });
  const selection = useQuery({ queryKey: ['annotations', study, 'selection'], queryFn: ({ signal }) => fetchViewerSelection(study, signal) });
  const studyLabels = useQuery({ queryKey: ['labels', study], queryFn: ({ signal }) => fetchStudyLabels(study, signal) });
  const vocabulary = useQuery({ queryKey: ['labels', 'vocabulary'], queryFn: ({ signal }) => fetchLabelVocabulary(signal), enabled: mayWrite });
  const showLatest = useMutation({
    mutationFn: () => clearViewerSelection(study),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['annotations', study, 'selection'] }),
  });
  const shown = new Map((selection.data ?? []).map((s) => [s.setId, s.version]));

  return (
    <Paper withBorder p="md" component="section" aria-labelledby="annotations-heading">
      <Group justify="space-between" mb="xs">
        <Title order={2} size="h4" id="annotations-heading">
          Annotations and labels
        </Title>
        {shown.size ? (
          <Button size="xs" variant="default" leftSection={<IconHistory size={14} />} onClick={() => showLatest.mutate()} loading={showLatest.isPending}>
            Viewer: show the latest versions
          </Button>
        ) : null}
      </Group>
      <Stack gap="sm">
        <Group gap={6}>
          {labels.map((label) => (
            <Badge key={label} variant="light" color="grape">
              {label}
            </Badge>
          ))}
          {mayWrite && studyLabels.data && vocabulary.data ? (
            <Button size="compact-xs" variant="subtle" leftSection={<IconTags size={12} />} onClick={() => setEditingLabels(true)}>
              {labels.length ? 'Edit labels…' : 'Add labels…'}
            </Button>
          ) : null}
        </Group>
        {studyLabels.data?.version && studyLabels.data.author ? (
          <Text size="xs" c="dimmed">
            Study labels version {studyLabels.data.version} · {studyLabels.data.author.name ?? 'unknown'} · {dayjs(studyLabels.data.updatedAt).format('YYYY-MM-DD HH:mm')}
          </Text>
        ) : null}
        <FormError error={sets.error ?? showLatest.error} title="Could not load the annotations" />
        {sets.isPending ? <Loader size="sm" aria-label="Loading the annotations" /> : null}
        {sets.data?.length === 0 ? (
          <Text c="dimmed" size="sm">
            No annotations yet. Measurements saved in the viewer are stored with the study, each save as a new version.
          </Text>
        ) : null}
        {sets.data?.length ? (
          <Accordion variant="separated" chevronPosition="left" multiple defaultValue={sets.data.length === 1 ? [sets.data[0]?.setId ?? ''] : []}>
            {sets.data.map((set) => (
              <Accordion.Item key={set.setId} value={set.setId}>
                <Accordion.Control>
                  <Group gap="xs">
                    <Text size="sm" fw={600}>
                      {set.name}
                    </Text>
                    <Badge size="sm" variant="light" tt="none">
                      {set.currentVersion} {set.currentVersion === 1 ? 'version' : 'versions'}
                    </Badge>
                  </Group>
                  <Text size="xs" c="dimmed">
                    {set.author.name ?? 'unknown'} · {dayjs(set.updatedAt).format('YYYY-MM-DD HH:mm')} · {set.kind === 'segmentation' ? `segmentation · ${set.latest.segmentCount} ${set.latest.segmentCount === 1 ? 'segment' : 'segments'}` : `${set.latest.measurementCount} ${set.latest.measurementCount === 1 ? 'measurement' : 'measurements'}`}
                  </Text>
                </Accordion.Control>
                <Accordion.Panel>
                  <SetHistory study={study} set={set} shownVersion={shown.get(set.setId) ?? set.currentVersion} mayWrite={mayWrite} />
                </Accordion.Panel>
              </Accordion.Item>
            ))}
          </Accordion>
        ) : null}
      </Stack>
      {editingLabels && studyLabels.data && vocabulary.data ? <LabelEditor study={study} terms={vocabulary.data} current={studyLabels.data} onClose={() => setEditingLabels(false)} /> : null}
    </Paper>
  );
}
