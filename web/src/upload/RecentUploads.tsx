/** Earlier uploads (own; all of them for administrators), newest first, with their ingest totals. */
import { Anchor, Badge, Button, Group, Stack, Table, Text, Title } from '@mantine/core';
import { useInfiniteQuery } from '@tanstack/react-query';
import dayjs from 'dayjs';
import { Link } from 'react-router';
import { listUploads } from '../api/uploads';
import { FormError } from '../pages/FormError';

export function RecentUploads() {
  const uploads = useInfiniteQuery({
    queryKey: ['uploads'],
    queryFn: ({ pageParam, signal }) => listUploads({ limit: 20, before: pageParam }, signal),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next,
    refetchInterval: 15_000,
  });
  const items = uploads.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <Stack gap="xs" component="section" aria-labelledby="recent-uploads" mt="lg">
      <Title order={2} size="h4" id="recent-uploads">
        Earlier uploads
      </Title>
      <FormError error={uploads.error} title="Could not load earlier uploads" />
      {items.length === 0 && !uploads.isPending ? (
        <Text c="dimmed" size="sm">
          No uploads yet.
        </Text>
      ) : (
        <Table striped verticalSpacing={4} aria-label="Earlier uploads">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Started</Table.Th>
              <Table.Th>By</Table.Th>
              <Table.Th ta="right">Files</Table.Th>
              <Table.Th>Result</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {items.map((u) => {
              const pending = u.totals.waiting + u.totals.processing;
              return (
                <Table.Tr key={u.uploadId}>
                  <Table.Td>
                    <Anchor component={Link} to={`/uploads/${u.uploadId}`} size="sm">
                      {dayjs(u.createdAt).format('YYYY-MM-DD HH:mm')}
                    </Anchor>
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm">
                      {u.owner}
                      {u.client === 'gateway' ? (
                        <Badge ml={6} size="xs" variant="outline">
                          gateway
                        </Badge>
                      ) : null}
                    </Text>
                  </Table.Td>
                  <Table.Td ta="right">{u.totals.files}</Table.Td>
                  <Table.Td>
                    <Group gap={4}>
                      {u.totals.accepted ? <Badge size="sm" color="teal" variant="light">{u.totals.accepted} accepted</Badge> : null}
                      {u.totals.duplicate ? <Badge size="sm" color="cyan" variant="light">{u.totals.duplicate} already there</Badge> : null}
                      {u.totals.rejected ? <Badge size="sm" color="red" variant="light">{u.totals.rejected} rejected</Badge> : null}
                      {u.totals.held ? <Badge size="sm" color="yellow" variant="light">{u.totals.held} held</Badge> : null}
                      {pending ? <Badge size="sm" color="gray" variant="light">{pending} not finished</Badge> : null}
                    </Group>
                  </Table.Td>
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
      )}
      {uploads.hasNextPage ? (
        <Button variant="subtle" w="fit-content" loading={uploads.isFetchingNextPage} onClick={() => void uploads.fetchNextPage()}>
          Older uploads
        </Button>
      ) : null}
    </Stack>
  );
}
