import { describe, expect, it } from 'vitest';
import { queryString, readCookie } from './http';

describe('readCookie', () => {
  it('finds the CSRF cookie among others and decodes it', () => {
    expect(readCookie('medlake_csrf', 'a=1; medlake_csrf=abc%3D%3D; b=2')).toBe('abc==');
    expect(readCookie('medlake_csrf', 'medlake_csrf_old=x')).toBeUndefined();
    expect(readCookie('medlake_csrf', '')).toBeUndefined();
  });
});

describe('queryString', () => {
  it('repeats array keys and leaves out empty values', () => {
    expect(queryString({ modality: ['CT', 'MR'], q: 'lung nodule', limit: 50, empty: '', none: undefined, nil: null })).toBe('?modality=CT&modality=MR&q=lung+nodule&limit=50');
    expect(queryString({})).toBe('');
    expect(queryString(new URLSearchParams('a=1&a=2'))).toBe('?a=1&a=2');
  });
});
