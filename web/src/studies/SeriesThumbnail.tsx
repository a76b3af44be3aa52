/**
 * A series thumbnail rendered by the lake (`/dicomweb/…/thumbnail`, JPEG),
 * loaded lazily; a quiet placeholder when it cannot be drawn (e.g. an SR).
 */
import { Center, Text } from '@mantine/core';
import { IconPhotoOff } from '@tabler/icons-react';
import { useState } from 'react';
import { seriesThumbnailUrl } from '../api/studies';

export function SeriesThumbnail({ study, series, label, size = 96 }: { study: string; series: string; label: string; size?: number }) {
  const [failed, setFailed] = useState(false);
  if (failed) {
    return (
      <Center w={size} h={size} bg="dark.8" style={{ borderRadius: 4, flex: 'none' }} role="img" aria-label={`${label} (no preview)`}>
        <Text c="dimmed" size="xs" ta="center">
          <IconPhotoOff size={20} aria-hidden="true" />
        </Text>
      </Center>
    );
  }
  return (
    <img
      src={seriesThumbnailUrl(study, series)}
      alt={label}
      width={size}
      height={size}
      loading="lazy"
      decoding="async"
      onError={() => setFailed(true)}
      style={{ width: size, height: size, objectFit: 'contain', background: '#000', borderRadius: 4, flex: 'none' }}
    />
  );
}
