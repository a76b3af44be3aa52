import { describe, expect, it } from 'vitest';
import { parseReportQuery, reportQueryWords } from './report-query';

describe('report queries: affirmed, negated and any', () => {
  it.each([
    ['pneumonia', { affirmed: 'pneumonia', negated: '', any: '' }],
    ['no:pneumonia', { affirmed: '', negated: 'pneumonia', any: '' }],
    ['effusion NO:"Pleural Effusion" any:PE', { affirmed: 'effusion', negated: '"pleural effusion"', any: 'pe' }],
    ['no:"pulmonary embolism', { affirmed: '', negated: '"pulmonary embolism"', any: '' }],
    // Negation written as in a report is understood.
    ['no pneumothorax', { affirmed: '', negated: 'pneumothorax', any: '' }],
    ['effusion without pneumothorax', { affirmed: 'effusion', negated: 'pneumothorax', any: '' }],
    ['no evidence of pulmonary embolism', { affirmed: '', negated: 'pulmonary embolism', any: '' }],
    ['Lungenembolie ausgeschlossen', { affirmed: '', negated: 'lungenembolie', any: '' }],
    ['no acute intracranial', { affirmed: '', negated: 'acute intracranial', any: '' }],
    // Pseudo-negations and technique phrases stay affirmed; so do quoted phrases.
    ['no change in effusion', { affirmed: 'no change in effusion', negated: '', any: '' }],
    ['CT w/o contrast', { affirmed: 'ct without contrast', negated: '', any: '' }],
    ['"no pneumothorax"', { affirmed: '"no pneumothorax"', negated: '', any: '' }],
    // Exclusions and "or" are kept for the affirmed part; an operator without a term is dropped.
    ['pneumonia -effusion no:', { affirmed: 'pneumonia -effusion', negated: '', any: '' }],
    ['pneumonia or atelectasis', { affirmed: 'pneumonia or atelectasis', negated: '', any: '' }],
    // "no:" inside a word is not an operator.
    ['piano:forte', { affirmed: 'piano:forte', negated: '', any: '' }],
  ])('%s', (query, expected) => {
    const parsed = parseReportQuery(query);
    expect({ ...parsed, affirmed: parsed.affirmed.replace(/\s+/g, ' ').trim(), negated: parsed.negated.replace(/\s+/g, ' ').trim() }).toEqual(expected);
  });

  it('highlights the words of every part', () => {
    expect(reportQueryWords('effusion no:pneumothorax any:"PE"').split(/\s+/)).toEqual(['effusion', 'pneumothorax', '"pe"']);
  });
});
