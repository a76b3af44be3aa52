import { describe, expect, it } from 'vitest';
import { joinWrappedLines } from './pdf-lines';

describe('joining the wrapped lines of a PDF text layer', () => {
  it.each([
    ['a sentence wrapped in the middle', 'No evidence of\npulmonary embolism.', 'No evidence of pulmonary embolism.'],
    ['a name wrapped after its title', 'Referring: Dr. Harriet\nVance', 'Referring: Dr. Harriet Vance'],
    ['a wrap after a comma', 'Small right pleural effusion,\nno pneumothorax.', 'Small right pleural effusion, no pneumothorax.'],
    ['a finished sentence stays', 'No pneumothorax.\nSmall effusion.', 'No pneumothorax.\nSmall effusion.'],
    ['a heading stays on its own', 'IMPRESSION\nRight lower lobe pneumonia.', 'IMPRESSION\nRight lower lobe pneumonia.'],
    ['a line before a heading stays', 'Cough for five days\nFINDINGS', 'Cough for five days\nFINDINGS'],
    ['a label starts its own line', 'CT Chest Report\nAccession: A123', 'CT Chest Report\nAccession: A123'],
    ['list items stay', 'Findings\n- nodule\n1. effusion', 'Findings\n- nodule\n1. effusion'],
    ['blank lines (paragraphs) stay', 'First paragraph\n\nsecond one', 'First paragraph\n\nsecond one'],
    ['trailing spaces go', 'No evidence of   \n  pneumonia.', 'No evidence of pneumonia.'],
  ])('%s', (_name, input, expected) => {
    expect(joinWrappedLines(input)).toBe(expected);
  });
});
