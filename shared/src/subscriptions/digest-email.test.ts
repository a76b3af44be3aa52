import { describe, expect, it } from 'vitest';
import type { DigestStudy } from './digest-email';
import { maxListedStudies, renderDigestEmail } from './digest-email';
import { savedSearchFilter } from './saved-search';

const study = (n: number, extra: Partial<DigestStudy> = {}): DigestStudy => ({
  studyInstanceUID: `2.25.${1000 + n}`, studyDate: '2019-03-0' + String((n % 9) + 1), modalities: ['MR'], bodyParts: ['HEAD'], numSeries: 2, numInstances: 40, ...extra,
});

const input = (studies: DigestStudy[], totalCount = studies.length) => ({
  subscriptionName: 'Brain <MR>',
  filter: savedSearchFilter({ query: 'modality=MR&q=glioma&patientId=PSEUDO-77' }),
  studies,
  totalCount,
  baseUrl: 'https://medlake.example.org',
  unsubscribeToken: 'u1.3f0c1a52-8d4e-4c7b-9a0e-2b6f1d9e4a11.sig',
});

describe('digest email', () => {
  it('lists each new study with a link, the search link and the unsubscribe link', () => {
    const mail = renderDigestEmail(input([study(1), study(2, { modalities: ['CT', 'MR'], bodyParts: [], numSeries: 1, numInstances: 1 })]));
    expect(mail.subject).toBe('medlake: 2 new studies for "Brain <MR>"');
    expect(mail.text).toContain('2 new studies match your saved search "Brain <MR>".');
    expect(mail.text).toContain('https://medlake.example.org/studies/2.25.1001');
    expect(mail.text).toContain('CT/MR · 1 series, 1 image');
    expect(mail.text).toContain('MR · head · 2 series, 40 images');
    expect(mail.text).toContain('https://medlake.example.org/studies?patientId=PSEUDO-77&modality=MR&q=glioma');
    expect(mail.text).toContain('https://medlake.example.org/api/subscriptions/unsubscribe?token=u1.3f0c1a52-8d4e-4c7b-9a0e-2b6f1d9e4a11.sig');
    expect(mail.html).toContain('Brain &lt;MR&gt;');
    expect(mail.html).not.toContain('<MR>');
    expect(mail.html).toContain('href="https://medlake.example.org/studies/2.25.1002"');
  });

  it('carries List-Unsubscribe with the same link and offers one-click unsubscribe (RFC 8058)', () => {
    const mail = renderDigestEmail(input([study(1)]));
    expect(mail.headers).toEqual({
      'List-Unsubscribe': '<https://medlake.example.org/api/subscriptions/unsubscribe?token=u1.3f0c1a52-8d4e-4c7b-9a0e-2b6f1d9e4a11.sig>',
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    });
  });

  it('one study reads in the singular', () => {
    const mail = renderDigestEmail(input([study(1)]));
    expect(mail.subject).toBe('medlake: 1 new study for "Brain <MR>"');
    expect(mail.text).toContain('1 new study matches');
  });

  it(`lists at most ${maxListedStudies} studies and counts the rest`, () => {
    const many = Array.from({ length: 40 }, (_, i) => study(i));
    const mail = renderDigestEmail(input(many, 40));
    expect(mail.text.match(/\/studies\/2\.25\./g)).toHaveLength(maxListedStudies);
    expect(mail.text).toContain('and 15 more studies');
  });

  it('carries no free text of the search or the studies beyond the subscription name', () => {
    const mail = renderDigestEmail(input([study(1)]));
    // The search is only in the link (the user's own words stay out of the prose).
    expect(mail.text.replace(/https?:\/\/\S+/g, '')).not.toMatch(/glioma|PSEUDO-77/);
  });
});
