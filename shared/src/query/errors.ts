/**
 * A query a user wrote that we cannot run: which parameter, why, in a
 * sentence (no values echoed back beyond the parameter name: a search value
 * may be a patient identifier). Handlers answer it with 400.
 */
export class QueryError extends Error {
  constructor(
    /** Machine code, e.g. `invalid_parameter`, `unknown_parameter`. */
    readonly code: string,
    /** The query parameter at fault. */
    readonly parameter: string,
    message: string,
  ) {
    super(message);
    this.name = 'QueryError';
  }
}

export const invalidParameter = (parameter: string, message: string) => new QueryError('invalid_parameter', parameter, message);
export const unknownParameter = (parameter: string, message: string) => new QueryError('unknown_parameter', parameter, message);
