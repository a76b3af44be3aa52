/** Writes docs/access-matrix.md (see access-docs.ts). */
import { writeFileSync } from 'node:fs';
import { accessDocsPath, renderAccessDocs } from './access-docs';

writeFileSync(accessDocsPath, await renderAccessDocs());
console.log(`wrote ${accessDocsPath}`);
