-- orgauthz schema, version 6: invitations and API keys keyed by
-- organization first.
--
-- Version 1 gave both tables PRIMARY KEY (id), the ID being unique across
-- the store, and a unique index on (org_id, id) for the lookups of one
-- organization. The two now trade places: the primary key is
-- (org_id, id), like that of every other table of an organization, and a
-- unique index on (id) alone keeps IDs unique across the store. The
-- indexes, the guarantees and the arbiters of ON CONFLICT DO NOTHING (every
-- unique index) are the same; no statement changes. What it prepares: a
-- table distributed by organization (Citus) can keep a primary key only
-- if it holds the organization, and only the index on (id) would then go.
--
-- The index on (org_id, id) becomes the primary key as it is (ADD ...
-- USING INDEX, which renames it): only the index on (id) is built. Both
-- tables are locked first, before the builds, so that no lock is upgraded
-- while an Update that read one of them waits to write it; reads and
-- writes of invitations and API keys wait for the migration meanwhile.
-- Every column of the new keys is NOT NULL already: nothing is checked.

LOCK TABLE orgauthz.invitations, orgauthz.api_keys IN ACCESS EXCLUSIVE MODE;

CREATE UNIQUE INDEX invitations_id ON orgauthz.invitations (id);
ALTER TABLE orgauthz.invitations DROP CONSTRAINT invitations_pkey;
ALTER TABLE orgauthz.invitations ADD CONSTRAINT invitations_pkey PRIMARY KEY USING INDEX invitations_org;

CREATE UNIQUE INDEX api_keys_id ON orgauthz.api_keys (id);
ALTER TABLE orgauthz.api_keys DROP CONSTRAINT api_keys_pkey;
ALTER TABLE orgauthz.api_keys ADD CONSTRAINT api_keys_pkey PRIMARY KEY USING INDEX api_keys_org;
