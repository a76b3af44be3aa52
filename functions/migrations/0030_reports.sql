-- Up Migration
-- Textual reports: every arrival (a text file, a CSV row, a DICOM SR or PDF,
-- an API call) is a submission; its original text lives only in phi_vault
-- (kind 'report', pseudonym = submission id). A submission waits until its
-- study is known, then its scrubbed text becomes a version of the study's
-- report. Corrections add versions, nothing is overwritten.

CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS unaccent;

-- English stemming after accent removal: the search text is already folded,
-- but ts_headline runs over the displayed text, which keeps its accents.
CREATE TEXT SEARCH CONFIGURATION medlake_report (COPY = pg_catalog.english);
ALTER TEXT SEARCH CONFIGURATION medlake_report
  ALTER MAPPING FOR hword, hword_part, word WITH unaccent, english_stem;

CREATE TABLE report_submissions (
  submission_id     uuid PRIMARY KEY,
  state             text NOT NULL CHECK (state IN ('waiting', 'linked', 'duplicate')),
  source            text NOT NULL CHECK (source IN ('text', 'csv', 'dicom-sr', 'dicom-pdf', 'api')),
  upload_id         uuid,
  file_index        integer,
  row_number        integer,                    -- CSV data row (1 = first row after the header)
  -- Linking keys, pseudonymous only: keyed accession pseudonym, patient
  -- pseudonym and the study date shifted by that patient's offset.
  link_accession    text,
  link_patient_id   text,
  link_study_date   date,
  reason            text,                       -- why it waits, a sentence without PHI
  study_uid         text REFERENCES studies(study_uid),
  version           integer,                    -- the report version it became
  submitted_by      text,                       -- user sub (uploads and API)
  created_at        timestamptz NOT NULL DEFAULT now(),
  linked_at         timestamptz
);
CREATE INDEX report_submissions_waiting_accession ON report_submissions (link_accession) WHERE state = 'waiting';
CREATE INDEX report_submissions_waiting_patient ON report_submissions (link_patient_id, link_study_date) WHERE state = 'waiting';
CREATE INDEX report_submissions_upload ON report_submissions (upload_id, file_index);
CREATE INDEX report_submissions_study ON report_submissions (study_uid);

-- The current (latest) version of each study's report, searchable.
CREATE TABLE reports (
  study_uid         text PRIMARY KEY REFERENCES studies(study_uid),
  current_version   integer NOT NULL,
  text              text NOT NULL,              -- de-identified
  search_text       text NOT NULL,              -- folded, shorthand expanded (shared/src/reports/search-text.ts)
  search_tsv        tsvector GENERATED ALWAYS AS (to_tsvector('medlake_report', search_text)) STORED,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reports_search_tsv ON reports USING gin (search_tsv);
CREATE INDEX reports_search_trgm ON reports USING gin (search_text gin_trgm_ops);

CREATE TABLE report_versions (
  study_uid         text NOT NULL REFERENCES reports(study_uid),
  version           integer NOT NULL,
  text              text NOT NULL,              -- de-identified
  source            text NOT NULL,
  submission_id     uuid REFERENCES report_submissions(submission_id),
  author_sub        text,
  author_name       text,
  reason            text,
  -- Replacements per kind of personal data (counts only, never values).
  scrub_counts      jsonb NOT NULL DEFAULT '{}',
  created_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (study_uid, version)
);

-- Every lexeme of every report, for typo-tolerant queries: a query word is
-- widened to the known lexemes that are similar by trigrams.
CREATE TABLE report_lexemes (
  lexeme            text PRIMARY KEY
);
CREATE INDEX report_lexemes_trgm ON report_lexemes USING gin (lexeme gin_trgm_ops);

CREATE FUNCTION medlake_report_lexemes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO report_lexemes (lexeme)
  SELECT DISTINCT l FROM unnest(tsvector_to_array(NEW.search_tsv)) AS l
  WHERE length(l) BETWEEN 2 AND 60
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;
CREATE TRIGGER reports_lexemes AFTER INSERT OR UPDATE OF search_text ON reports
  FOR EACH ROW EXECUTE FUNCTION medlake_report_lexemes();

-- A query in web-search syntax (words, "phrases", -exclusions, or) as a
-- tsquery whose words also match known lexemes within a trigram similarity
-- of `min_similarity` (at most `max_alternatives` each, words of 4+ letters).
-- The input is the normalized query (normalizeReportQuery).
CREATE FUNCTION medlake_report_query(q text, min_similarity real DEFAULT 0.4, max_alternatives integer DEFAULT 6) RETURNS tsquery
LANGUAGE plpgsql STABLE AS $$
DECLARE
  widened tsquery := websearch_to_tsquery('medlake_report', q);
  word text;
  alternatives text;
BEGIN
  FOR word IN SELECT DISTINCT w FROM unnest(tsvector_to_array(to_tsvector('medlake_report', q))) AS w LOOP
    CONTINUE WHEN length(word) < 4 OR word ~ '[''\\]';
    SELECT string_agg('''' || x.lexeme || '''', ' | ') INTO alternatives
    FROM (SELECT l.lexeme FROM report_lexemes l
          WHERE l.lexeme % word AND l.lexeme <> word AND l.lexeme !~ '[''\\]' AND similarity(l.lexeme, word) >= min_similarity
          ORDER BY similarity(l.lexeme, word) DESC, l.lexeme LIMIT max_alternatives) x;
    IF alternatives IS NOT NULL THEN
      widened := ts_rewrite(widened, ('''' || word || '''')::tsquery, ('''' || word || ''' | ' || alternatives)::tsquery);
    END IF;
  END LOOP;
  RETURN widened;
END $$;

-- Down Migration
DROP FUNCTION medlake_report_query(text, real, integer);
DROP TRIGGER reports_lexemes ON reports;
DROP FUNCTION medlake_report_lexemes();
DROP TABLE report_lexemes;
DROP TABLE report_versions;
DROP TABLE reports;
DROP TABLE report_submissions;
DROP TEXT SEARCH CONFIGURATION medlake_report;
