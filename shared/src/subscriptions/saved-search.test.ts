import { describe, expect, it } from 'vitest';
import { QueryError } from '../query/errors';
import { browserLinks, savedSearchFilter, savedSearchFromJson, savedSearchJson, savedSearchQuery, subscriptionName } from './saved-search';

describe('saved searches', () => {
  it('the browser query string and the JSON filter give the same canonical search', () => {
    const fromQuery = savedSearchFilter({ query: '?modality=mr&bodyPart=HEAD&ageMin=40&sort=numInstances' });
    const fromJson = savedSearchFilter({ filter: { modalities: ['MR'], bodyParts: ['HEAD'], ageMin: 40, sort: 'numInstances' } });
    expect(fromQuery).toEqual(fromJson);
    expect(savedSearchQuery(fromQuery)).toBe('ageMin=40&modality=MR&bodyPart=HEAD&sort=numInstances');
  });

  it('paging is not part of a saved search', () => {
    const filter = savedSearchFilter({ query: 'modality=CT&limit=10&offset=20' });
    expect(filter).toMatchObject({ limit: 50, offset: 0 });
    expect(savedSearchQuery(filter)).toBe('modality=CT');
    expect(savedSearchJson({ ...filter, limit: 5, offset: 5 })).toMatchObject({ limit: 50, offset: 0 });
  });

  it('the stored JSON reads back to the same filter', () => {
    const filter = savedSearchFilter({ query: 'modality=MR&q=glioma&hasReport=true&dateFrom=2020-01-01' });
    expect(savedSearchFromJson(JSON.parse(JSON.stringify(savedSearchJson(filter))))).toEqual(filter);
  });

  it('refuses both or neither form, and invalid filters, naming the parameter', () => {
    const refused = (input: Parameters<typeof savedSearchFilter>[0], parameter: string) => {
      try {
        savedSearchFilter(input);
        throw new Error('accepted');
      } catch (error) {
        expect(error).toBeInstanceOf(QueryError);
        expect((error as QueryError).parameter).toBe(parameter);
      }
    };
    refused({}, 'filter');
    refused({ query: 'modality=CT', filter: {} }, 'filter');
    refused({ query: 'colour=red' }, 'colour');
    refused({ filter: { ageMin: 'old' } }, 'ageMin');
    refused({ filter: [] }, 'filter');
  });

  it('names are one trimmed line without control characters, at most 100 characters', () => {
    expect(subscriptionName('  Brain\n MR   follow-up ')).toBe('Brain MR follow-up');
    expect(() => subscriptionName('   ')).toThrow(QueryError);
    expect(() => subscriptionName('x'.repeat(101))).toThrow(QueryError);
    expect(() => subscriptionName('bell\u0007')).toThrow(QueryError);
  });

  it('links go to the study browser, the study page and the public unsubscribe endpoint', () => {
    const filter = savedSearchFilter({ query: 'modality=MR' });
    expect(browserLinks.search('https://medlake.example.org/', filter)).toBe('https://medlake.example.org/studies?modality=MR');
    expect(browserLinks.search('', savedSearchFilter({ query: '' }))).toBe('/studies');
    expect(browserLinks.study('https://medlake.example.org', '2.25.1')).toBe('https://medlake.example.org/studies/2.25.1');
    expect(browserLinks.unsubscribe('http://localhost:3000', 'u1.a.b+c')).toBe('http://localhost:3000/api/subscriptions/unsubscribe?token=u1.a.b%2Bc');
  });
});
