import { describe, expect, it } from 'vitest';
import { ConfigurationError, integerSetting, numberSetting, optionalNumberSetting } from './settings';

describe('settings from the environment', () => {
  it('takes the default when the variable is unset or empty', () => {
    expect(integerSetting({}, 'X_COUNT', { default: 8, min: 1 })).toBe(8);
    expect(integerSetting({ X_COUNT: '' }, 'X_COUNT', { default: 8, min: 1 })).toBe(8);
    expect(integerSetting({ X_COUNT: '  ' }, 'X_COUNT', { default: 8, min: 1 })).toBe(8);
    expect(optionalNumberSetting({}, 'X_SECONDS', { min: 0 })).toBeUndefined();
  });

  it('reads whole numbers and fractions within their range', () => {
    expect(integerSetting({ X_COUNT: '12' }, 'X_COUNT', { default: 8, min: 1, max: 16 })).toBe(12);
    expect(integerSetting({ X_BYTES: '1e9' }, 'X_BYTES', { default: 1, min: 1 })).toBe(1_000_000_000);
    expect(numberSetting({ X_SECONDS: '0.05' }, 'X_SECONDS', { default: 60, min: 0 })).toBe(0.05);
    expect(optionalNumberSetting({ X_SECONDS: '2.5' }, 'X_SECONDS', { min: 0.01 })).toBe(2.5);
  });

  it.each([
    ['abc', /X_COUNT must be a whole number from 1 to 16 \(it is "abc"\)/],
    ['2.5', /whole number/],
    ['0', /from 1 to 16/],
    ['17', /from 1 to 16/],
    ['Infinity', /X_COUNT/],
  ])('refuses %s with a sentence naming the variable', (value, message) => {
    expect(() => integerSetting({ X_COUNT: value }, 'X_COUNT', { default: 8, min: 1, max: 16 })).toThrow(message);
    expect(() => integerSetting({ X_COUNT: value }, 'X_COUNT', { default: 8, min: 1, max: 16 })).toThrow(ConfigurationError);
  });

  it('says "at least" when there is no upper bound', () => {
    expect(() => numberSetting({ X_SECONDS: '-1' }, 'X_SECONDS', { default: 1, min: 0 })).toThrow('X_SECONDS must be a number of at least 0 (it is "-1").');
  });
});
