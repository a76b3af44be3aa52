/**
 * Held for review (admins): images that may show identifying text burned
 * into their pixels wait here instead of entering the lake. Each one shows
 * its rendered image (click to see it full size) and its de-identified
 * attributes; the administrator releases it into the lake or discards it,
 * with a reason that is kept and audited. Filters live in the URL.
 */
import { Anchor, Badge, Button, Card, Center, Group, Image, Loader, Modal, SegmentedControl, Select, SimpleGrid, Stack, Table, Text, Title, UnstyledButton } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
import { IconCheck, IconTrash } from '@tabler/icons-react';
import dayjs from 'dayjs';
import { useEffect, useState } from 'react';
import { Link } from 'react-router';
import type { HeldDecision, HeldFilter, HeldInstance, HeldState } from '../api/held';
import { decideHeld, listHeld } from '../api/held';
import { FormError } from '../pages/FormError';
import { useSearchParamUpdate } from '../pages/useSearchParamUpdate';
import { ReasonForm } from './ReasonForm';

const stateColors: Record<HeldState, string> = { waiting: 'yellow', released: 'teal', discarded: 'red' };
const stateChoices = [
  { value: 'waiting', label: 'Waiting' },
  { value: 'released', label: 'Released' },
  { value: 'discarded', label: 'Discarded' },
  { value: 'all', label: 'All' },
];

/** What the image is, in words (alt text and headings): class, modality, size. */
function describe(item: HeldInstance): string {
  const a = item.attributes;
  const size = a.columns && a.rows ? `${a.columns} × ${a.rows}` : undefined;
  return [a.sopClassName ?? a.sopClassUid ?? 'Image', a.modality, size].filter(Boolean).join(', ');
}

function Attributes({ item }: { item: HeldInstance }) {
  const a = item.attributes;
  const rows: [string, string | null][] = [
    ['Burned In Annotation', a.burnedInAnnotation ?? 'not declared'],
    ['Patient (pseudonym)', [a.patientId, a.patientSex, a.patientAge].filter(Boolean).join(' · ') || null],
    ['Study date (shifted)', a.studyDate],
    ['Study', a.studyDescription],
    ['Series', a.seriesDescription],
    ['Body part', a.bodyPart],
    ['Image type', a.imageType?.join('\\') ?? null],
    ['Frames', String(item.frames || a.numberOfFrames || 0)],
  ];
  return (
    <Table withRowBorders={false} verticalSpacing={2} fz="xs">
      <Table.Tbody>
        {rows.filter(([, value]) => value).map(([label, value]) => (
          <Table.Tr key={label}>
            <Table.Td w="42%" c="dimmed">
              {label}
            </Table.Td>
            <Table.Td style={{ overflowWrap: 'anywhere' }}>{value}</Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

function DecisionModal({ item, decision, onClose }: { item: HeldInstance; decision: HeldDecision; onClose: () => void }) {
  const queryClient = useQueryClient();
  const decide = useMutation({
    mutationFn: (reason: string) => decideHeld(item.sopInstanceUID, decision, reason.trim()),
    onSuccess: async (answer) => {
      notifications.show({
        color: decision === 'release' ? 'teal' : 'orange',
        message: decision === 'release'
          ? answer.outcome === 'duplicate' ? 'Released: the same image was already in the lake.' : 'Released into the lake.'
          : 'Discarded: it stays out of the lake.',
      });
      await queryClient.invalidateQueries({ queryKey: ['held'] });
      onClose();
    },
  });
  const release = decision === 'release';
  return (
    <Modal opened onClose={onClose} title={release ? 'Release into the lake' : 'Discard this image'}>
      <ReasonForm
        intro={release
          ? 'Release only when the image shows no name, ID, date of birth or other identifying text: it becomes visible to everyone who may read studies, and is exported with them.'
          : 'The image stays out of the lake for good; its de-identified file is kept as a record of what arrived.'}
        hint="kept with the decision and in the audit log. Do not type patient names."
        submitLabel={release ? 'Release' : 'Discard'}
        color={release ? 'teal' : 'red'}
        pending={decide.isPending}
        error={decide.error}
        errorTitle={release ? 'Not released' : 'Not discarded'}
        onSubmit={(reason) => decide.mutate(reason)}
        onCancel={onClose}
      />
    </Modal>
  );
}

function HeldCard({ item }: { item: HeldInstance }) {
  const [deciding, setDeciding] = useState<HeldDecision | null>(null);
  const [enlarged, setEnlarged] = useState(false);
  const label = describe(item);
  return (
    <Card withBorder padding="sm" radius="md" component="article" aria-label={label}>
      <Card.Section>
        {item.preview ? (
          <UnstyledButton onClick={() => setEnlarged(true)} aria-label={`Show ${label} full size`} w="100%">
            <Image src={item.preview} alt={`Held image: ${label}`} h={220} fit="contain" bg="dark.8" />
          </UnstyledButton>
        ) : (
          <Center h={220} bg="gray.1">
            <Text size="sm" c="dimmed" ta="center" px="md">
              No preview: {item.frames === 0 ? 'the instance holds no image.' : 'the image is stored compressed.'}
            </Text>
          </Center>
        )}
      </Card.Section>
      <Stack gap={6} mt="sm">
        <Group justify="space-between" align="flex-start" wrap="nowrap">
          <Text fw={600} size="sm">
            {label}
          </Text>
          <Badge color={stateColors[item.state]} variant="light" style={{ flexShrink: 0 }}>
            {item.state}
          </Badge>
        </Group>
        <Text size="xs">{item.reason}</Text>
        <Attributes item={item} />
        <Text size="xs" c="dimmed">
          Held {dayjs(item.heldAt).format('YYYY-MM-DD HH:mm')}
          {item.uploadId ? (
            <>
              {' · '}
              <Anchor component={Link} to={`/uploads/${item.uploadId}`} size="xs" underline="always">
                upload, file {(item.fileIndex ?? 0) + 1}
              </Anchor>
            </>
          ) : null}
        </Text>
        {item.state === 'waiting' ? (
          <Group gap="xs" mt={4}>
            <Button size="xs" color="teal" leftSection={<IconCheck size={14} />} onClick={() => setDeciding('release')} aria-label={`Release ${label}`}>
              Release
            </Button>
            <Button size="xs" color="red" variant="light" leftSection={<IconTrash size={14} />} onClick={() => setDeciding('discard')} aria-label={`Discard ${label}`}>
              Discard
            </Button>
          </Group>
        ) : (
          <Text size="xs">
            {item.state === 'released' ? 'Released' : 'Discarded'} by {item.decidedBy ?? 'someone'}
            {item.decidedAt ? ` on ${dayjs(item.decidedAt).format('YYYY-MM-DD HH:mm')}` : ''}: {item.decisionReason}
          </Text>
        )}
      </Stack>
      {deciding ? <DecisionModal item={item} decision={deciding} onClose={() => setDeciding(null)} /> : null}
      {enlarged && item.preview ? (
        <Modal opened onClose={() => setEnlarged(false)} title={label} size="auto">
          <Image src={item.preview} alt={`Held image, full size: ${label}`} maw="90vw" mah="80vh" fit="contain" />
        </Modal>
      ) : null}
    </Card>
  );
}

export function HeldPage() {
  const [params, update] = useSearchParamUpdate();
  const filter: HeldFilter = {
    state: (stateChoices.some((c) => c.value === params.get('state')) ? params.get('state') : 'waiting') as HeldFilter['state'],
    upload: params.get('upload') ?? undefined,
    reason: params.get('reason') ?? undefined,
  };
  useEffect(() => {
    document.title = 'Held for review · medlake';
  }, []);
  const held = useInfiniteQuery({
    queryKey: ['held', filter],
    queryFn: ({ pageParam, signal }) => listHeld(filter, pageParam, signal),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next,
  });
  const first = held.data?.pages[0];
  const items = held.data?.pages.flatMap((p) => p.items) ?? [];
  const reasons = (first?.reasons ?? []).map((r) => ({ value: r.reason, label: `${r.reason} (${r.count})` }));
  if (filter.reason && !reasons.some((r) => r.value === filter.reason)) reasons.push({ value: filter.reason, label: filter.reason });

  return (
    <Stack gap="md">
      <Group justify="space-between">
        <Title order={1} size="h3">
          Held for review{first ? ` (${first.total})` : ''}
        </Title>
        {held.isFetching ? <Loader size="xs" aria-label="Loading" /> : null}
      </Group>
      <Text size="sm" c="dimmed" maw={760}>
        Images that may show identifying text burned into their pixels (declared so, or of a kind that often does) wait here before they enter the lake. Look at each one: release it if it shows nothing identifying, discard it otherwise.
      </Text>
      <Group align="flex-end" gap="sm" wrap="wrap">
        <SegmentedControl aria-label="Review state" data={stateChoices} value={filter.state} onChange={(value) => update({ state: value === 'waiting' ? undefined : value })} />
        <Select label="Why held" placeholder="Any reason" data={reasons} value={filter.reason ?? null} onChange={(value) => update({ reason: value ?? undefined })} clearable w={420} />
        {filter.upload ? (
          <Button variant="light" size="sm" onClick={() => update({ upload: undefined })}>
            Only upload {filter.upload.slice(0, 8)}… (show all)
          </Button>
        ) : null}
      </Group>
      <FormError error={held.error} title="Could not load the held instances" />
      {items.length === 0 && !held.isPending ? (
        <Text c="dimmed">{filter.state === 'waiting' ? 'Nothing is waiting for review.' : 'No held instance matches.'}</Text>
      ) : (
        <SimpleGrid cols={{ base: 1, sm: 2, lg: 3, xl: 4 }} spacing="md">
          {items.map((item) => (
            <HeldCard key={item.sopInstanceUID} item={item} />
          ))}
        </SimpleGrid>
      )}
      {held.hasNextPage ? (
        <Button variant="subtle" w="fit-content" loading={held.isFetchingNextPage} onClick={() => void held.fetchNextPage()}>
          Older
        </Button>
      ) : null}
    </Stack>
  );
}
