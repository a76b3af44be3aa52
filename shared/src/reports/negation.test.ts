import { describe, expect, it } from 'vitest';
import { negatedSpans, splitByNegation } from './negation';

const negated = (text: string) => negatedSpans(text).map((s) => text.slice(s.start, s.end));

describe('negated mentions (NegEx-style)', () => {
  it.each([
    // Pre-negation cues and their scope.
    ['No evidence of pneumonia.', ['pneumonia']],
    ['No evidence of pulmonary embolism or deep vein thrombosis.', ['pulmonary embolism or deep vein thrombosis']],
    ['No pleural effusion, pneumothorax, or focal consolidation.', ['pleural effusion, pneumothorax, or focal consolidation']],
    ['Lungs are clear without focal consolidation.', ['focal consolidation']],
    ['CTA chest negative for pulmonary embolism.', ['pulmonary embolism']],
    ['The abdomen is free of free fluid.', ['free fluid']],
    ['The heart is not enlarged.', ['enlarged']],
    ['No acute intracranial hemorrhage, mass effect or midline shift.', ['acute intracranial hemorrhage, mass effect or midline shift']],
    // The technique is not a finding: "without contrast" stays searchable as such.
    ['CT head w/o contrast: no hemorrhage.', ['hemorrhage']],
    ['CT Schädel ohne KM: keine Blutung.', ['Blutung']],
    // The scope ends at the clause: punctuation, a line break, "but", a verb.
    ['No pneumothorax. Right lower lobe pneumonia.', ['pneumothorax']],
    ['No pneumothorax; small left effusion.', ['pneumothorax']],
    ['No pneumothorax but a small left effusion.', ['pneumothorax']],
    ['No focal consolidation is seen in the right lung.', ['focal consolidation']],
    ['FINDINGS: no effusion\nPneumonia in the left lower lobe.', ['effusion']],
    ['No\nPneumonia in the left lower lobe.', []],
    ['A 1.5 cm nodule, no calcification.', ['calcification']],
    // Post-negation cues.
    ['Right lower lobe pneumonia. Pulmonary embolism ruled out.', ['Pulmonary embolism']],
    ['Pulmonary embolism has been excluded.', ['Pulmonary embolism']],
    ['A pneumothorax is not seen.', ['A pneumothorax']],
    ['Free air is not identified on this study.', ['Free air']],
    // Pseudo-negations negate nothing.
    ['No change in the small right pleural effusion.', []],
    ['No significant change in size of the pulmonary nodule.', []],
    ['No interval change of the known metastases.', []],
    ['Not only pneumonia but also a lung abscess.', []],
    ['Pneumonia cannot be excluded.', []],
    ['Early pneumonia cannot be ruled out.', []],
    ['Findings do not exclude pulmonary embolism.', []],
    ['Culture grew gram negative rods.', []],
    ['Pneumonia is not ruled out.', []],
    // Nothing negated.
    ['Right lower lobe consolidation consistent with pneumonia.', []],
    ['Notably, nodules are noted in both lungs.', []],
    // German.
    ['Kein Pleuraerguss. Pneumonie im rechten Unterlappen.', ['Pleuraerguss']],
    ['Kein Nachweis einer Lungenembolie.', ['Lungenembolie']],
    ['Thorax ohne pneumonisches Infiltrat.', ['pneumonisches Infiltrat']],
    ['Ein Pneumothorax ist nicht nachweisbar.', ['Ein Pneumothorax']],
    ['Eine Lungenembolie ist nicht sicher auszuschließen.', []],
    ['Keine wesentliche Änderung des Rundherdes.', []],
    // French.
    ["Pas d'épanchement pleural.", ['épanchement pleural']],
    ['Absence de pneumothorax.', ['pneumothorax']],
    ['Embolie pulmonaire exclue.', ['Embolie pulmonaire']],
    ['Pas de modification du nodule.', []],
  ])('%s', (text, expected) => {
    expect(negated(text)).toEqual(expected);
  });

  it('a cue reaches eight words at most', () => {
    expect(negated('No pleural effusion, pneumothorax, consolidation, pulmonary edema, pleural thickening or cardiomegaly.')).toEqual(['pleural effusion, pneumothorax, consolidation, pulmonary edema, pleural thickening']);
  });

  it('splits a report into affirmed text (same offsets, negated words blanked) and negated text', () => {
    const text = 'Right lower lobe pneumonia. No evidence of pulmonary embolism. No pneumothorax.';
    const split = splitByNegation(text);
    expect(split.affirmed).toHaveLength(text.length);
    expect(split.affirmed).toBe(`Right lower lobe pneumonia. No evidence of ${' '.repeat(18)}. No ${' '.repeat(12)}.`);
    expect(split.negated).toBe('pulmonary embolism\npneumothorax');
  });
});
