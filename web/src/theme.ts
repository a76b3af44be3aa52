/**
 * The look: a dark reading-room theme by default (dim surroundings, bright
 * images), a light one on request. Colors keep WCAG AA contrast for text on
 * the dark surfaces.
 */
import { createTheme } from '@mantine/core';

export const theme = createTheme({
  primaryColor: 'cyan',
  primaryShade: { light: 8, dark: 5 },
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
