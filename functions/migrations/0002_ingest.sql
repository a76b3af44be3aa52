-- Up Migration
-- Ingest bookkeeping: version history of instances, the origin of every
-- ingested source (for idempotent re-deliveries), multipart and processing
-- details of upload files, and the stored sha256 of held files.

-- Every archived version of an instance. A changed file with the same original
-- SOP Instance UID becomes version n+1 under its own archive key; the index row
-- in `instances` points to the newest, older objects stay in the archive.
CREATE TABLE instance_versions (
  sop_uid           text NOT NULL,
  version           integer NOT NULL,
  archive_key       text NOT NULL UNIQUE,
  sha256            text NOT NULL,              -- of the de-identified file
  source_sha256     text NOT NULL,              -- of the uploaded instance
  size_bytes        bigint NOT NULL,
  upload_id         uuid,
  file_index        integer,
  via               text NOT NULL DEFAULT 'upload', -- upload | stow
  created_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (sop_uid, version)
);
CREATE INDEX instance_versions_sha ON instance_versions (sop_uid, sha256);

ALTER TABLE instances ADD COLUMN version integer NOT NULL DEFAULT 1;

-- Where a source was first seen: a re-delivery of the same upload file is the
-- same ingest (accepted), another upload of the same bytes is a duplicate.
ALTER TABLE ingested_sources
  ADD COLUMN upload_id uuid,
  ADD COLUMN file_index integer,
  ADD COLUMN outcome text NOT NULL DEFAULT 'accepted'; -- accepted | held

ALTER TABLE upload_files
  ADD COLUMN part_size_bytes bigint,
  ADD COLUMN received_bytes bigint,               -- size of the object that arrived
  ADD COLUMN started_at timestamptz,
  ADD COLUMN finished_at timestamptz,
  ADD COLUMN studies text[] NOT NULL DEFAULT '{}'; -- de-identified Study Instance UIDs

CREATE INDEX upload_files_state ON upload_files (upload_id, state);
CREATE INDEX uploads_created ON uploads (created_at DESC);

ALTER TABLE held_instances
  ADD COLUMN sha256 text,
  ADD COLUMN size_bytes bigint,
  ADD COLUMN study_uid text,
  ADD COLUMN series_uid text;

-- Down Migration
ALTER TABLE held_instances DROP COLUMN series_uid, DROP COLUMN study_uid, DROP COLUMN size_bytes, DROP COLUMN sha256;
DROP INDEX uploads_created;
DROP INDEX upload_files_state;
ALTER TABLE upload_files DROP COLUMN studies, DROP COLUMN finished_at, DROP COLUMN started_at, DROP COLUMN received_bytes, DROP COLUMN part_size_bytes;
ALTER TABLE ingested_sources DROP COLUMN outcome, DROP COLUMN file_index, DROP COLUMN upload_id;
ALTER TABLE instances DROP COLUMN version;
DROP TABLE instance_versions;
