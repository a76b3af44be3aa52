/**
 * Radiology shorthand the search understands, written down once and listed
 * in docs/reports.md. Two kinds:
 * - `rewrites`: shorthand that is not a word (w/o, s/p) or a spelling variant
 *   (British → American): replaced in the search text AND in queries;
 * - `aliases`: an abbreviation and its expansion are the same concept: the
 *   search text of a report gets the other form next to whichever form it
 *   uses, so "ggo" finds "ground-glass opacity" and the other way round.
 * All entries are in folded form (lower case, no accents).
 */

export interface Rewrite {
  /** Matched as a whole token (word boundaries), case-insensitively on folded text. */
  from: string;
  to: string;
}

export interface Alias {
  abbreviation: string;
  expansion: string;
}

export const rewrites: readonly Rewrite[] = [
  { from: 'w/o', to: 'without' },
  { from: 'w/', to: 'with' },
  { from: 's/p', to: 'status post' },
  { from: 'c/w', to: 'consistent with' },
  { from: 'r/o', to: 'rule out' },
  { from: 'h/o', to: 'history of' },
  { from: 'f/u', to: 'follow up' },
  { from: 'b/l', to: 'bilateral' },
  { from: 'y/o', to: 'year old' },
  { from: 'v.a.', to: 'verdacht auf' },
  { from: 'z.n.', to: 'zustand nach' },
  { from: 'o.b.', to: 'ohne befund' },
  { from: 'oedema', to: 'edema' },
  { from: 'haemorrhage', to: 'hemorrhage' },
  { from: 'haemorrhagic', to: 'hemorrhagic' },
  { from: 'haematoma', to: 'hematoma' },
  { from: 'haemangioma', to: 'hemangioma' },
  { from: 'oesophagus', to: 'esophagus' },
  { from: 'oesophageal', to: 'esophageal' },
  { from: 'tumour', to: 'tumor' },
  { from: 'tumours', to: 'tumors' },
  { from: 'anaemia', to: 'anemia' },
  { from: 'paediatric', to: 'pediatric' },
  { from: 'orthopaedic', to: 'orthopedic' },
  { from: 'foetal', to: 'fetal' },
];

export const aliases: readonly Alias[] = [
  { abbreviation: 'ct', expansion: 'computed tomography' },
  { abbreviation: 'cta', expansion: 'ct angiography' },
  { abbreviation: 'mri', expansion: 'magnetic resonance imaging' },
  { abbreviation: 'mra', expansion: 'magnetic resonance angiography' },
  { abbreviation: 'pet', expansion: 'positron emission tomography' },
  { abbreviation: 'cxr', expansion: 'chest radiograph' },
  { abbreviation: 'ggo', expansion: 'ground glass opacity' },
  { abbreviation: 'pneumo', expansion: 'pneumothorax' },
  { abbreviation: 'ptx', expansion: 'pneumothorax' },
  { abbreviation: 'pna', expansion: 'pneumonia' },
  { abbreviation: 'pe', expansion: 'pulmonary embolism' },
  { abbreviation: 'dvt', expansion: 'deep vein thrombosis' },
  { abbreviation: 'copd', expansion: 'chronic obstructive pulmonary disease' },
  { abbreviation: 'chf', expansion: 'congestive heart failure' },
  { abbreviation: 'lll', expansion: 'left lower lobe' },
  { abbreviation: 'lul', expansion: 'left upper lobe' },
  { abbreviation: 'rll', expansion: 'right lower lobe' },
  { abbreviation: 'rml', expansion: 'right middle lobe' },
  { abbreviation: 'rul', expansion: 'right upper lobe' },
  { abbreviation: 'sah', expansion: 'subarachnoid hemorrhage' },
  { abbreviation: 'sdh', expansion: 'subdural hematoma' },
  { abbreviation: 'ich', expansion: 'intracranial hemorrhage' },
  { abbreviation: 'mca', expansion: 'middle cerebral artery' },
  { abbreviation: 'ivc', expansion: 'inferior vena cava' },
  { abbreviation: 'svc', expansion: 'superior vena cava' },
  { abbreviation: 'aaa', expansion: 'abdominal aortic aneurysm' },
  { abbreviation: 'hcc', expansion: 'hepatocellular carcinoma' },
  { abbreviation: 'fx', expansion: 'fracture' },
  { abbreviation: 'hx', expansion: 'history' },
  { abbreviation: 'dx', expansion: 'diagnosis' },
  { abbreviation: 'ddx', expansion: 'differential diagnosis' },
  { abbreviation: 'ett', expansion: 'endotracheal tube' },
  { abbreviation: 'ngt', expansion: 'nasogastric tube' },
  { abbreviation: 'picc', expansion: 'peripherally inserted central catheter' },
  { abbreviation: 'cabg', expansion: 'coronary artery bypass graft' },
  { abbreviation: 'dwi', expansion: 'diffusion weighted imaging' },
  { abbreviation: 'ln', expansion: 'lymph node' },
  { abbreviation: 'lk', expansion: 'lymphknoten' },
  { abbreviation: 'le', expansion: 'lungenembolie' },
  { abbreviation: 'ep', expansion: 'epanchement pleural' },
];
