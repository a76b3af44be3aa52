/**
 * Says so when the viewer shows an older annotation version than the latest
 * (the user picked it in the study's history: a short-lived viewer
 * selection), with a way back to the latest.
 */
import { Button, Group, Text } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { clearViewerSelection, fetchAnnotationSets, fetchViewerSelection } from '../api/annotations';

export function ViewerVersionNotice({ study, onChange }: { study: string; onChange: () => void }) {
  const queryClient = useQueryClient();
  const selection = useQuery({ queryKey: ['annotations', study, 'selection'], queryFn: ({ signal }) => fetchViewerSelection(study, signal) });
  const sets = useQuery({ queryKey: ['annotations', study, 'sets'], queryFn: ({ signal }) => fetchAnnotationSets(study, signal), enabled: Boolean(selection.data?.length) });
  const latest = useMutation({
    mutationFn: () => clearViewerSelection(study),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ['annotations', study, 'selection'] });
      onChange();
    },
  });
  if (!selection.data?.length) return null;
  const names = selection.data.map((s) => {
    const set = sets.data?.find((candidate) => candidate.setId === s.setId);
    return set ? `"${set.name}" version ${s.version} of ${set.currentVersion}` : `version ${s.version}`;
  });
  return (
    <Group gap="xs" wrap="nowrap">
      <Text size="xs" c="yellow">
        Showing annotations {names.join(', ')}
      </Text>
      <Button size="compact-xs" variant="default" onClick={() => latest.mutate()} loading={latest.isPending}>
        Show the latest
      </Button>
    </Group>
  );
}
