/**
 * Accept header negotiation for WADO-RS (PS3.18 §8.7): media ranges with
 * their `type` and `transfer-syntax` parameters and q-values.
 */
import { HttpError } from '../http/errors';
import type { MediaType } from './multipart';
import { parseMediaType, splitOutsideQuotes } from './multipart';

export interface AcceptRange extends MediaType {
  q: number;
}

export function parseAccept(header: string | undefined): AcceptRange[] {
  if (!header || !header.trim()) return [{ type: '*/*', params: {}, q: 1 }];
  return splitOutsideQuotes(header, ',')
    .map((item) => parseMediaType(item))
    .filter((m) => m.type)
    .map((m) => {
      const q = m.params.q === undefined ? 1 : Number(m.params.q);
      const { q: _q, ...params } = m.params;
      return { type: m.type, params, q: Number.isFinite(q) ? q : 1 };
    })
    .filter((m) => m.q > 0)
    .sort((a, b) => b.q - a.q);
}

export function typeMatches(range: string, type: string): boolean {
  if (range === '*/*' || range === type) return true;
  return range.endsWith('/*') && type.startsWith(range.slice(0, -1));
}

export function notAcceptable(message: string): HttpError {
  return new HttpError(406, 'not_acceptable', message);
}
