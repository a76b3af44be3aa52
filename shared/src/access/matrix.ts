/**
 * Who may do what: the role × action matrix, written down once. Every HTTP
 * route names one action; the one authorization layer (functions/src/auth)
 * checks it before the route runs. docs/access-matrix.md is rendered from
 * this table and the HTTP route registries
 * (`npx tsx functions/src/auth/render-access-docs.ts`), and a test keeps the two in step.
 */
import type { Role } from '../resources';
import { roles } from '../resources';

export type { Role };

/**
 * `public`: anyone, no token. `signed-in`: any verified token, including a
 * user still waiting for approval (no group yet, "pending").
 */
export type Audience = Role | 'public' | 'signed-in';

export interface ActionDefinition {
  allowed: readonly Audience[];
  description: string;
  /** A signed-in caller refused this action is written to the audit log too (attempts matter, not only uses). */
  auditRefusals?: boolean;
}

export const accessMatrix = {
  'health:read': { allowed: ['public'], description: 'component health (db, s3, sqs, cognito)' },
  'account:sign-up': { allowed: ['public'], description: 'sign up, confirm the email code, reset a forgotten password' },
  'session:manage': { allowed: ['public'], description: 'sign in, refresh, sign out (the browser session cookie)' },
  'me:read': { allowed: ['signed-in'], description: 'who am I, and am I approved yet' },
  'users:read': { allowed: ['admin'], description: 'list users and pending sign-ups' },
  'users:manage': { allowed: ['admin'], description: 'approve, change groups, disable, enable a user' },
  'audit:read': { allowed: ['admin'], description: 'query the audit log' },
  'phi:reidentify': { allowed: ['admin'], description: 'read original identifiers from the PHI vault (with a reason)', auditRefusals: true },
  'uploads:create': { allowed: ['uploader', 'admin'], description: 'start an upload batch, get presigned URLs, continue and complete own multipart uploads' },
  'uploads:read': { allowed: ['uploader', 'admin'], description: 'watch upload and ingest status' },
  'held:review': { allowed: ['admin'], description: 'list and look at instances held for review (burned-in text), release or discard them with a reason' },
  'studies:read': { allowed: ['admin', 'annotator', 'researcher'], description: 'search and view studies (QIDO-RS, WADO-RS, study browser)' },
  'reports:read': { allowed: ['admin', 'annotator', 'researcher'], description: 'read de-identified reports' },
  'reports:write': { allowed: ['uploader', 'annotator', 'admin'], description: 'add a report or a corrected version of it (scrubbed before storage)' },
  'annotations:read': { allowed: ['admin', 'annotator', 'researcher'], description: 'read annotation sets, their versions and diffs, study labels and the label vocabulary; pick the annotation version the viewer shows' },
  'annotations:write': { allowed: ['admin', 'annotator'], description: 'store measurements and labels (STOW-RS of SR/SEG, annotation versions, restores, labels)' },
  'labels:manage': { allowed: ['admin'], description: 'edit the label vocabulary' },
  'exports:create': { allowed: ['admin', 'researcher'], description: 'request a cohort export' },
  'exports:read': { allowed: ['admin', 'researcher'], description: 'list own exports and download links' },
  'subscriptions:manage': { allowed: ['admin', 'annotator', 'researcher'], description: 'save searches and subscribe to new matches' },
  'subscriptions:unsubscribe': { allowed: ['public'], description: 'stop a subscription from the link in its email (a signed token, no sign-in)' },
} as const satisfies Record<string, ActionDefinition>;

export type Action = keyof typeof accessMatrix;

export const actions = Object.keys(accessMatrix) as Action[];

/** Machine clients (hospital gateways) act as uploaders, whatever groups they hold. */
export const machineRoles: readonly Role[] = ['uploader'];

export interface Actor {
  /** Groups from the token; none means the user is still pending approval. */
  groups: readonly Role[];
  isMachine: boolean;
}

/** The roles an actor really holds: a machine client keeps only the machine roles. */
export function effectiveRoles(actor: Actor): Role[] {
  const known = actor.groups.filter((g) => roles.includes(g));
  return actor.isMachine ? known.filter((g) => machineRoles.includes(g)) : known;
}

export type AccountState = 'pending' | 'active';

export function accountState(actor: Actor): AccountState {
  return effectiveRoles(actor).length > 0 ? 'active' : 'pending';
}

export function auditsRefusals(action: Action): boolean {
  return (accessMatrix[action] as ActionDefinition).auditRefusals === true;
}

export function isPublic(action: Action): boolean {
  return (accessMatrix[action].allowed as readonly Audience[]).includes('public');
}

/** May this actor (or nobody, for anonymous callers) perform this action? */
export function isAllowed(actor: Actor | undefined, action: Action): boolean {
  const allowed: readonly Audience[] = accessMatrix[action].allowed;
  if (allowed.includes('public')) return true;
  if (!actor) return false;
  if (allowed.includes('signed-in')) return true;
  return effectiveRoles(actor).some((role) => allowed.includes(role));
}

export interface EndpointAccess {
  method: string;
  path: string;
  action: Action;
}

/**
 * The matrix as Markdown: one row per action, one column per role, then the
 * endpoints with the action each one checks.
 */
export function renderAccessMatrix(endpoints: readonly EndpointAccess[] = []): string {
  const columns: Audience[] = ['public', 'signed-in', ...roles];
  const header = `| action | ${columns.map((c) => (c === 'signed-in' ? 'signed-in (pending)' : c)).join(' | ')} | what |`;
  const rule = `|---|${columns.map(() => ':-:').join('|')}|---|`;
  const rows = actions.map((action) => {
    const cells = columns.map((column) => {
      if (column === 'public' || column === 'signed-in') return (accessMatrix[action].allowed as readonly Audience[]).includes(column) ? '✓' : '';
      return isAllowed({ groups: [column], isMachine: false }, action) ? '✓' : '';
    });
    return `| \`${action}\` | ${cells.join(' | ')} | ${accessMatrix[action].description} |`;
  });
  return [
    '# Access matrix',
    '',
    'Generated from `shared/src/access/matrix.ts` and the route registries by `npx tsx functions/src/auth/render-access-docs.ts`; do not edit by hand.',
    '',
    'A user without any group is *pending*: signed in, but allowed only the `signed-in` actions',
    '(`GET /api/me`). Machine clients (hospital gateways, the `gateway` app client) keep only the',
    `${machineRoles.map((r) => `\`${r}\``).join(', ')} role, whatever groups their user holds.`,
    '',
    header,
    rule,
    ...rows,
    ...(endpoints.length
      ? [
          '',
          '## Endpoints',
          '',
          '| endpoint | action | who |',
          '|---|---|---|',
          ...endpoints.map((e) => `| \`${e.method} ${e.path}\` | \`${e.action}\` | ${accessMatrix[e.action].allowed.join(', ')} |`),
        ]
      : []),
    '',
  ].join('\n');
}
