-- Up Migration
-- Subscriptions: a user's saved search (the study filter as canonical JSON)
-- and the studies already sent to it. The digest job emails, per
-- subscription, the matching studies first indexed since it started
-- watching that it has not sent yet: one email per burst of ingest.

CREATE TABLE subscriptions (
  subscription_id   uuid PRIMARY KEY,
  owner_sub         text NOT NULL,
  owner_email       text NOT NULL,              -- where digests go (the user's address when subscribing)
  name              text NOT NULL,
  filter            jsonb NOT NULL,             -- StudyFilter JSON, paging left at its defaults
  active            boolean NOT NULL DEFAULT true,
  -- Why an inactive subscription sends nothing: paused (by its owner), unsubscribed (email link),
  -- account_disabled, access_removed (by an administrator's change).
  inactive_reason   text CHECK (inactive_reason IN ('paused', 'unsubscribed', 'account_disabled', 'access_removed')),
  -- Studies first indexed from this moment on are news (reset when the filter changes or it is re-activated).
  watch_from        timestamptz NOT NULL DEFAULT now(),
  -- Studies changed before this (minus a safety margin for long ingest transactions) have been considered.
  checked_through   timestamptz,
  -- When matching studies were first seen waiting for a digest (cleared when it is sent).
  pending_since     timestamptz,
  last_digest_at    timestamptz,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  CHECK (active = (inactive_reason IS NULL))
);
CREATE INDEX subscriptions_owner ON subscriptions (owner_sub, created_at);
CREATE INDEX subscriptions_active ON subscriptions (subscription_id) WHERE active;

-- One row per digest email sent.
CREATE TABLE subscription_digests (
  digest_id         bigserial PRIMARY KEY,
  subscription_id   uuid NOT NULL REFERENCES subscriptions(subscription_id) ON DELETE CASCADE,
  sent_at           timestamptz NOT NULL DEFAULT now(),
  study_count       integer NOT NULL,
  message_id        text
);
CREATE INDEX subscription_digests_subscription ON subscription_digests (subscription_id, sent_at DESC);

-- Studies a subscription has sent: never twice.
CREATE TABLE subscription_studies (
  subscription_id   uuid NOT NULL REFERENCES subscriptions(subscription_id) ON DELETE CASCADE,
  study_uid         text NOT NULL,
  digest_id         bigint NOT NULL REFERENCES subscription_digests(digest_id) ON DELETE CASCADE,
  PRIMARY KEY (subscription_id, study_uid)
);

-- The next digest run already requested (an SQS message delayed until due_at):
-- ingest bursts request one run, not one per batch.
CREATE TABLE notify_schedule (
  job               text PRIMARY KEY,
  due_at            timestamptz
);
INSERT INTO notify_schedule (job, due_at) VALUES ('subscription-digest', NULL);

-- Emails handed to the notify queue, claimed when sent: a redelivered
-- message sends nothing (rows older than SQS's 14-day retention are pruned).
CREATE TABLE notify_emails_sent (
  email_id          uuid PRIMARY KEY,
  sent_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notify_emails_sent_at ON notify_emails_sent (sent_at);

-- The digest looks for studies changed since its last pass.
CREATE INDEX studies_updated ON studies (updated_at);

-- Down Migration
DROP INDEX studies_updated;
DROP TABLE notify_emails_sent;
DROP TABLE notify_schedule;
DROP TABLE subscription_studies;
DROP TABLE subscription_digests;
DROP TABLE subscriptions;
