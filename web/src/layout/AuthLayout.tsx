/** The frame of the pages before sign-in: one centered card. */
import { Anchor, Center, Paper, Stack, Text, Title } from '@mantine/core';
import type { ReactNode } from 'react';
import { useEffect } from 'react';
import { Brand } from './Brand';

export function AuthLayout({ title, subtitle, children, footer }: { title: string; subtitle?: ReactNode; children: ReactNode; footer?: ReactNode }) {
  useEffect(() => {
    document.title = `${title} · medlake`;
  }, [title]);
  return (
    <Center mih="100vh" p="md" component="main">
      <Stack w="100%" maw={420} gap="lg">
        <Center>
          <Brand size="xl" />
        </Center>
        <Paper withBorder shadow="md" p="xl" radius="md">
          <Stack gap="md">
            <div>
              <Title order={1} size="h3">
                {title}
              </Title>
              {subtitle ? (
                <Text c="dimmed" size="sm" mt={4}>
                  {subtitle}
                </Text>
              ) : null}
            </div>
            {children}
          </Stack>
        </Paper>
        {footer ? (
          <Text ta="center" size="sm" c="dimmed">
            {footer}
          </Text>
        ) : null}
        <Text ta="center" size="xs" c="dimmed">
          De-identified images for research and care.{' '}
          <Anchor href="/api/health" size="xs" c="dimmed" underline="always">
            Service status
          </Anchor>
        </Text>
      </Stack>
    </Center>
  );
}
