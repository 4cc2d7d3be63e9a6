package orgauthz

import (
	"context"
	"fmt"

	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/policy"
	"github.com/orgauthz/orgauthz/store"
)

// AuditOwnershipTransfer is the audit action of an ownership transfer: its
// Target is the new owner, RoleBefore and RoleAfter the new owner's roles,
// and Detail names the old owner and the role it stepped down to.
const AuditOwnershipTransfer = "organization.owner.transfer"

// TransferOwnership hands the scheme's owner role (edition.Management.Owner:
// the owner of AI Engine and SoterAI) from the actor, who must hold it, to
// member to, the actor stepping down to role stepDownTo, in one
// transaction audited as one change (AuditOwnershipTransfer). The new
// owner must be a full member and a user (not an external member, not a
// service principal); stepDownTo must be a role the edition offers, other
// than the owner role, the external standing and an immutable role; the
// invariants hold afterwards (to's old role may have a minimum). What the
// old owner's new role no longer allows goes at once, as in ChangeRole:
// scope roles it is no longer eligible for, invitations it could no longer
// send, and its keys narrow to the new role.
//
// A scheme without an owner role (Wherobots) refuses with ErrNotOffered.
// An immutable owner (UiPath's) cannot hand over: ErrImmutableRole; the
// host can, with Host.TransferOwnership.
func (s *Service) TransferOwnership(ctx context.Context, orgID, actor, to, stepDownTo string) error {
	return s.updateReading(ctx, orgID, actor, s.readsMemberChange(actor).and(s.readsMemberChange(to)), func(ctx context.Context, tx store.Tx, st *state) error {
		// Who holds no owner role learns nothing of who is a member.
		switch owner, ok := st.sch.OwnerRole(); {
		case !ok:
			return fmt.Errorf("transfer ownership of %q: %w: %w: scheme %q has no owner role to hand over", orgID, ErrPermissionDenied, ErrNotOffered, st.sch.ID())
		case st.actor.Role != owner || st.actor.External:
			return fmt.Errorf("transfer ownership of %q: %w: only the holder of %q hands ownership over, and %q holds %q", orgID, ErrPermissionDenied, owner, actor, st.actor.Role)
		}
		return s.transfer(ctx, tx, st, st.actor, to, stepDownTo, false)
	})
}

// transfer hands ownership from member from to member toID, from stepping
// down to stepDown, by st's actor (the host when byHost).
func (s *Service) transfer(ctx context.Context, tx store.Tx, st *state, from org.Member, toID, stepDown string, byHost bool) error {
	orgID := st.o.ID
	fail := func(err error) error {
		return fmt.Errorf("transfer ownership of %q from %q to %q: %w", orgID, from.PrincipalID, toID, err)
	}
	if toID == from.PrincipalID {
		return fail(fmt.Errorf("%w: the new owner is the owner", ErrInvalidTransfer))
	}
	to, err := s.member(ctx, tx, orgID, toID)
	if err != nil {
		return fail(err)
	}
	switch {
	case to.External:
		return fail(fmt.Errorf("%w: %q is an external member: make it a member first", ErrNotMember, toID))
	case to.Kind != org.User:
		return fail(fmt.Errorf("%w: %q is a %s: only a user can own an organization", ErrPermissionDenied, toID, to.Kind))
	case from.External:
		return fail(fmt.Errorf("%w: %q is an external member", ErrPermissionDenied, from.PrincipalID))
	}
	c, err := s.counts(ctx, tx, reserved)
	if err != nil {
		return err
	}
	if err := policy.CheckTransfer(st.sch, st.edID, c, from.Role, to.Role, stepDown, byHost); err != nil {
		return fail(err)
	}
	owner := from.Role
	newOwner, oldOwner := to, from
	newOwner.Role, oldOwner.Role = owner, stepDown
	if err := tx.UpdateMember(ctx, newOwner); err != nil {
		return err
	}
	if err := tx.UpdateMember(ctx, oldOwner); err != nil {
		return err
	}
	detail := fmt.Sprintf("from %s, who stepped down to %s", from.PrincipalID, stepDown)
	if err := s.audit(ctx, tx, org.AuditEvent{Actor: st.actor.PrincipalID, Action: AuditOwnershipTransfer, Target: toID, RoleBefore: to.Role, RoleAfter: owner, Detail: detail}); err != nil {
		return err
	}
	why := fmt.Sprintf("ownership passed from %s to %s", from.PrincipalID, toID)
	if err := s.settleRole(ctx, tx, st, newOwner, why); err != nil {
		return fail(err)
	}
	if err := s.settleRole(ctx, tx, st, oldOwner, why); err != nil {
		return fail(err)
	}
	return nil
}
