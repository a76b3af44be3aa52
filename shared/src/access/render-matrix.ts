/** Writes docs/access-matrix.md from the matrix in code. */
import { writeFileSync } from 'node:fs';
import { renderAccessMatrix } from './matrix';

const target = new URL('../../../docs/access-matrix.md', import.meta.url);
writeFileSync(target, renderAccessMatrix());
console.log(`wrote ${target.pathname}`);
