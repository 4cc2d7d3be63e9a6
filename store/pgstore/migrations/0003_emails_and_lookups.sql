-- orgauthz schema, version 3: members' addresses, who declined an
-- invitation, and the indexes of the lookups by principal, address and
-- kind (Store.Memberships, Store.InvitationsTo, Reader.MemberByEmail,
-- Reader.ServicePrincipals).
--
-- Both new columns have a constant default: adding them rewrites no row.
-- The indexes are built in the migration's transaction, which holds off
-- writes to the members and invitations tables meanwhile.

-- The normalized address a member was invited at, '' when it joined
-- otherwise. COLLATE "C", like every key: compared byte for byte.
ALTER TABLE orgauthz.members ADD COLUMN email text COLLATE "C" NOT NULL DEFAULT '';

-- No two members of an organization share a non-empty address.
CREATE UNIQUE INDEX members_email ON orgauthz.members (org_id, email) WHERE email <> '';

-- Memberships: a principal's organizations, by organization ID (the
-- primary key leads with the organization).
CREATE INDEX members_principal ON orgauthz.members (principal_id, org_id);

-- ServicePrincipals: an organization's members of kind 2
-- (org.ServicePrincipal), by principal, stepping over no user.
CREATE INDEX members_service_principals ON orgauthz.members (org_id, principal_id) WHERE kind = 2;

-- The principal who declined an invitation, '' if none did (or it was
-- declined through the link alone).
ALTER TABLE orgauthz.invitations ADD COLUMN declined_by text NOT NULL DEFAULT '';

-- InvitationsTo: the Pending (status 1, invite.Pending) invitations to an
-- address, across organizations, by ID.
CREATE INDEX invitations_pending_to ON orgauthz.invitations (email, id) WHERE status = 1;

-- MemberScopes (a principal's memberships of one kind, by scope ID) reads
-- scope_members_principal (org_id, principal_id, kind, scope_id) of
-- version 1: no index of its own.
