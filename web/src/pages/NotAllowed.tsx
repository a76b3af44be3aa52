import { Button, Stack, Text, Title } from '@mantine/core';
import { Link } from 'react-router';

export function NotAllowed() {
  return (
    <Stack align="flex-start" gap="sm" maw={560}>
      <Title order={1} size="h3">
        Not available for your role
      </Title>
      <Text c="dimmed">Your account does not include the role this page needs. Ask an administrator if you should have it.</Text>
      <Button component={Link} to="/" variant="default">
        Go to your start page
      </Button>
    </Stack>
  );
}
