/**
 * "Export" in the study browser: the studies the current filters select go
 * into one zip (DICOM, reports, annotations, manifests), prepared in the
 * background; the export page follows it and offers the download.
 */
import { Button, Checkbox, Group, Modal, SegmentedControl, Stack, Text, TextInput } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { IconPackageExport } from '@tabler/icons-react';
import { useState } from 'react';
import { useNavigate } from 'react-router';
import type { ExportCompression, ExportLayout } from '../api/exports';
import { createExport } from '../api/exports';
import { FormError } from '../pages/FormError';
import { formatBytes } from '../upload/meter';

export function ExportButton({ query, total, summary }: { query: string; total: number; summary: string }) {
  const [open, setOpen] = useState(false);
  const [name, setName] = useState('');
  const [reports, setReports] = useState(true);
  const [annotations, setAnnotations] = useState(true);
  const [layout, setLayout] = useState<ExportLayout>('patient/study/series');
  const [compression, setCompression] = useState<ExportCompression>('store');
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const start = useMutation({
    mutationFn: () => createExport({ name: name.trim() || undefined, filter: query, options: { reports, annotations, layout, compression } }),
    onSuccess: async (created) => {
      setOpen(false);
      notifications.show({
        color: 'teal',
        title: 'Export started',
        message: `${created.estimate.studies} ${created.estimate.studies === 1 ? 'study' : 'studies'}, ${created.estimate.instances} ${created.estimate.instances === 1 ? 'image' : 'images'}, about ${formatBytes(created.estimate.bytes)}. You get an email when the zip is ready.`,
      });
      await queryClient.invalidateQueries({ queryKey: ['exports'] });
      void navigate('/exports');
    },
  });
  return (
    <>
      <Button variant="light" size="xs" leftSection={<IconPackageExport size={16} />} onClick={() => setOpen(true)} disabled={total === 0}>
        Export {total.toLocaleString()} {total === 1 ? 'study' : 'studies'}
      </Button>
      <Modal opened={open} onClose={() => setOpen(false)} title="Export these studies">
        <form
          onSubmit={(event) => {
            event.preventDefault();
            start.mutate();
          }}
        >
          <Stack gap="sm">
            <Text size="sm">
              {total.toLocaleString()} {total === 1 ? 'study' : 'studies'} ({summary}) into one zip of de-identified DICOM files, with manifests. It is prepared in the background; the link is kept for 7 days.
            </Text>
            <TextInput label="Name" placeholder="e.g. Chest CT 2020 cohort" value={name} onChange={(e) => setName(e.currentTarget.value)} maxLength={120} data-autofocus />
            <Checkbox label="Reports (de-identified text)" checked={reports} onChange={(e) => setReports(e.currentTarget.checked)} />
            <Checkbox label="Annotations (measurement SRs, as DICOM and JSON)" checked={annotations} onChange={(e) => setAnnotations(e.currentTarget.checked)} />
            <div>
              <Text size="sm" fw={500} id="export-layout-label" mb={4}>
                Folders
              </Text>
              <SegmentedControl aria-labelledby="export-layout-label" value={layout} onChange={(v) => setLayout(v as ExportLayout)} data={[{ value: 'patient/study/series', label: 'Patient / study / series' }, { value: 'study', label: 'By study' }]} />
            </div>
            <div>
              <Text size="sm" fw={500} id="export-compression-label" mb={4}>
                Compression
              </Text>
              <SegmentedControl aria-labelledby="export-compression-label" value={compression} onChange={(v) => setCompression(v as ExportCompression)} data={[{ value: 'store', label: 'None (fastest)' }, { value: 'deflate', label: 'Deflate' }]} />
            </div>
            <FormError error={start.error} title="The export was not started" />
            <Group justify="flex-end">
              <Button variant="default" onClick={() => setOpen(false)}>
                Cancel
              </Button>
              <Button type="submit" loading={start.isPending}>
                Start the export
              </Button>
            </Group>
          </Stack>
        </form>
      </Modal>
    </>
  );
}
