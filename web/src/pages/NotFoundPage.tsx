import { Button, Center, Stack, Text, Title } from '@mantine/core';
import { Link } from 'react-router';

export function NotFoundPage() {
  return (
    <Center mih="60vh">
      <Stack align="center" gap="sm">
        <Title order={1} size="h3">
          Page not found
        </Title>
        <Text c="dimmed">The link may be old or mistyped.</Text>
        <Button component={Link} to="/" variant="default">
          Go to your start page
        </Button>
      </Stack>
    </Center>
  );
}
