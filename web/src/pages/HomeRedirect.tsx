import { Center, Loader } from '@mantine/core';
import { Navigate } from 'react-router';
import { useSession } from '../session/SessionProvider';
import { homePath } from '../session/permissions';

/** `/`: the first page the user's roles open, or sign-in. */
export function HomeRedirect() {
  const { me, loading } = useSession();
  if (loading) {
    return (
      <Center mih="60vh">
        <Loader aria-label="Loading" />
      </Center>
    );
  }
  return <Navigate to={me ? homePath(me) : '/sign-in'} replace />;
}
