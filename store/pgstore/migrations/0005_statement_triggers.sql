-- orgauthz schema, version 5: the triggers on members run once per
-- statement.
--
-- Versions 1 and 2 notified and counted in row triggers: a statement that
-- inserts 10,000 members (an import, which a transaction now writes as one
-- INSERT) ran 20,000 trigger functions, and upserted one row of
-- member_counts 10,000 times within one transaction, each update one more
-- version of that row to step over. Statement triggers read the changed
-- rows from transition tables: one upsert per organization, role and
-- standing, one notification per organization, per statement.

DROP TRIGGER members_count ON orgauthz.members;
DROP TRIGGER members_count_update ON orgauthz.members;
DROP TRIGGER members_notify ON orgauthz.members;

-- count_members adds the rows of new_rows to the counts and takes those of
-- old_rows away; an UPDATE counts only its net change by organization,
-- role and standing, so that one that changes neither (a name, an
-- address) writes no count.
CREATE FUNCTION orgauthz.count_members() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		INSERT INTO orgauthz.member_counts AS c (org_id, role, external, n)
		SELECT org_id, role, external, count(*) FROM new_rows GROUP BY org_id, role, external
		ON CONFLICT (org_id, role, external) DO UPDATE SET n = c.n + excluded.n;
		PERFORM pg_notify('orgauthz', o.org_id) FROM (SELECT DISTINCT org_id FROM new_rows) o;
	ELSIF TG_OP = 'DELETE' THEN
		UPDATE orgauthz.member_counts c SET n = c.n - d.n
		FROM (SELECT org_id, role, external, count(*)::integer AS n FROM old_rows GROUP BY org_id, role, external) d
		WHERE c.org_id = d.org_id AND c.role = d.role AND c.external = d.external;
		PERFORM pg_notify('orgauthz', o.org_id) FROM (SELECT DISTINCT org_id FROM old_rows) o;
	ELSE
		WITH d AS (
			SELECT org_id, role, external, sum(k)::integer AS n FROM (
				SELECT org_id, role, external, -1 AS k FROM old_rows
				UNION ALL SELECT org_id, role, external, 1 FROM new_rows) x
			GROUP BY org_id, role, external HAVING sum(k) <> 0
		), fewer AS (
			UPDATE orgauthz.member_counts c SET n = c.n + d.n FROM d
			WHERE d.n < 0 AND c.org_id = d.org_id AND c.role = d.role AND c.external = d.external
		)
		INSERT INTO orgauthz.member_counts AS c (org_id, role, external, n)
		SELECT org_id, role, external, n FROM d WHERE n > 0
		ON CONFLICT (org_id, role, external) DO UPDATE SET n = c.n + excluded.n;
		PERFORM pg_notify('orgauthz', o.org_id) FROM (SELECT org_id FROM old_rows UNION SELECT org_id FROM new_rows) o;
	END IF;
	RETURN NULL;
END
$$;

CREATE TRIGGER members_insert AFTER INSERT ON orgauthz.members
	REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION orgauthz.count_members();
CREATE TRIGGER members_update AFTER UPDATE ON orgauthz.members
	REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION orgauthz.count_members();
CREATE TRIGGER members_delete AFTER DELETE ON orgauthz.members
	REFERENCING OLD TABLE AS old_rows
	FOR EACH STATEMENT EXECUTE FUNCTION orgauthz.count_members();

DROP FUNCTION orgauthz.count_member();
