/**
 * The gateway's log: one line per event on stderr (journald adds the time
 * and unit). Only counts, AE titles, peer addresses and our own buffer file
 * names: never patient names or IDs, and no DICOM UIDs (original UIDs are
 * PHI until de-identified).
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type LogFields = Record<string, string | number | boolean | undefined>;

export interface GatewayLog {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

const order: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export function createLog(stream: NodeJS.WritableStream, minimum: LogLevel = 'info'): GatewayLog {
  const write = (level: LogLevel, message: string, fields?: LogFields) => {
    if (order[level] < order[minimum]) return;
    const extra = Object.entries(fields ?? {})
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => `${key}=${formatValue(value as string | number | boolean)}`)
      .join(' ');
    stream.write(`${new Date().toISOString()} ${level.padEnd(5)} ${message}${extra ? ` ${extra}` : ''}\n`);
  };
  return {
    debug: (message, fields) => write('debug', message, fields),
    info: (message, fields) => write('info', message, fields),
    warn: (message, fields) => write('warn', message, fields),
    error: (message, fields) => write('error', message, fields),
  };
}

function formatValue(value: string | number | boolean): string {
  const text = String(value);
  return /^[\w.:/@-]+$/.test(text) ? text : JSON.stringify(text);
}
