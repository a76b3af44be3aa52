/** The study browser: filters, the worklist, paging with the total. */
import { Alert, Button, Group, Loader, Pagination, Select, Stack, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useEffect, useMemo } from 'react';
import type { StudyFilter } from '@medlake/shared/query/study-filter';
import { studyFilterDefaults, studyFilterToQueryString } from '@medlake/shared/query/study-filter';
import { searchReports } from '../api/reports';
import { searchStudies } from '../api/studies';
import { FormError } from '../pages/FormError';
import { useSession } from '../session/SessionProvider';
import { can } from '../session/permissions';
import { SubscribeButton } from '../subscriptions/SubscribeButton';
import { ExportButton } from '../exports/ExportButton';
import { StudyFilters } from './StudyFilters';
import { StudyTable } from './StudyTable';
import { activeFilterCount, useStudyFilter } from './useStudyFilter';

const pageSizes = ['25', '50', '100', '200'];

/** The search a subscription or an export keeps: the filters, without sorting and paging. */
function subscriptionQuery(filter: StudyFilter): string {
  return studyFilterToQueryString({ ...filter, sort: studyFilterDefaults.sort, order: studyFilterDefaults.order, limit: studyFilterDefaults.limit, offset: 0 });
}

export function StudyBrowserPage() {
  const { me } = useSession();
  const { filter, error, change, page, reset } = useStudyFilter();
  const studies = useQuery({
    queryKey: ['studies', filter],
    queryFn: ({ signal }) => searchStudies(filter, signal),
    placeholderData: (previous) => previous,
    // A worklist is read fresh on every visit (new studies arrive all the time), and kept fresh while open.
    staleTime: 0,
    refetchInterval: 60_000,
  });
  // Where the search words matched in reports, to show beside the studies they found.
  const reportHits = useQuery({
    queryKey: ['report-hits', filter.q],
    queryFn: ({ signal }) => searchReports(filter.q ?? '', 200, signal),
    enabled: Boolean(filter.q) && can(me, 'reports:read'),
    staleTime: 60_000,
  });
  const highlights = useMemo(() => new Map((reportHits.data?.items ?? []).map((hit) => [hit.studyInstanceUID, hit.highlights])), [reportHits.data]);
  useEffect(() => {
    document.title = 'Studies · medlake';
  }, []);

  const total = studies.data?.total ?? 0;
  const pages = Math.max(1, Math.ceil(total / filter.limit));
  const current = Math.floor(filter.offset / filter.limit) + 1;
  const first = total === 0 ? 0 : filter.offset + 1;
  const last = Math.min(filter.offset + filter.limit, total);

  return (
    <Stack gap="md">
      <Group justify="space-between" align="baseline">
        <Group gap="sm" align="baseline">
          <Title order={1} size="h3">
            Studies
          </Title>
          <Text c="dimmed" size="sm" aria-live="polite">
            {studies.data ? `${total.toLocaleString()} ${total === 1 ? 'study' : 'studies'}` : ''}
          </Text>
          {studies.isFetching ? <Loader size="xs" aria-label="Loading" /> : null}
        </Group>
        <Group gap="xs">
          {can(me, 'subscriptions:manage') && activeFilterCount(filter) > 0 ? <SubscribeButton query={subscriptionQuery(filter)} /> : null}
          {can(me, 'exports:create') && studies.data ? (
            <ExportButton query={subscriptionQuery(filter)} total={total} summary={activeFilterCount(filter) > 0 ? 'the current filters' : 'every study in the lake'} />
          ) : null}
        </Group>
      </Group>
      {error ? (
        <Alert color="yellow" title="This link has a filter we cannot read" role="alert">
          {error}{' '}
          <Button size="xs" variant="light" ml="sm" onClick={reset}>
            Show all studies
          </Button>
        </Alert>
      ) : null}
      <StudyFilters filter={filter} change={change} reset={reset} />
      <FormError error={studies.error} title="Could not load the studies" />
      <StudyTable items={studies.data?.items ?? []} filter={filter} onSort={(sort, order) => change({ sort, order })} loading={studies.isPending} reportHighlights={filter.q ? highlights : undefined} />
      <Group justify="space-between">
        <Text size="sm" c="dimmed">
          {total > 0 ? `${first.toLocaleString()}–${last.toLocaleString()} of ${total.toLocaleString()}` : ''}
        </Text>
        <Pagination total={pages} value={current} onChange={(n) => page({ offset: (n - 1) * filter.limit })}
          withEdges
          aria-label="Pages"
          getControlProps={(control) => ({ 'aria-label': { first: 'First page', previous: 'Previous page', next: 'Next page', last: 'Last page' }[control] })}
          getItemProps={(n) => ({ 'aria-label': `Page ${n}` })}
        />
        <Group gap="xs">
          <Text size="sm" c="dimmed" id="page-size-label">
            Per page
          </Text>
          <Select aria-labelledby="page-size-label" data={pageSizes} value={String(filter.limit)} onChange={(v) => v && page({ limit: Number(v), offset: 0 })} w={90} allowDeselect={false} />
        </Group>
      </Group>
    </Stack>
  );
}
