-- orgauthz schema, version 4: notifications for the caches of scope
-- checks (Store.ScopeAccess) and of API keys (Store.KeyAccess).
--
-- Version 1 notifies channel orgauthz when an organization or its members
-- change. The caches now also hold what a scope check reads (scope
-- resources, their members and custom roles) and what authenticating a
-- key reads (the key): a change to any of these notifies the same
-- channel with the organization's ID, at commit, once per transaction.
-- Every one of these tables has an org_id column: notify_member serves
-- them all.
--
-- A key's last use (TouchAPIKey, once a minute per key at most) notifies
-- nothing: it would drop every cached answer of the organization in
-- every process, to refresh a time no check depends on. Any other change
-- of a key's row does.

CREATE TRIGGER scopes_notify AFTER INSERT OR UPDATE OR DELETE ON orgauthz.scopes
	FOR EACH ROW EXECUTE FUNCTION orgauthz.notify_member();
CREATE TRIGGER scope_members_notify AFTER INSERT OR UPDATE OR DELETE ON orgauthz.scope_members
	FOR EACH ROW EXECUTE FUNCTION orgauthz.notify_member();
CREATE TRIGGER scope_roles_notify AFTER INSERT OR UPDATE OR DELETE ON orgauthz.scope_roles
	FOR EACH ROW EXECUTE FUNCTION orgauthz.notify_member();
CREATE TRIGGER api_keys_notify AFTER INSERT OR DELETE ON orgauthz.api_keys
	FOR EACH ROW EXECUTE FUNCTION orgauthz.notify_member();
CREATE TRIGGER api_keys_notify_update AFTER UPDATE ON orgauthz.api_keys
	FOR EACH ROW
	WHEN (to_jsonb(OLD) - 'last_used_at' IS DISTINCT FROM to_jsonb(NEW) - 'last_used_at')
	EXECUTE FUNCTION orgauthz.notify_member();

CREATE TRIGGER scopes_truncate_notify AFTER TRUNCATE ON orgauthz.scopes
	FOR EACH STATEMENT EXECUTE FUNCTION orgauthz.notify_all();
CREATE TRIGGER scope_members_truncate_notify AFTER TRUNCATE ON orgauthz.scope_members
	FOR EACH STATEMENT EXECUTE FUNCTION orgauthz.notify_all();
CREATE TRIGGER scope_roles_truncate_notify AFTER TRUNCATE ON orgauthz.scope_roles
	FOR EACH STATEMENT EXECUTE FUNCTION orgauthz.notify_all();
CREATE TRIGGER api_keys_truncate_notify AFTER TRUNCATE ON orgauthz.api_keys
	FOR EACH STATEMENT EXECUTE FUNCTION orgauthz.notify_all();
