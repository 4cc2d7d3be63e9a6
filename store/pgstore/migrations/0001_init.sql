-- orgauthz schema, version 1: organizations and everything in them.
--
-- Every key column is COLLATE "C", so that listings ordered by the database
-- are ordered as Go compares strings (byte by byte), whatever the database's
-- default collation. Zero times are stored as NULL.

CREATE TABLE orgauthz.organizations (
	id            text COLLATE "C" PRIMARY KEY,
	name          text NOT NULL,
	scheme        text NOT NULL,
	edition       text NOT NULL,
	seat_override integer NOT NULL,
	settings      jsonb,
	archived      boolean NOT NULL,
	created_at    timestamptz,
	updated_at    timestamptz
);

CREATE TABLE orgauthz.members (
	org_id       text COLLATE "C" NOT NULL REFERENCES orgauthz.organizations (id) ON DELETE CASCADE,
	principal_id text COLLATE "C" NOT NULL,
	kind         smallint NOT NULL,
	name         text NOT NULL,
	role         text COLLATE "C" NOT NULL,
	external     boolean NOT NULL,
	joined_at    timestamptz,
	PRIMARY KEY (org_id, principal_id)
);

CREATE TABLE orgauthz.scopes (
	org_id     text COLLATE "C" NOT NULL REFERENCES orgauthz.organizations (id) ON DELETE CASCADE,
	kind       text COLLATE "C" NOT NULL,
	id         text COLLATE "C" NOT NULL,
	name       text NOT NULL,
	created_by text NOT NULL,
	created_at timestamptz,
	PRIMARY KEY (org_id, kind, id)
);

CREATE TABLE orgauthz.scope_members (
	org_id       text COLLATE "C" NOT NULL,
	kind         text COLLATE "C" NOT NULL,
	scope_id     text COLLATE "C" NOT NULL,
	principal_id text COLLATE "C" NOT NULL,
	role         text NOT NULL,
	added_at     timestamptz,
	PRIMARY KEY (org_id, kind, scope_id, principal_id),
	FOREIGN KEY (org_id, kind, scope_id) REFERENCES orgauthz.scopes (org_id, kind, id) ON DELETE CASCADE
);

-- PrincipalScopes: one principal's memberships, by kind, then scope.
CREATE INDEX scope_members_principal ON orgauthz.scope_members (org_id, principal_id, kind, scope_id);

CREATE TABLE orgauthz.scope_roles (
	org_id       text COLLATE "C" NOT NULL,
	kind         text COLLATE "C" NOT NULL,
	scope_id     text COLLATE "C" NOT NULL,
	id           text COLLATE "C" NOT NULL,
	name         text NOT NULL,
	capabilities text[],
	created_by   text NOT NULL,
	created_at   timestamptz,
	PRIMARY KEY (org_id, kind, scope_id, id),
	FOREIGN KEY (org_id, kind, scope_id) REFERENCES orgauthz.scopes (org_id, kind, id) ON DELETE CASCADE
);

CREATE TABLE orgauthz.audit (
	org_id      text COLLATE "C" NOT NULL REFERENCES orgauthz.organizations (id) ON DELETE CASCADE,
	seq         bigint NOT NULL,
	time        timestamptz,
	actor       text COLLATE "C" NOT NULL,
	action      text NOT NULL,
	target      text NOT NULL,
	role_before text NOT NULL,
	role_after  text NOT NULL,
	detail      text NOT NULL,
	PRIMARY KEY (org_id, seq)
);

CREATE INDEX audit_actor ON orgauthz.audit (org_id, actor, seq);

-- Invitation IDs are unique across the store: the primary key is the ID
-- alone, so that a token finds its organization.
CREATE TABLE orgauthz.invitations (
	id          text COLLATE "C" PRIMARY KEY,
	org_id      text COLLATE "C" NOT NULL REFERENCES orgauthz.organizations (id) ON DELETE CASCADE,
	email       text COLLATE "C" NOT NULL,
	role        text NOT NULL,
	status      smallint NOT NULL,
	token_hash  bytea,
	invited_by  text NOT NULL,
	created_at  timestamptz,
	expires_at  timestamptz,
	updated_at  timestamptz,
	accepted_by text NOT NULL,
	sends       integer NOT NULL
);

CREATE UNIQUE INDEX invitations_org ON orgauthz.invitations (org_id, id);

-- At most one Pending (status 1, invite.Pending) invitation per address
-- and organization.
CREATE UNIQUE INDEX invitations_pending ON orgauthz.invitations (org_id, email) WHERE status = 1;

-- API key IDs are unique across the store, like invitation IDs.
CREATE TABLE orgauthz.api_keys (
	id           text COLLATE "C" PRIMARY KEY,
	org_id       text COLLATE "C" NOT NULL REFERENCES orgauthz.organizations (id) ON DELETE CASCADE,
	name         text NOT NULL,
	owner_id     text COLLATE "C" NOT NULL,
	scope        text[],
	hash         bytea,
	display      text NOT NULL,
	created_by   text NOT NULL,
	created_at   timestamptz,
	expires_at   timestamptz,
	revoked_at   timestamptz,
	last_used_at timestamptz
);

CREATE UNIQUE INDEX api_keys_org ON orgauthz.api_keys (org_id, id);
CREATE INDEX api_keys_owner ON orgauthz.api_keys (org_id, owner_id, id);

-- Caches of Store.Access in every process are invalidated through
-- LISTEN/NOTIFY: a change to an organization or its members, by this
-- package or anyone else, notifies channel orgauthz with the organization's
-- ID when its transaction commits (PostgreSQL sends a notification once per
-- transaction, however many rows changed).
CREATE FUNCTION orgauthz.notify_organization() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP IN ('UPDATE', 'DELETE') THEN
		PERFORM pg_notify('orgauthz', OLD.id);
	END IF;
	IF TG_OP IN ('INSERT', 'UPDATE') THEN
		PERFORM pg_notify('orgauthz', NEW.id);
	END IF;
	RETURN NULL;
END
$$;

CREATE FUNCTION orgauthz.notify_member() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP IN ('UPDATE', 'DELETE') THEN
		PERFORM pg_notify('orgauthz', OLD.org_id);
	END IF;
	IF TG_OP IN ('INSERT', 'UPDATE') THEN
		PERFORM pg_notify('orgauthz', NEW.org_id);
	END IF;
	RETURN NULL;
END
$$;

-- TRUNCATE fires no row trigger: it notifies an empty payload, which
-- empties every cache (no organization has an empty ID).
CREATE FUNCTION orgauthz.notify_all() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('orgauthz', '');
	RETURN NULL;
END
$$;

CREATE TRIGGER organizations_notify AFTER INSERT OR UPDATE OR DELETE ON orgauthz.organizations
	FOR EACH ROW EXECUTE FUNCTION orgauthz.notify_organization();
CREATE TRIGGER members_notify AFTER INSERT OR UPDATE OR DELETE ON orgauthz.members
	FOR EACH ROW EXECUTE FUNCTION orgauthz.notify_member();
CREATE TRIGGER organizations_truncate_notify AFTER TRUNCATE ON orgauthz.organizations
	FOR EACH STATEMENT EXECUTE FUNCTION orgauthz.notify_all();
CREATE TRIGGER members_truncate_notify AFTER TRUNCATE ON orgauthz.members
	FOR EACH STATEMENT EXECUTE FUNCTION orgauthz.notify_all();
