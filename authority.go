package orgauthz

import (
	"context"
	"errors"
	"fmt"

	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/invite"
	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/policy"
	"github.com/orgauthz/orgauthz/store"
)

// This file holds what keeps stored grants within the authority and the
// eligibility that allowed them (see the policy package's doc, "No grant
// outlives its authority"). Each function runs inside the transaction that
// changes a grant's basis, so the change and its consequences commit, with
// their audit events, or not at all.

// mayStillSend reports, as an error, whether invitation inv could still be
// sent by its inviter: a member who is not external and whose current role,
// in the organization's current edition, may invite as inv.Role. inviter is
// the inviter's membership, or nil if it is no longer a member.
func mayStillSend(sch *edition.Scheme, ed string, inv invite.Invitation, inviter *org.Member) error {
	if inviter == nil {
		return fmt.Errorf("%w: its inviter %q is no longer a member", ErrInvitationRevoked, inv.InvitedBy)
	}
	if d := policy.CanInvite(sch, ed, inviter.Role, inv.Role); !d.Allowed {
		return fmt.Errorf("%w: its inviter %q (now %q) may no longer invite as %q: %w", ErrInvitationRevoked, inv.InvitedBy, inviter.Role, inv.Role, d.Err())
	}
	return nil
}

// inviterOf reads the member who sent inv, or nil if it is gone.
func inviterOf(ctx context.Context, r store.Reader, inv invite.Invitation) (*org.Member, error) {
	m, err := r.Member(ctx, inv.InvitedBy)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	case m.External:
		return nil, nil // an external standing never invites
	}
	return &m, nil
}

// revokeUnsendable revokes the pending invitations that their inviter could
// no longer send: all of them when inviter is "", else those sent by
// inviter. It runs after a removal, a demotion or an edition change, with st
// holding the organization as changed; actor is who made that change, and
// why names it in the audit trail.
func (s *Service) revokeUnsendable(ctx context.Context, tx store.Tx, st *state, actor, inviter, why string) error {
	now := s.now()
	var dead []invite.Invitation
	for inv, err := range tx.Invitations(ctx, "", true) {
		if err != nil {
			return err
		}
		if inv.StatusAt(now) != invite.Pending || inviter != "" && inv.InvitedBy != inviter {
			continue
		}
		m, err := inviterOf(ctx, tx, inv)
		if err != nil {
			return err
		}
		if mayStillSend(st.sch, st.edID, inv, m) != nil {
			dead = append(dead, inv)
		}
	}
	for _, inv := range dead {
		inv.Status, inv.UpdatedAt = invite.Revoked, now
		if err := tx.UpdateInvitation(ctx, inv); err != nil {
			return err
		}
		ev := org.AuditEvent{Actor: actor, Action: AuditInvitationRevoke, Target: inv.Email, RoleBefore: inv.Role,
			Detail: fmt.Sprintf("invitation %s; %s: inviter %q may no longer send it", inv.ID, why, inv.InvitedBy)}
		if err := s.audit(ctx, tx, ev); err != nil {
			return err
		}
	}
	return nil
}

// eligibleAs returns the built-in scope role whose eligibility rule decides
// who may hold scope role r: r itself, or for a custom role the kind's
// default role.
func eligibleAs(sc *edition.Scope, r string) string {
	if _, builtin := sc.Matrix().RoleIndex(r); builtin {
		return r
	}
	return sc.DefaultRole()
}

// eligibility decides whether member m may hold scope role r on a resource
// of kind sc, by its current organization role in edition ed.
func eligibility(sch *edition.Scheme, ed string, sc *edition.Scope, m org.Member, r string) policy.Decision {
	return policy.Eligible(sch, ed, sc.Kind(), m.Role, eligibleAs(sc, r))
}

// reestablishScopes brings member m's explicit scope roles back within its
// eligibility after its organization role or the edition changed (st holds
// the organization as changed, m the member as changed). A role it may no
// longer hold becomes the kind's default role where it is eligible for
// that, and is taken away otherwise; each step is audited. Taking the last
// holder away from a role a resource must keep is refused, naming the
// resource: hand the role on first.
func (s *Service) reestablishScopes(ctx context.Context, tx store.Tx, st *state, actor string, m org.Member, why string) error {
	var all []org.ScopeMember
	for sm, err := range tx.PrincipalScopes(ctx, m.PrincipalID) {
		if err != nil {
			return err
		}
		all = append(all, sm)
	}
	for _, sm := range all {
		sc, err := st.scopeKind(sm.Kind)
		if err != nil {
			return err
		}
		if eligibility(st.sch, st.edID, sc, m, sm.Role).Allowed {
			continue
		}
		if err := keepScopeMinimum(ctx, tx, sc, sm.ScopeID, sm.Role); err != nil {
			return fmt.Errorf("%w: %q would no longer be eligible for %s role %q (hand the role to someone else first)", err, m.PrincipalID, sm.Kind, sm.Role)
		}
		target := sm.Kind + "/" + sm.ScopeID
		detail := fmt.Sprintf("principal %s; %s: no longer eligible for %q", m.PrincipalID, why, sm.Role)
		if def := sc.DefaultRole(); def != sm.Role && eligibility(st.sch, st.edID, sc, m, def).Allowed {
			next := sm
			next.Role = def
			if err := tx.PutScopeMember(ctx, next); err != nil {
				return err
			}
			if err := s.audit(ctx, tx, org.AuditEvent{Actor: actor, Action: AuditScopeMemberRole, Target: target, RoleBefore: sm.Role, RoleAfter: def, Detail: detail}); err != nil {
				return err
			}
			continue
		}
		if err := tx.RemoveScopeMember(ctx, sm.Kind, sm.ScopeID, m.PrincipalID); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, org.AuditEvent{Actor: actor, Action: AuditScopeMemberRemove, Target: target, RoleBefore: sm.Role, Detail: detail}); err != nil {
			return err
		}
	}
	if m.External {
		return s.dropExternalIfUnscoped(ctx, tx, st, actor, m.PrincipalID, why)
	}
	return nil
}

// reestablishAll re-establishes the scope eligibility of every member, and
// revokes the invitations no inviter could send any more, after the
// organization's edition changed.
func (s *Service) reestablishAll(ctx context.Context, tx store.Tx, st *state, actor, why string) error {
	var all []org.Member
	for m, err := range tx.Members(ctx, "") {
		if err != nil {
			return err
		}
		all = append(all, m)
	}
	// The scope memberships of every member, and the inviters of the
	// pending invitations, in one round trip.
	inviters, err := pendingInviters(ctx, tx)
	if err != nil {
		return err
	}
	err = hinted(ctx, tx, func(ctx context.Context, r store.Reader) {
		for _, m := range all {
			first(r.PrincipalScopes(ctx, m.PrincipalID))
		}
		for _, id := range inviters {
			_, _ = r.Member(ctx, id)
		}
	})
	if err != nil {
		return err
	}
	for _, m := range all {
		if err := s.reestablishScopes(ctx, tx, st, actor, m, why); err != nil {
			return err
		}
	}
	return s.revokeUnsendable(ctx, tx, st, actor, "", why)
}

// mayHoldServicePrincipal refuses a service principal where the
// organization's edition does not offer the scheme's service principal
// capability (or the scheme has none): service principals join only where
// they may exist, whichever way they join (created, provisioned, added to a
// scope resource).
func (st *state) mayHoldServicePrincipal(p org.Principal) error {
	if p.Kind != org.ServicePrincipal {
		return nil
	}
	if e, ok := st.sch.Edition(st.edID); ok && offersServicePrincipals(st.sch, e) {
		return nil
	}
	return fmt.Errorf("%w: %w: edition %q of scheme %q offers no service principals, and %q is one", ErrInvariant, ErrEditionGated, st.edID, st.sch.ID(), p.ID)
}

// offersServicePrincipals reports whether edition e of scheme sch offers
// the scheme's service principal capability (false when it has none).
func offersServicePrincipals(sch *edition.Scheme, e *edition.Edition) bool {
	c := sch.KeyCapabilities().ServicePrincipals
	ci, ok := sch.Catalog().Index(c)
	return c != "" && ok && e.OffersCapability(ci)
}
