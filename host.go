package orgauthz

import (
	"context"
	"fmt"

	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/policy"
	"github.com/orgauthz/orgauthz/store"
)

// Host is the host's own authority over its organizations: the support,
// back-office and provisioning actions that no member could make (a
// support desk promoting a member when the last admin is gone, a billing
// system changing an edition, a founder handing over UiPath's immutable
// ownership, an import provisioning members). It is a separate value, not
// an empty actor, so a member's request cannot reach it by accident: code
// that serves members never calls Service.Host.
//
// No member's permission is asked, but every invariant holds, as for
// members: the last admin or owner stays, seats never exceed the limit,
// the edition's roles and the roles' maximums hold, an immutable role is
// never given, taken or changed (TransferOwnership alone moves it), and
// the external standing is never given. What a change leaves behind is
// re-established as it is for members (scope roles, invitations and keys
// that the new state no longer allows). Audit events of the host's changes
// have no actor (AuditEvent.Actor is ""), which marks them as the host's.
//
// A Host is a small value; copy it freely. It is safe for concurrent use.
type Host struct{ s *Service }

// Host returns the host's authority over the service's organizations.
func (s *Service) Host() Host { return Host{s} }

// Provision adds principal p to the organization with role r, for imports
// and provisioning (SCIM, migrations), or to take in a support member: the
// seat limit holds (free a seat first: RemoveMember, RevokeInvitation,
// ChangeEdition or SetSeatOverride), as do the edition's roles, the role's
// maximum, and the immutable and external roles are never given. An
// external member becomes a full member. The audit event has no actor and
// says "provisioned".
func (h Host) Provision(ctx context.Context, orgID string, p org.Principal, r string) (org.Member, error) {
	if err := p.Validate(); err != nil {
		return org.Member{}, err
	}
	var out org.Member
	err := h.s.hostUpdateReading(ctx, orgID, readsMember(p.ID).and(h.s.readsCounts), func(ctx context.Context, tx store.Tx, st *state) error {
		if err := hostAssignable(st, r); err != nil {
			return fmt.Errorf("provision %q in %q: %w", p.ID, orgID, err)
		}
		var err error
		out, err = h.s.addMember(ctx, tx, st, p, r, "", org.AuditEvent{Detail: "provisioned"}, reserved)
		return err
	})
	return out, err
}

// hostAssignable refuses a role the host may not give: unknown, immutable
// (only TransferOwnership moves it) or the external standing. The edition
// and the role's maximum are the invariants' business.
func hostAssignable(st *state, r string) error {
	ri, ok := st.sch.RoleIndex(r)
	switch {
	case !ok:
		return fmt.Errorf("%w %q in scheme %q", ErrUnknownRole, r, st.sch.ID())
	case st.sch.Immutable(ri):
		return fmt.Errorf("%w: %w: role %q is never given", ErrInvariant, ErrImmutableRole, r)
	case st.sch.IsExternal(ri):
		return fmt.Errorf("%w: %w: %q is a standing, not a role to give", ErrPermissionDenied, policy.ErrNotAssignable, r)
	}
	return nil
}

// ChangeRole gives member principalID role r. The member must be a full
// member (an external one is provisioned instead), neither its role nor r
// may be immutable, and the invariants must hold afterwards. Giving the
// role it holds changes nothing.
func (h Host) ChangeRole(ctx context.Context, orgID, principalID, r string) (org.Member, error) {
	var out org.Member
	err := h.s.hostUpdateReading(ctx, orgID, h.s.readsMemberChange(principalID), func(ctx context.Context, tx store.Tx, st *state) error {
		target, err := h.s.member(ctx, tx, orgID, principalID)
		if err != nil {
			return err
		}
		if err := hostMayChange(st, target); err != nil {
			return fmt.Errorf("change role of %q in %q: %w", principalID, orgID, err)
		}
		if target.External {
			// Its standing is not a role: it takes no seat. Provisioning
			// makes it a member, within the seat limit.
			return fmt.Errorf("change role of %q in %q: %w: %q is an external member: provision it to make it a member", principalID, orgID, ErrPermissionDenied, principalID)
		}
		if err := hostAssignable(st, r); err != nil {
			return fmt.Errorf("change role of %q in %q: %w", principalID, orgID, err)
		}
		if target.Kind == org.ServicePrincipal {
			if err := st.mayHoldServicePrincipal(org.Principal{ID: target.PrincipalID, Kind: target.Kind}); err != nil {
				return fmt.Errorf("change role of %q in %q: %w", principalID, orgID, err)
			}
		}
		out, err = h.s.changeRole(ctx, tx, st, target, r)
		return err
	})
	return out, err
}

// hostMayChange refuses to change or remove the holder of an immutable
// role.
func hostMayChange(st *state, m org.Member) error {
	if ri, ok := st.sch.RoleIndex(m.Role); ok && st.sch.Immutable(ri) {
		return fmt.Errorf("%w: %w: %q holds %q, which is never changed or taken (see TransferOwnership)", ErrInvariant, ErrImmutableRole, m.PrincipalID, m.Role)
	}
	return nil
}

// RemoveMember removes member principalID, external ones included, as
// Service.RemoveMember does: its scope memberships, keys and the
// invitations it sent go with it, each audited. The invariants hold: the
// last admin or owner stays, the holder of an immutable role is never
// removed, and where the member is the last holder of a role a scope
// resource must keep (a project's last owner), the removal is refused
// until that role is handed on, as when a member leaves (the host holds no
// role to take it over).
func (h Host) RemoveMember(ctx context.Context, orgID, principalID string) error {
	return h.s.hostUpdateReading(ctx, orgID, h.s.readsMemberChange(principalID), func(ctx context.Context, tx store.Tx, st *state) error {
		target, err := h.s.member(ctx, tx, orgID, principalID)
		if err != nil {
			return err
		}
		if err := hostMayChange(st, target); err != nil {
			return fmt.Errorf("remove %q from %q: %w", principalID, orgID, err)
		}
		return h.s.removeMember(ctx, tx, st, target, AuditMemberRemove, false)
	})
}

// TransferOwnership hands the scheme's owner role (edition.Management.Owner)
// from member from to member to, from stepping down to role stepDownTo, in
// one transaction audited as one change (AuditOwnershipTransfer). It is
// the way UiPath's immutable owner changes hands; see
// Service.TransferOwnership for the rules that hold for every transfer.
func (h Host) TransferOwnership(ctx context.Context, orgID, from, to, stepDownTo string) error {
	return h.s.hostUpdateReading(ctx, orgID, h.s.readsMemberChange(from).and(h.s.readsMemberChange(to)), func(ctx context.Context, tx store.Tx, st *state) error {
		old, err := h.s.member(ctx, tx, orgID, from)
		if err != nil {
			return err
		}
		return h.s.transfer(ctx, tx, st, old, to, stepDownTo, true)
	})
}

// ChangeEdition moves the organization to another edition of its scheme,
// for a billing system: a downgrade is refused as for members (seats in
// use above the new limit, roles or service principals it does not offer).
func (h Host) ChangeEdition(ctx context.Context, orgID, ed string) error {
	return h.s.hostUpdateReading(ctx, orgID, h.s.readsEditionChange, func(ctx context.Context, tx store.Tx, st *state) error {
		return h.s.changeEdition(ctx, tx, st, ed)
	})
}

// SetSeatOverride gives the organization its own seat limit n where its
// edition allows one (0 returns to the edition's limit), as
// Service.SetSeatOverride does.
func (h Host) SetSeatOverride(ctx context.Context, orgID string, n int) error {
	return h.s.hostUpdateReading(ctx, orgID, h.s.readsCounts, func(ctx context.Context, tx store.Tx, st *state) error {
		return h.s.setSeatOverride(ctx, tx, st, n)
	})
}

// RevokeInvitation revokes a pending (or expired) invitation, freeing its
// seat.
func (h Host) RevokeInvitation(ctx context.Context, orgID, id string) error {
	return h.s.hostUpdateReading(ctx, orgID, readsInvitation(id), func(ctx context.Context, tx store.Tx, st *state) error {
		inv, err := invitation(ctx, tx, id)
		if err != nil {
			return err
		}
		return h.s.revokeInvitation(ctx, tx, st, inv)
	})
}

// ArchiveOrganization archives the organization, as
// Service.ArchiveOrganization does.
func (h Host) ArchiveOrganization(ctx context.Context, orgID string) error {
	return h.s.hostUpdate(ctx, orgID, func(ctx context.Context, tx store.Tx, st *state) error {
		return h.s.archive(ctx, tx, st)
	})
}

// DeleteOrganization deletes the organization and everything in it,
// archived or not.
func (h Host) DeleteOrganization(ctx context.Context, orgID string) error {
	if err := org.ValidateID("organization", orgID); err != nil {
		return err
	}
	return h.s.st.Update(ctx, orgID, func(ctx context.Context, tx store.Tx) error {
		if _, err := h.s.loadOrg(ctx, tx, orgID, false); err != nil {
			return err
		}
		return tx.DeleteOrganization(ctx)
	})
}

// Organization returns the organization's record.
func (h Host) Organization(ctx context.Context, orgID string) (org.Organization, error) {
	var out org.Organization
	err := h.s.hostView(ctx, orgID, func(ctx context.Context, r store.Reader, st *state) error {
		out = st.o
		return nil
	})
	return out, err
}

// Member returns member principalID, or an error matching ErrNotMember.
func (h Host) Member(ctx context.Context, orgID, principalID string) (org.Member, error) {
	var out org.Member
	err := h.s.hostViewReading(ctx, orgID, readsMember(principalID), func(ctx context.Context, r store.Reader, st *state) error {
		var err error
		out, err = h.s.member(ctx, r, orgID, principalID)
		return err
	})
	return out, err
}

// Members lists the organization's members, external ones included,
// ordered by principal ID.
func (h Host) Members(ctx context.Context, orgID string, p Page) (MemberPage, error) {
	return h.s.members(ctx, orgID, p, h.s.hostViewReading, nil)
}

// Invitations lists the organization's invitations (only those still
// pending, expired ones included, when pendingOnly), ordered by ID; none
// shows its token or hash.
func (h Host) Invitations(ctx context.Context, orgID string, p Page, pendingOnly bool) (InvitationPage, error) {
	return h.s.invitations(ctx, orgID, p, pendingOnly, h.s.hostViewReading, nil)
}

// Audit returns the organization's audit events that q selects, ordered by
// sequence number.
func (h Host) Audit(ctx context.Context, orgID string, q AuditQuery) ([]org.AuditEvent, error) {
	return h.s.auditPage(ctx, orgID, q, h.s.hostViewReading, nil)
}

// Seats returns the organization's seats: in use, pending and the limit
// with where it comes from.
func (h Host) Seats(ctx context.Context, orgID string) (Seats, error) {
	var out Seats
	err := h.s.hostViewReading(ctx, orgID, h.s.readsCounts, func(ctx context.Context, r store.Reader, st *state) error {
		var err error
		out, err = h.s.seats(ctx, r, st)
		return err
	})
	return out, err
}

// viewFunc is how a read runs: as a member (Service.view with the actor
// bound) or as the host (Service.hostView).
// rs names the reads fn is about to make (see prefetch.go).
type viewFunc func(ctx context.Context, orgID string, rs reads, fn func(ctx context.Context, r store.Reader, st *state) error) error

// asMember binds a member's view.
func (s *Service) asMember(actor string) viewFunc {
	return func(ctx context.Context, orgID string, rs reads, fn func(ctx context.Context, r store.Reader, st *state) error) error {
		return s.viewReading(ctx, orgID, actor, rs, fn)
	}
}
