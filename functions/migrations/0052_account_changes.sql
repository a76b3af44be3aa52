-- Up Migration
-- What an administrator last changed about an account (functions/src/auth/account-changes.ts):
-- tokens carry a user's groups for an hour, so every request also checks
-- that the account is not disabled and that a token issued before the last
-- change of groups does not carry groups the account no longer has.
-- One row per changed account (most accounts never have one).
CREATE TABLE account_changes (
  sub               text PRIMARY KEY,             -- the Cognito user's sub, as tokens name it
  changed_at        timestamptz NOT NULL DEFAULT now(),
  disabled          boolean NOT NULL DEFAULT false,
  groups            text[]                        -- the groups the last change set; NULL when only enabled/disabled
);

-- Down Migration
DROP TABLE account_changes;
