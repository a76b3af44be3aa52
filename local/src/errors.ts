/**
 * Failures of the local stack a developer can act on: a machine code and one
 * sentence, printed without a stack trace by `npm run dev`.
 */
export type LocalStackErrorCode =
  | 'port_in_use'
  | 'data_dir_in_use'
  | 'postgres_locked'
  | 'postgres_failed'
  | 'database_unreachable'
  | 'migration_failed'
  | 'cognito_failed'
  | 'emulator_failed'
  | 'web_build_failed'
  | 'node_too_old'
  | 'invalid_setting';

export class LocalStackError extends Error {
  override readonly name = 'LocalStackError';
  constructor(
    readonly code: LocalStackErrorCode,
    message: string,
  ) {
    super(message);
  }
}
