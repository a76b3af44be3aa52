/**
 * Who is signed in, for the whole app: `GET /api/me` once, kept in the query
 * cache; signing in or out updates it. A session that cannot be refreshed any
 * more (the API told `onSessionEnded`) signs the page out.
 */
import type { QueryClient } from '@tanstack/react-query';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { createContext, useCallback, useContext, useEffect, useMemo } from 'react';
import { ApiError, onSessionEnded, onSessionRefreshed } from '../api/http';
import * as session from '../api/session';
import type { Me } from '../api/types';

export interface Session {
  /** undefined while loading, null when nobody is signed in. */
  me: Me | null | undefined;
  loading: boolean;
  signIn(email: string, password: string): Promise<Me>;
  signOut(): Promise<void>;
  /** New tokens (e.g. after an administrator approved this account). */
  refresh(): Promise<Me>;
  reload(): Promise<unknown>;
}

const SessionContext = createContext<Session | undefined>(undefined);

export const meQueryKey = ['me'] as const;

async function loadMe(signal: AbortSignal): Promise<Me | null> {
  try {
    return await session.fetchMe(signal);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return null;
    throw error;
  }
}

/**
 * Another user's (or nobody's) data must not outlive a sign-in or sign-out.
 * The `me` query itself stays: its observer lives on and must see the new value.
 */
function forgetOtherQueries(queryClient: QueryClient): void {
  queryClient.removeQueries({ predicate: (query) => query.queryKey[0] !== meQueryKey[0] });
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const me = useQuery({ queryKey: meQueryKey, queryFn: ({ signal }) => loadMe(signal), staleTime: 60_000 });

  useEffect(
    () =>
      onSessionEnded(() => {
        queryClient.setQueryData(meQueryKey, null);
      }),
    [queryClient],
  );
  // A refresh after a 401 may bring other roles (an administrator changed them): the app follows at once.
  useEffect(
    () =>
      onSessionRefreshed((answer) => {
        if (!answer || typeof answer !== 'object' || !('sub' in answer)) return;
        const next = answer as Me;
        const previous = queryClient.getQueryData<Me | null>(meQueryKey);
        queryClient.setQueryData(meQueryKey, next);
        // Other roles: what was loaded under the old ones is fetched again (or refused now).
        if (previous && [...previous.roles].sort().join() !== [...next.roles].sort().join()) {
          void queryClient.invalidateQueries({ predicate: (query) => query.queryKey[0] !== meQueryKey[0] });
        }
      }),
    [queryClient],
  );

  const signIn = useCallback(
    async (email: string, password: string) => {
      const answer = await session.signIn(email, password);
      forgetOtherQueries(queryClient);
      queryClient.setQueryData(meQueryKey, answer);
      return answer;
    },
    [queryClient],
  );

  const signOut = useCallback(async () => {
    try {
      await session.signOut();
    } finally {
      forgetOtherQueries(queryClient);
      queryClient.setQueryData(meQueryKey, null);
    }
  }, [queryClient]);

  const refresh = useCallback(async () => {
    const answer = await session.refresh();
    queryClient.setQueryData(meQueryKey, answer);
    return answer;
  }, [queryClient]);

  const value = useMemo<Session>(
    () => ({ me: me.data, loading: me.isPending, signIn, signOut, refresh, reload: () => me.refetch() }),
    [me, signIn, signOut, refresh],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession outside SessionProvider');
  return value;
}
