-- Up Migration
-- Classification labels: a vocabulary the admins keep, and the labels of
-- each study, series or instance as versioned sets (every change is a new
-- version with its author and time; the set points to its latest). Terms
-- are retired, never deleted, so old versions always resolve.

CREATE TABLE label_terms (
  code              text PRIMARY KEY CHECK (code ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
  display           text NOT NULL,
  description       text,
  levels            text[] NOT NULL DEFAULT '{study,series,instance}'
                    CHECK (levels <@ '{study,series,instance}'::text[] AND cardinality(levels) > 0),
  allowed_values    text[] NOT NULL DEFAULT '{}', -- empty: the label takes no value
  active            boolean NOT NULL DEFAULT true,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  updated_by        text
);

CREATE TABLE label_sets (
  target            text PRIMARY KEY,           -- study/{uid} | series/{uid} | instance/{uid}
  level             text NOT NULL CHECK (level IN ('study', 'series', 'instance')),
  study_uid         text NOT NULL REFERENCES studies(study_uid),
  series_uid        text REFERENCES series(series_uid),
  sop_uid           text REFERENCES instances(sop_uid),
  current_version   integer NOT NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX label_sets_study ON label_sets (study_uid);

CREATE TABLE label_versions (
  target            text NOT NULL REFERENCES label_sets(target),
  version           integer NOT NULL CHECK (version >= 1),
  labels            jsonb NOT NULL,             -- [{code, value}] sorted by code
  author_sub        text NOT NULL,
  author_name       text,
  message           text,
  created_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (target, version)
);
CREATE INDEX label_versions_labels ON label_versions USING gin (labels jsonb_path_ops);

-- Down Migration
DROP TABLE label_versions;
DROP TABLE label_sets;
DROP TABLE label_terms;
