/**
 * Guards the signed-in part of the app: nobody → sign-in (coming back here
 * afterwards), pending → the waiting page, a role that does not allow the
 * page → a plain "not for your role" answer.
 */
import { Center, Loader } from '@mantine/core';
import type { ReactNode } from 'react';
import { Navigate, useLocation } from 'react-router';
import { NotAllowed } from '../pages/NotAllowed';
import { useSession } from './SessionProvider';
import type { Action } from './permissions';
import { can } from './permissions';

export function RequireSession({ action, children }: { action?: Action; children: ReactNode }) {
  const { me, loading } = useSession();
  const location = useLocation();
  if (loading) {
    return (
      <Center mih="50vh">
        <Loader aria-label="Loading" />
      </Center>
    );
  }
  if (!me) return <Navigate to={`/sign-in?next=${encodeURIComponent(location.pathname + location.search)}`} replace />;
  if (me.state === 'pending') return <Navigate to="/pending" replace />;
  if (action && !can(me, action)) return <NotAllowed />;
  return <>{children}</>;
}
