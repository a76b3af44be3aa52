-- Up Migration
-- What QIDO-RS, WADO-RS and the study browser need from the index: folded
-- names for case/accent-insensitive and fuzzy matching, study time and
-- patient age as numbers for ranges, trigram indexes for `*x*` searches,
-- the cached series metadata documents, and the hourly access ledger that
-- keeps the audit log to one line per study, principal and hour.

CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS unaccent;

-- unaccent() is only STABLE (its dictionary could change); pinning the
-- dictionary makes it safe to index, as PostgreSQL's documentation suggests.
CREATE FUNCTION medlake_fold(value text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
  AS $$ SELECT lower(public.unaccent('public.unaccent'::regdictionary, replace(value, '^', ' '))) $$;

-- A DICOM TM (HH, HHMM, HHMMSS, HHMMSS.FFFFFF, colons tolerated) in seconds since midnight; NULL if malformed.
CREATE FUNCTION medlake_tm_seconds(tm text) RETURNS double precision
  LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
  AS $$
    SELECT CASE WHEN t ~ '^[0-9]{2}([0-9]{2}([0-9]{2}(\.[0-9]{1,6})?)?)?$' THEN
      substr(t, 1, 2)::int * 3600
      + coalesce(nullif(substr(t, 3, 2), '')::int, 0) * 60
      + coalesce(nullif(substr(t, 5), '')::double precision, 0)
    END
    FROM (SELECT replace(trim(tm), ':', '') AS t) AS v
  $$;

-- A DICOM AS (nnnD, nnnW, nnnM, nnnY) in years; NULL if malformed.
CREATE FUNCTION medlake_age_years(age text) RETURNS double precision
  LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
  AS $$
    SELECT CASE WHEN age ~ '^[0-9]{3}[DWMY]$' THEN
      substr(age, 1, 3)::double precision / CASE right(age, 1) WHEN 'D' THEN 365.25 WHEN 'W' THEN 52.1775 WHEN 'M' THEN 12 ELSE 1 END
    END
  $$;

ALTER TABLE patients ADD COLUMN patient_name_fold text GENERATED ALWAYS AS (medlake_fold(patient_name)) STORED;
CREATE INDEX patients_name_fold_trgm ON patients USING gin (patient_name_fold gin_trgm_ops);
CREATE INDEX patients_name_lower_trgm ON patients USING gin (lower(patient_name) gin_trgm_ops);

ALTER TABLE studies ADD COLUMN study_time_seconds double precision GENERATED ALWAYS AS (medlake_tm_seconds(study_time)) STORED;
ALTER TABLE studies ADD COLUMN age_years double precision GENERATED ALWAYS AS (medlake_age_years(patient_age)) STORED;
-- The default order of every study list: newest first, UID as tie-breaker for stable pages.
CREATE INDEX studies_date_uid ON studies (study_date DESC NULLS LAST, study_uid);
CREATE INDEX studies_patient_date ON studies (patient_id, study_date DESC NULLS LAST);
CREATE INDEX studies_description_lower_trgm ON studies USING gin (lower(description) gin_trgm_ops);

CREATE INDEX series_description_lower_trgm ON series USING gin (lower(description) gin_trgm_ops);
CREATE INDEX series_study_number ON series (study_uid, series_number, series_uid);
CREATE INDEX instances_series_order ON instances (series_uid, instance_number, sop_uid);

-- WADO-RS series metadata, built on first request and kept until an instance
-- of the series changes (the trigger below): a 300-slice series is served
-- from one gzip blob. BulkDataURIs are absolute, so one row per base URL.
CREATE TABLE series_metadata (
  series_uid        text NOT NULL REFERENCES series(series_uid) ON DELETE CASCADE,
  base_url          text NOT NULL,
  num_instances     integer NOT NULL,
  document_gzip     bytea NOT NULL,             -- the JSON array, gzip-compressed
  document_bytes    integer NOT NULL,           -- its uncompressed size
  built_at          timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (series_uid, base_url)
);

CREATE FUNCTION medlake_series_metadata_stale() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
  BEGIN
    IF TG_OP <> 'INSERT' THEN DELETE FROM series_metadata WHERE series_uid = OLD.series_uid; END IF;
    IF TG_OP <> 'DELETE' THEN DELETE FROM series_metadata WHERE series_uid = NEW.series_uid; END IF;
    RETURN NULL;
  END
  $$;
CREATE TRIGGER instances_series_metadata_stale
  AFTER INSERT OR UPDATE OR DELETE ON instances
  FOR EACH ROW EXECUTE FUNCTION medlake_series_metadata_stale();

-- One row per principal, study and hour with a read: the audit log gets a
-- line only when the row is new, so a viewer fetching 300 frames is one entry.
CREATE TABLE study_access_hours (
  actor_sub         text NOT NULL,
  study_uid         text NOT NULL,
  hour_start        timestamptz NOT NULL,
  kind              text NOT NULL,              -- open | retrieve
  PRIMARY KEY (actor_sub, study_uid, hour_start, kind)
);
CREATE INDEX study_access_hours_hour ON study_access_hours (hour_start);

-- Down Migration
DROP TABLE study_access_hours;
DROP TRIGGER instances_series_metadata_stale ON instances;
DROP FUNCTION medlake_series_metadata_stale();
DROP TABLE series_metadata;
DROP INDEX instances_series_order;
DROP INDEX series_study_number;
DROP INDEX series_description_lower_trgm;
DROP INDEX studies_description_lower_trgm;
DROP INDEX studies_patient_date;
DROP INDEX studies_date_uid;
ALTER TABLE studies DROP COLUMN age_years;
ALTER TABLE studies DROP COLUMN study_time_seconds;
DROP INDEX patients_name_lower_trgm;
DROP INDEX patients_name_fold_trgm;
ALTER TABLE patients DROP COLUMN patient_name_fold;
DROP FUNCTION medlake_age_years(text);
DROP FUNCTION medlake_tm_seconds(text);
DROP FUNCTION medlake_fold(text);
