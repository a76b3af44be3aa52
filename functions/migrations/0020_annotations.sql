-- Up Migration
-- Annotation sets with their full version history. A set belongs to a study
-- (optionally to one of its series) and to the author who started it; every
-- save (an SR posted by the viewer through STOW-RS, or a version written
-- through the API, or a restore) adds an immutable version pointing to the
-- stored SR instance. Nothing is updated but the set's pointer to its latest
-- version; nothing is deleted.

CREATE TABLE annotation_sets (
  set_id            uuid PRIMARY KEY,
  study_uid         text NOT NULL REFERENCES studies(study_uid),
  series_uid        text REFERENCES series(series_uid), -- the image series it is about, when given
  name              text NOT NULL,              -- the report name (SR SeriesDescription)
  author_sub        text NOT NULL,
  author_name       text,
  current_version   integer NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX annotation_sets_study ON annotation_sets (study_uid, updated_at DESC);
-- The versioning rule for viewer saves matches a set by study, author and name.
CREATE UNIQUE INDEX annotation_sets_author_name ON annotation_sets (study_uid, author_sub, lower(name));

CREATE TABLE annotation_versions (
  set_id            uuid NOT NULL REFERENCES annotation_sets(set_id),
  version           integer NOT NULL CHECK (version >= 1),
  parent_version    integer,                    -- the version this one was made from
  restored_from     integer,                    -- for restores: the version whose content it repeats
  source            text NOT NULL CHECK (source IN ('viewer', 'api', 'restore')),
  rule              text,                       -- viewer saves: which versioning rule placed it (predecessor | series | name | new)
  sop_uid           text NOT NULL,              -- the stored SR instance
  instance_version  integer NOT NULL,           -- which archived version of that instance (instance_versions)
  series_uid        text NOT NULL,              -- the SR's series
  sop_class_uid     text NOT NULL,
  author_sub        text NOT NULL,
  author_name       text,
  message           text,
  document          jsonb NOT NULL,             -- the measurements as JSON (shared/src/annotations/annotation-document.ts)
  measurement_count integer NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (set_id, version),
  FOREIGN KEY (set_id, parent_version) REFERENCES annotation_versions (set_id, version),
  FOREIGN KEY (set_id, restored_from) REFERENCES annotation_versions (set_id, version)
);
CREATE UNIQUE INDEX annotation_versions_instance ON annotation_versions (sop_uid, instance_version);
CREATE INDEX annotation_versions_sop ON annotation_versions (sop_uid);
CREATE INDEX annotation_versions_series ON annotation_versions (series_uid);

-- Which version a user opens in the viewer: DICOMweb shows that version of
-- the set (instead of the latest) to this user until it expires.
CREATE TABLE annotation_view_selections (
  actor_sub         text NOT NULL,
  set_id            uuid NOT NULL REFERENCES annotation_sets(set_id),
  study_uid         text NOT NULL REFERENCES studies(study_uid),
  version           integer NOT NULL,
  expires_at        timestamptz NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (actor_sub, set_id),
  FOREIGN KEY (set_id, version) REFERENCES annotation_versions (set_id, version)
);
CREATE INDEX annotation_view_selections_study ON annotation_view_selections (actor_sub, study_uid);

-- Down Migration
DROP TABLE annotation_view_selections;
DROP TABLE annotation_versions;
DROP TABLE annotation_sets;
