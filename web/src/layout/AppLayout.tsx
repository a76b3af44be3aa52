/**
 * The frame of the signed-in app: a slim header with the role-aware
 * navigation and the user menu, the page below. Only what the user's roles
 * allow is offered.
 */
import { ActionIcon, AppShell, Badge, Burger, Center, Drawer, Group, Loader, Menu, NavLink, Stack, Text, Tooltip, UnstyledButton, useMantineColorScheme } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { IconChevronDown, IconLogout, IconMoon, IconSun } from '@tabler/icons-react';
import { Suspense } from 'react';
import { Link, Outlet, useLocation, useNavigate } from 'react-router';
import { useSession } from '../session/SessionProvider';
import type { Action } from '../session/permissions';
import { can } from '../session/permissions';
import { Brand } from './Brand';

interface NavItem {
  to: string;
  label: string;
  action: Action;
}

export const navItems: readonly NavItem[] = [
  { to: '/studies', label: 'Studies', action: 'studies:read' },
  { to: '/upload', label: 'Upload', action: 'uploads:create' },
  { to: '/exports', label: 'Exports', action: 'exports:read' },
  { to: '/subscriptions', label: 'Subscriptions', action: 'subscriptions:manage' },
  { to: '/admin/held', label: 'Held for review', action: 'held:review' },
  { to: '/admin/users', label: 'Users', action: 'users:read' },
  { to: '/admin/audit', label: 'Audit log', action: 'audit:read' },
];

function ColorSchemeToggle() {
  const { colorScheme, toggleColorScheme } = useMantineColorScheme();
  const label = colorScheme === 'dark' ? 'Switch to light theme' : 'Switch to dark theme';
  return (
    <Tooltip label={label}>
      <ActionIcon variant="subtle" color="gray" size="lg" onClick={toggleColorScheme} aria-label={label}>
        {colorScheme === 'dark' ? <IconSun size={18} /> : <IconMoon size={18} />}
      </ActionIcon>
    </Tooltip>
  );
}

export function AppLayout() {
  const { me, signOut } = useSession();
  const navigate = useNavigate();
  const location = useLocation();
  const [opened, { toggle, close }] = useDisclosure(false);
  const items = navItems.filter((item) => can(me, item.action));
  const active = (to: string) => location.pathname === to || location.pathname.startsWith(`${to}/`) || (to === '/studies' && location.pathname.startsWith('/patients/'));

  const onSignOut = async () => {
    await signOut().catch(() => undefined);
    void navigate('/sign-in', { replace: true });
  };

  return (
    <AppShell header={{ height: 52 }} padding="md">
      <a className="medlake-skip-link" href="#main">
        Skip to content
      </a>
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="lg" wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Open navigation" />
            <UnstyledButton component={Link} to="/" aria-label="medlake home">
              <Brand size="md" />
            </UnstyledButton>
            <Group gap={4} visibleFrom="sm" component="nav" aria-label="Main">
              {items.map((item) => (
                <NavLink
                  key={item.to}
                  component={Link}
                  to={item.to}
                  label={item.label}
                  active={active(item.to)}
                  aria-current={active(item.to) ? 'page' : undefined}
                  variant="light"
                  w="auto"
                  px="sm"
                  py={6}
                  style={{ borderRadius: 'var(--mantine-radius-sm)' }}
                />
              ))}
            </Group>
          </Group>
          <Group gap="xs" wrap="nowrap">
            <ColorSchemeToggle />
            <Menu position="bottom-end" width={260}>
              <Menu.Target>
                <UnstyledButton aria-label={`${me?.email ?? me?.username ?? ''}, account menu`} px="xs" py={4}>
                  <Group gap={6} wrap="nowrap">
                    <Text size="sm" truncate maw={220}>
                      {me?.email ?? me?.username}
                    </Text>
                    <IconChevronDown size={14} />
                  </Group>
                </UnstyledButton>
              </Menu.Target>
              <Menu.Dropdown>
                <Menu.Label>Signed in as</Menu.Label>
                <Stack gap={4} px="sm" pb="xs">
                  <Text size="sm" truncate>
                    {me?.email ?? me?.username}
                  </Text>
                  <Group gap={4}>
                    {me?.roles.map((role) => (
                      <Badge key={role} size="sm" variant="light">
                        {role}
                      </Badge>
                    ))}
                  </Group>
                </Stack>
                <Menu.Divider />
                <Menu.Item leftSection={<IconLogout size={16} />} onClick={() => void onSignOut()}>
                  Sign out
                </Menu.Item>
              </Menu.Dropdown>
            </Menu>
          </Group>
        </Group>
      </AppShell.Header>
      {/* Narrow screens: the same links in a drawer (rendered only when open, so never a hidden duplicate). */}
      <Drawer opened={opened} onClose={close} title="medlake" size={260} hiddenFrom="sm">
        <Stack gap={4} component="nav" aria-label="Main (narrow screens)">
          {items.map((item) => (
            <NavLink key={item.to} component={Link} to={item.to} label={item.label} active={active(item.to)} onClick={close} />
          ))}
        </Stack>
      </Drawer>
      <AppShell.Main id="main">
        <Suspense
          fallback={
            <Center mih="40vh">
              <Loader aria-label="Loading the page" />
            </Center>
          }
        >
          <Outlet />
        </Suspense>
      </AppShell.Main>
    </AppShell>
  );
}
