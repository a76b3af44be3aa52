/** The database of the report tests and the scrubber benchmark: a test database (test/support/test-database.ts). */
export { startTestDatabase as startReportsDatabase } from './support/test-database';
export type { TestDatabase as ReportsDatabase } from './support/test-database';
