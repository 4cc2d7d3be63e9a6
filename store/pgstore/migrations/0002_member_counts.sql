-- orgauthz schema, version 2: head counts kept as members change.
--
-- Reader.Counts runs in every change that checks an invariant (the seat
-- limit, the last admin), under the organization's lock. Counting the
-- members each time cost O(members): 26 ms for an organization of 100,000.
-- Triggers now keep the counts, by organization, role and standing, in the
-- transaction that changes the members.

-- A count that falls to 0 stays, for the next member of that role: a
-- change of role is then one UPDATE and one upsert. The counts go with
-- their organization.
CREATE TABLE orgauthz.member_counts (
	org_id   text COLLATE "C" NOT NULL REFERENCES orgauthz.organizations (id) ON DELETE CASCADE,
	role     text COLLATE "C" NOT NULL,
	external boolean NOT NULL,
	n        integer NOT NULL CHECK (n >= 0),
	PRIMARY KEY (org_id, role, external)
);

-- No member may change while the counts are taken and the triggers made.
LOCK TABLE orgauthz.members IN SHARE ROW EXCLUSIVE MODE;

INSERT INTO orgauthz.member_counts (org_id, role, external, n)
SELECT org_id, role, external, count(*) FROM orgauthz.members GROUP BY org_id, role, external;

CREATE FUNCTION orgauthz.count_member() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP IN ('UPDATE', 'DELETE') THEN
		UPDATE orgauthz.member_counts SET n = n - 1
		WHERE org_id = OLD.org_id AND role = OLD.role AND external = OLD.external;
	END IF;
	IF TG_OP IN ('INSERT', 'UPDATE') THEN
		INSERT INTO orgauthz.member_counts AS c (org_id, role, external, n)
		VALUES (NEW.org_id, NEW.role, NEW.external, 1)
		ON CONFLICT (org_id, role, external) DO UPDATE SET n = c.n + 1;
	END IF;
	RETURN NULL;
END
$$;

CREATE FUNCTION orgauthz.count_members_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	-- DELETE, not TRUNCATE: the TRUNCATE that fired this may name
	-- member_counts too, and a table cannot be truncated twice at once.
	DELETE FROM orgauthz.member_counts;
	RETURN NULL;
END
$$;

CREATE TRIGGER members_count AFTER INSERT OR DELETE ON orgauthz.members
	FOR EACH ROW EXECUTE FUNCTION orgauthz.count_member();
CREATE TRIGGER members_count_update AFTER UPDATE ON orgauthz.members
	FOR EACH ROW
	WHEN ((OLD.org_id, OLD.role, OLD.external) IS DISTINCT FROM (NEW.org_id, NEW.role, NEW.external))
	EXECUTE FUNCTION orgauthz.count_member();
CREATE TRIGGER members_count_truncate AFTER TRUNCATE ON orgauthz.members
	FOR EACH STATEMENT EXECUTE FUNCTION orgauthz.count_members_truncated();
