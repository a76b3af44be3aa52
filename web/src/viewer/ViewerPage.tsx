/**
 * OHIF v3 embedded, same origin (`/viewer/viewer?StudyInstanceUIDs=…`): the
 * session cookie authorizes its DICOMweb calls. When the session expires
 * inside the viewer it tells us (postMessage from its app-config), and we
 * refresh the session and reload it.
 */
import { Anchor, Box, Button, Group, Text } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconArrowLeft } from '@tabler/icons-react';
import { useEffect, useRef, useState } from 'react';
import { Link, useParams } from 'react-router';
import { refreshSession } from '../api/http';
import { viewerUrl } from '../api/studies';
import { ViewerVersionNotice } from './ViewerVersionNotice';

export function ViewerPage() {
  const { studyUid = '' } = useParams();
  const frame = useRef<HTMLIFrameElement>(null);
  const [reloads, setReloads] = useState(0);

  useEffect(() => {
    document.title = 'Viewer · medlake';
    let busy = false;
    const onMessage = (event: MessageEvent) => {
      if (event.origin !== window.location.origin || event.source !== frame.current?.contentWindow) return;
      const data = event.data as { type?: string; status?: number } | null;
      if (data?.type !== 'medlake:viewer-http-error' || busy) return;
      busy = true;
      void refreshSession().then((ok) => {
        busy = false;
        if (ok && data.status === 401) setReloads((n) => n + 1);
        else if (!ok) notifications.show({ color: 'red', title: 'Session expired', message: 'Sign in again to keep viewing.' });
      });
    };
    window.addEventListener('message', onMessage);
    return () => window.removeEventListener('message', onMessage);
  }, []);

  return (
    // The shell's padding is taken back so the viewer fills the window below the header.
    <Box style={{ margin: 'calc(-1 * var(--mantine-spacing-md))', height: 'calc(100dvh - var(--app-shell-header-height, 52px))', display: 'flex', flexDirection: 'column' }}>
      <Group px="sm" py={4} gap="sm" justify="space-between" style={{ borderBottom: '1px solid var(--mantine-color-default-border)' }}>
        <Button component={Link} to={`/studies/${encodeURIComponent(studyUid)}`} variant="subtle" size="xs" leftSection={<IconArrowLeft size={14} />}>
          Back to the study
        </Button>
        <ViewerVersionNotice study={studyUid} onChange={() => setReloads((n) => n + 1)} />
        <Text size="xs" c="dimmed">
          Measurements are saved to the lake as DICOM SR, each save a new version.{' '}
          <Anchor href={viewerUrl(studyUid)} target="_blank" rel="noopener" size="xs">
            Open in a new tab
          </Anchor>
        </Text>
      </Group>
      <iframe
        key={reloads}
        ref={frame}
        title="Image viewer"
        src={viewerUrl(studyUid)}
        style={{ flex: 1, width: '100%', border: 0, background: '#000' }}
        allow="fullscreen; clipboard-write"
      />
    </Box>
  );
}
