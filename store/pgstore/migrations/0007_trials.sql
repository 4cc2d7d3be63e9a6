-- orgauthz schema, version 7: edition trials.
--
-- An organization may be on a time-bound trial of another edition:
-- trial_edition is the edition on trial ('' for none), trial_ends_at the
-- first instant it no longer applies (NULL for none). Both are set or
-- neither (organizations_trial); trial_started_at, when the trial began
-- (NULL when unknown or none), bounds its extensions. The store keeps and returns them; it
-- never compares trial_ends_at with the clock.
--
-- The new columns have constant defaults, so adding them rewrites no row;
-- the check holds at once for every existing row (no trial) but is still
-- validated by a scan of the table, under the lock ADD COLUMN takes. The
-- partial index serves the listing of trials by their end (TrialsEnding):
-- it holds the organizations on trial only, so it costs nothing for the
-- others. The row trigger organizations_notify fires on every UPDATE of a
-- row: a change of a trial empties the caches as any change of the
-- organization does.

ALTER TABLE orgauthz.organizations
	ADD COLUMN trial_edition text COLLATE "C" NOT NULL DEFAULT '',
	ADD COLUMN trial_started_at timestamptz NULL,
	ADD COLUMN trial_ends_at timestamptz NULL,
	ADD CONSTRAINT organizations_trial CHECK ((trial_edition = '') = (trial_ends_at IS NULL));

CREATE INDEX organizations_trial_ends ON orgauthz.organizations (trial_ends_at, id) WHERE trial_edition <> '';
