import { Group, Text } from '@mantine/core';

/** The medlake mark and name. */
export function Brand({ size = 'lg' }: { size?: 'md' | 'lg' | 'xl' }) {
  const px = size === 'xl' ? 36 : size === 'lg' ? 28 : 22;
  return (
    <Group gap={8} wrap="nowrap">
      <svg width={px} height={px} viewBox="0 0 32 32" aria-hidden="true">
        <rect width="32" height="32" rx="6" fill="#0f1115" />
        <path d="M5 22c4-6 7-6 11 0s7 6 11 0" fill="none" stroke="#22b8cf" strokeWidth="3" strokeLinecap="round" />
        <circle cx="16" cy="11" r="4" fill="#22b8cf" />
      </svg>
      <Text fw={700} size={size} component="span">
        medlake
      </Text>
    </Group>
  );
}
