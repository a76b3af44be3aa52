/**
 * Building SQL the safe way: values only ever travel as $n parameters, the
 * text holds nothing but our own column names and operators.
 */
export interface SqlQuery {
  text: string;
  values: unknown[];
}

export class SqlParameters {
  readonly values: unknown[] = [];

  /** Adds a value and returns its placeholder (`$3`). */
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/**
 * A DICOM wildcard pattern (`*` any run, `?` one character) as a LIKE pattern
 * with `\` as the escape character: `%`, `_` and `\` in the value stay literal.
 */
export function likePattern(dicomPattern: string): string {
  return dicomPattern.replace(/[\\%_]/g, (c) => `\\${c}`).replace(/\*/g, '%').replace(/\?/g, '_');
}

/** Literal text inside a LIKE pattern. */
export function likeLiteral(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}
