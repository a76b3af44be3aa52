-- Up Migration
-- Negation-aware report search: the words a negation cue governs ("No
-- evidence of pneumonia", "embolism ruled out"; shared/src/reports/negation.ts)
-- are indexed apart from the affirmed text. A plain query matches affirmed
-- mentions (affirmed_tsv), `no:term` negated ones (negated_tsv), `any:term`
-- either (search_tsv). Both search texts are computed by the application when
-- a report version is published; reports stored before this migration are
-- filled in by backfillReportNegation after the migrations run, and until
-- then their whole text counts as affirmed (the search behaves as before).
ALTER TABLE reports
  ADD COLUMN affirmed_search_text text,
  ADD COLUMN negated_search_text text;
ALTER TABLE reports
  ADD COLUMN affirmed_tsv tsvector GENERATED ALWAYS AS (to_tsvector('medlake_report', coalesce(affirmed_search_text, search_text))) STORED,
  ADD COLUMN negated_tsv tsvector GENERATED ALWAYS AS (to_tsvector('medlake_report', coalesce(negated_search_text, ''))) STORED;
CREATE INDEX reports_affirmed_tsv ON reports USING gin (affirmed_tsv);
CREATE INDEX reports_negated_tsv ON reports USING gin (negated_tsv);
-- What the backfill still has to do.
CREATE INDEX reports_negation_pending ON reports (study_uid) WHERE affirmed_search_text IS NULL;

-- Down Migration
DROP INDEX reports_negation_pending;
DROP INDEX reports_negated_tsv;
DROP INDEX reports_affirmed_tsv;
ALTER TABLE reports DROP COLUMN negated_tsv, DROP COLUMN affirmed_tsv, DROP COLUMN negated_search_text, DROP COLUMN affirmed_search_text;
