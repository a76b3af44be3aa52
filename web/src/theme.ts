/**
 * The look: a dark reading-room theme by default (dim surroundings, bright
 * images), a light one on request. Both are tuned for WCAG AA contrast (the
 * accessibility test checks every page with axe-core): text on filled
 * buttons is chosen by luminance, and in the light scheme the tinted
 * ("light"/"outline") badges, links, dimmed text and placeholders use darker
 * shades than Mantine's defaults.
 */
import type { CSSVariablesResolver, MantineThemeColors } from '@mantine/core';
import { DEFAULT_THEME, createTheme } from '@mantine/core';

/** Yellow and orange have no shade dark enough for text on a pale tint: explicit browns. */
const lightTextOverrides: Partial<Record<string, string>> = { yellow: '#7a4b00', orange: '#8a3c00', lime: '#4a6b00' };

export const theme = createTheme({
  primaryColor: 'cyan',
  // Shade 9 keeps white text on filled buttons above 4.5:1 in both schemes.
  primaryShade: 9,
  autoContrast: true,
  luminanceThreshold: 0.3,
  fontFamily: 'Inter, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
  fontFamilyMonospace: 'ui-monospace, SFMono-Regular, Menlo, monospace',
  defaultRadius: 'sm',
  colors: {
    // Darker than Mantine's default dark: a reading room, not a dashboard.
    dark: ['#d5d7dd', '#b3b7c0', '#8f95a1', '#6b7280', '#3a3f4a', '#2b2f38', '#1e2129', '#15171d', '#0f1115', '#0a0b0e'],
  },
  headings: { fontWeight: '600' },
  cursorType: 'pointer',
});

export const cssVariablesResolver: CSSVariablesResolver = () => {
  const light: Record<string, string> = {
    '--mantine-color-dimmed': 'var(--mantine-color-gray-7)',
    '--mantine-color-placeholder': 'var(--mantine-color-gray-7)',
    '--mantine-color-anchor': 'var(--mantine-color-cyan-9)',
  };
  for (const color of Object.keys(DEFAULT_THEME.colors as MantineThemeColors)) {
    const text = lightTextOverrides[color] ?? `var(--mantine-color-${color}-9)`;
    light[`--mantine-color-${color}-light-color`] = text;
    // The palest tint behind tinted text, so shade 9 text keeps 4.5:1 on it.
    light[`--mantine-color-${color}-light`] = `var(--mantine-color-${color}-0)`;
    light[`--mantine-color-${color}-light-hover`] = `var(--mantine-color-${color}-1)`;
    light[`--mantine-color-${color}-outline`] = text;
    light[`--mantine-color-${color}-text`] = text;
  }
  return {
    variables: {},
    light,
    dark: {
      '--mantine-color-placeholder': 'var(--mantine-color-dark-2)',
      '--mantine-color-anchor': 'var(--mantine-color-cyan-4)',
    },
  };
};
