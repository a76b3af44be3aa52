-- Up Migration
-- The index of the lake: de-identified attributes only. Original identifiers
-- live encrypted in phi_vault.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE patients (
  patient_id        text PRIMARY KEY,           -- pseudonym (keyed HMAC of issuer + original ID)
  patient_name      text NOT NULL,              -- pseudonymous name shown to users
  sex               text,
  birth_date        date,                       -- shifted; usually null (removed by profile)
  created_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE studies (
  study_uid         text PRIMARY KEY,           -- remapped 2.25.* UID
  patient_id        text NOT NULL REFERENCES patients(patient_id),
  study_date        date,                       -- shifted
  study_time        text,
  accession_number  text,                       -- pseudonymous
  study_id          text,
  description       text,
  modalities        text[] NOT NULL DEFAULT '{}',
  body_parts        text[] NOT NULL DEFAULT '{}',
  sop_classes       text[] NOT NULL DEFAULT '{}',
  patient_age       text,
  referring_physician text,
  num_series        integer NOT NULL DEFAULT 0,
  num_instances     integer NOT NULL DEFAULT 0,
  size_bytes        bigint NOT NULL DEFAULT 0,
  attributes        jsonb NOT NULL DEFAULT '{}', -- study-level DICOM JSON (de-identified)
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX studies_patient ON studies (patient_id);
CREATE INDEX studies_date ON studies (study_date);
CREATE INDEX studies_accession ON studies (accession_number);
CREATE INDEX studies_modalities ON studies USING gin (modalities);
CREATE INDEX studies_body_parts ON studies USING gin (body_parts);
CREATE INDEX studies_description_trgm ON studies USING gin (description gin_trgm_ops);
CREATE INDEX studies_created ON studies (created_at);

CREATE TABLE series (
  series_uid        text PRIMARY KEY,
  study_uid         text NOT NULL REFERENCES studies(study_uid),
  modality          text,
  series_number     integer,
  description       text,
  body_part         text,
  num_instances     integer NOT NULL DEFAULT 0,
  attributes        jsonb NOT NULL DEFAULT '{}', -- series-level DICOM JSON
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX series_study ON series (study_uid);
CREATE INDEX series_modality ON series (modality);

CREATE TABLE instances (
  sop_uid           text PRIMARY KEY,
  series_uid        text NOT NULL REFERENCES series(series_uid),
  study_uid         text NOT NULL REFERENCES studies(study_uid),
  sop_class_uid     text NOT NULL,
  instance_number   integer,
  transfer_syntax_uid text NOT NULL,
  number_of_frames  integer NOT NULL DEFAULT 1,
  rows              integer,
  columns           integer,
  archive_key       text NOT NULL,              -- key in the archive bucket
  size_bytes        bigint NOT NULL,
  sha256            text NOT NULL,              -- of the de-identified file
  source_sha256     text NOT NULL,              -- of the uploaded file
  -- byte ranges of each frame inside the archived file: [[offset, length], ...]
  frame_ranges      jsonb NOT NULL DEFAULT '[]',
  -- offset and length of the whole Pixel Data element value, bulk data for /metadata
  pixel_data_offset bigint,
  pixel_data_length bigint,
  attributes        jsonb NOT NULL,             -- full DICOM JSON without bulk data
  created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX instances_series ON instances (series_uid, instance_number);
CREATE INDEX instances_study ON instances (study_uid);
CREATE INDEX instances_sop_class ON instances (sop_class_uid);

CREATE TABLE uploads (
  upload_id         uuid PRIMARY KEY,
  owner_sub         text NOT NULL,
  owner_name        text,
  client            text NOT NULL DEFAULT 'web', -- web | gateway
  created_at        timestamptz NOT NULL DEFAULT now(),
  expires_at        timestamptz NOT NULL
);
CREATE INDEX uploads_owner ON uploads (owner_sub, created_at DESC);

CREATE TYPE upload_file_state AS ENUM ('waiting', 'processing', 'accepted', 'duplicate', 'rejected', 'held');

CREATE TABLE upload_files (
  upload_id         uuid NOT NULL REFERENCES uploads(upload_id),
  file_index        integer NOT NULL,
  name              text NOT NULL,
  size_bytes        bigint NOT NULL,
  sha256            text,
  quarantine_key    text NOT NULL UNIQUE,
  multipart_upload_id text,
  state             upload_file_state NOT NULL DEFAULT 'waiting',
  reason            text,                       -- human-readable, never PHI
  instances_accepted integer NOT NULL DEFAULT 0,
  instances_duplicate integer NOT NULL DEFAULT 0,
  instances_rejected integer NOT NULL DEFAULT 0,
  instances_held    integer NOT NULL DEFAULT 0,
  details           jsonb NOT NULL DEFAULT '[]', -- per-instance outcomes for archives
  updated_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (upload_id, file_index)
);

-- One row per original instance ever ingested: idempotency by original SOP
-- Instance UID (as keyed hash, never in clear) + content hash.
CREATE TABLE ingested_sources (
  source_uid_hash   text NOT NULL,
  source_sha256     text NOT NULL,
  sop_uid           text NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (source_uid_hash, source_sha256)
);

-- Instances held for review (e.g. burned-in annotation): de-identified file kept
-- under held/ in the archive bucket, not published in the index until released.
CREATE TABLE held_instances (
  sop_uid           text PRIMARY KEY,
  upload_id         uuid,
  file_index        integer,
  reason            text NOT NULL,
  archive_key       text NOT NULL,
  attributes        jsonb NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  decided_at        timestamptz,
  decided_by        text,
  decision          text
);

CREATE TABLE phi_vault (
  id                bigserial PRIMARY KEY,
  kind              text NOT NULL,              -- patient | study | instance | report
  pseudonym         text NOT NULL,              -- the pseudonymous key this record re-identifies
  ciphertext        bytea NOT NULL,             -- AES-256-GCM of the original identifiers (JSON)
  iv                bytea NOT NULL,
  auth_tag          bytea NOT NULL,
  encrypted_key     bytea NOT NULL,             -- data key, wrapped by KMS (or the local key file)
  key_id            text NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (kind, pseudonym)
);

CREATE TABLE audit_log (
  id                bigserial PRIMARY KEY,
  at                timestamptz NOT NULL DEFAULT now(),
  actor_sub         text,
  actor_name        text,
  action            text NOT NULL,
  resource          text,
  outcome           text NOT NULL DEFAULT 'ok',
  details           jsonb NOT NULL DEFAULT '{}',
  source_ip         text,
  correlation_id    text
);
CREATE INDEX audit_log_at ON audit_log (at DESC);
CREATE INDEX audit_log_actor ON audit_log (actor_sub, at DESC);

-- Down Migration
DROP TABLE audit_log;
DROP TABLE phi_vault;
DROP TABLE held_instances;
DROP TABLE ingested_sources;
DROP TABLE upload_files;
DROP TYPE upload_file_state;
DROP TABLE uploads;
DROP TABLE instances;
DROP TABLE series;
DROP TABLE studies;
DROP TABLE patients;
