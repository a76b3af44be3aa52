/** "Subscribe to this search" in the study browser: names the current search and saves it as a subscription. */
import { Button, Group, Modal, Stack, Text, TextInput } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { IconBell } from '@tabler/icons-react';
import { useState } from 'react';
import { Link } from 'react-router';
import { createSubscription } from '../api/subscriptions';
import { FormError } from '../pages/FormError';

export function SubscribeButton({ query }: { query: string }) {
  const [open, setOpen] = useState(false);
  const [name, setName] = useState('');
  const queryClient = useQueryClient();
  const save = useMutation({
    mutationFn: () => createSubscription(name, query),
    onSuccess: (created) => {
      setOpen(false);
      setName('');
      void queryClient.invalidateQueries({ queryKey: ['subscriptions'] });
      notifications.show({ color: 'teal', title: 'Subscribed', message: `New studies matching "${created.name}" will be emailed to you.` });
    },
  });
  return (
    <>
      <Button variant="light" size="xs" leftSection={<IconBell size={16} />} onClick={() => setOpen(true)}>
        Subscribe to this search
      </Button>
      <Modal opened={open} onClose={() => setOpen(false)} title="Subscribe to this search">
        <form
          onSubmit={(event) => {
            event.preventDefault();
            save.mutate();
          }}
        >
          <Stack gap="sm">
            <Text size="sm">When new studies matching the current filters arrive, you get one email per batch, with links back here.</Text>
            <TextInput label="Name" placeholder="e.g. Brain MR follow-ups" value={name} onChange={(e) => setName(e.currentTarget.value)} maxLength={100} required data-autofocus />
            <FormError error={save.error} title="Could not subscribe" />
            <Group justify="space-between">
              <Button component={Link} to="/subscriptions" variant="subtle" size="xs">
                Your subscriptions
              </Button>
              <Button type="submit" loading={save.isPending} disabled={!name.trim()}>
                Subscribe
              </Button>
            </Group>
          </Stack>
        </form>
      </Modal>
    </>
  );
}
