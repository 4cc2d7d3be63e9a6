package orgauthz

import (
	"context"
	"errors"
	"fmt"
	"iter"

	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/policy"
	"github.com/orgauthz/orgauthz/store"
)

// AddMember adds principal p to the organization directly, with role r (""
// means the scheme's default invitation role), where the scheme offers
// direct addition (AI Engine: owners create accounts). The management rules
// decide whether the actor may give r, and the seat limit must allow one
// more member. An external member (one who belongs only to scope
// resources) becomes a full member.
func (s *Service) AddMember(ctx context.Context, orgID, actor string, p org.Principal, r string) (org.Member, error) {
	if err := p.Validate(); err != nil {
		return org.Member{}, err
	}
	var out org.Member
	err := s.update(ctx, orgID, actor, func(ctx context.Context, tx store.Tx, st *state) error {
		if r == "" {
			var err error
			if r, err = policy.InviteRole(st.sch, st.o.Edition); err != nil {
				return err
			}
		}
		if err := policy.CanAdd(st.sch, st.o.Edition, st.actor.Role, r).Err(); err != nil {
			return fmt.Errorf("add %q to %q: %w", p.ID, orgID, err)
		}
		var err error
		out, err = s.addMember(ctx, tx, st, p, r, org.AuditEvent{Actor: actor}, reserved)
		return err
	})
	return out, err
}

// addMember adds p with role r, or turns an external member into a full
// one, within the seat limit (counted by rule) and the invariants, and
// audits it as ev.
func (s *Service) addMember(ctx context.Context, tx store.Tx, st *state, p org.Principal, r string, ev org.AuditEvent, rule seatRule) (org.Member, error) {
	prev, err := tx.Member(ctx, p.ID)
	switch {
	case err == nil && !prev.External:
		return org.Member{}, fmt.Errorf("add %q to %q: %w as %q", p.ID, st.o.ID, ErrAlreadyMember, prev.Role)
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return org.Member{}, err
	}
	external := err == nil
	if err := st.mayHoldServicePrincipal(p); err != nil {
		return org.Member{}, fmt.Errorf("add %q to %q: %w", p.ID, st.o.ID, err)
	}
	ch := policy.Change{Seats: 1, Gain: r}
	if external {
		ch.Lose = prev.Role
	}
	if err := s.checkChangeBy(ctx, tx, st, ch, rule); err != nil {
		return org.Member{}, fmt.Errorf("add %q to %q: %w", p.ID, st.o.ID, err)
	}
	m := org.Member{PrincipalID: p.ID, Kind: p.Kind, Role: r, JoinedAt: s.now()}
	ev.Action, ev.Target, ev.RoleAfter = AuditMemberAdd, p.ID, r
	if external {
		ev.RoleBefore = prev.Role
		err = tx.UpdateMember(ctx, m)
	} else {
		err = tx.AddMember(ctx, m)
	}
	if err != nil {
		return org.Member{}, err
	}
	if err := s.audit(ctx, tx, ev); err != nil {
		return org.Member{}, err
	}
	if external {
		// Its scope roles were given to an external; it now holds them as r.
		if err := s.reestablishScopes(ctx, tx, st, ev.Actor, m, fmt.Sprintf("%s joined as %s", p.ID, r)); err != nil {
			return org.Member{}, fmt.Errorf("add %q to %q: %w", p.ID, st.o.ID, err)
		}
	}
	return m, nil
}

// checkChange applies the invariants to a change of head counts, inside the
// transaction that makes it.
func (s *Service) checkChange(ctx context.Context, tx store.Reader, st *state, ch policy.Change) error {
	return s.checkChangeBy(ctx, tx, st, ch, reserved)
}

// checkChangeBy is checkChange with the seats counted by rule.
func (s *Service) checkChangeBy(ctx context.Context, tx store.Reader, st *state, ch policy.Change, rule seatRule) error {
	c, err := s.counts(ctx, tx, rule)
	if err != nil {
		return err
	}
	return policy.CheckChange(st.sch, st.o.Edition, st.o.SeatOverride, c, ch)
}

// ChangeRole gives member principalID the role r. The management rules
// decide whether the actor may (SoterAI: managers never touch owners;
// UiPath: the owner is never re-roled and the owner role never given), and
// the invariants must hold afterwards (at least one admin or owner).
// Giving a member the role it holds changes nothing.
func (s *Service) ChangeRole(ctx context.Context, orgID, actor, principalID, r string) (org.Member, error) {
	var out org.Member
	err := s.update(ctx, orgID, actor, func(ctx context.Context, tx store.Tx, st *state) error {
		target, err := s.member(ctx, tx, orgID, principalID)
		if err != nil {
			return err
		}
		if err := policy.CanChangeRole(st.sch, st.o.Edition, st.actor.Role, target.Role, r).Err(); err != nil {
			return fmt.Errorf("change role of %q in %q: %w", principalID, orgID, err)
		}
		out = target
		if target.Role == r {
			return nil
		}
		if err := s.checkChange(ctx, tx, st, policy.Change{Lose: target.Role, Gain: r}); err != nil {
			return fmt.Errorf("change role of %q in %q to %q: %w", principalID, orgID, r, err)
		}
		out.Role = r
		if err := tx.UpdateMember(ctx, out); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, org.AuditEvent{Actor: actor, Action: AuditMemberRole, Target: principalID, RoleBefore: target.Role, RoleAfter: r}); err != nil {
			return err
		}
		why := fmt.Sprintf("%s became %s", principalID, r)
		if err := s.reestablishScopes(ctx, tx, st, actor, out, why); err != nil {
			return fmt.Errorf("change role of %q in %q to %q: %w", principalID, orgID, r, err)
		}
		return s.revokeUnsendable(ctx, tx, st, actor, principalID, why)
	})
	return out, err
}

// member reads a member, turning "not found" into ErrNotMember.
func (s *Service) member(ctx context.Context, r store.Reader, orgID, principalID string) (org.Member, error) {
	m, err := r.Member(ctx, principalID)
	if errors.Is(err, store.ErrNotFound) {
		return org.Member{}, fmt.Errorf("%w: principal %q is not a member of organization %q", ErrNotMember, principalID, orgID)
	}
	return m, err
}

// RemoveMember removes member principalID from the organization in one
// transaction: its scope memberships go (each audited), its API keys are
// revoked, and the invitations it sent are revoked; its access ends at once.
// The management rules decide whether the actor may: any member within its
// reach, and any external member (one who belongs only to scope
// resources), whatever the resource roles it holds. The invariants hold
// afterwards: the last admin or owner stays, and where the member is the
// last holder of a role its resource must keep (AI Engine: a project's last
// owner), the actor takes that role over, audited, so that whoever manages
// the organization's members can always offboard. An actor removing itself
// leaves (see Leave).
func (s *Service) RemoveMember(ctx context.Context, orgID, actor, principalID string) error {
	if actor == principalID {
		return s.Leave(ctx, orgID, principalID)
	}
	return s.update(ctx, orgID, actor, func(ctx context.Context, tx store.Tx, st *state) error {
		target, err := s.member(ctx, tx, orgID, principalID)
		if err != nil {
			return err
		}
		d := policy.CanRemove(st.sch, st.o.Edition, st.actor.Role, target.Role)
		if target.External {
			d = policy.CanRemoveExternal(st.sch, st.o.Edition, st.actor.Role)
		}
		if err := d.Err(); err != nil {
			return fmt.Errorf("remove %q from %q: %w", principalID, orgID, err)
		}
		return s.removeMember(ctx, tx, st, target, AuditMemberRemove, true)
	})
}

// Leave removes principalID from the organization of its own accord. Anyone
// may leave, unless that breaks an invariant (the last admin or owner, the
// last owner of a scope resource) or its role is immutable (UiPath's
// owner).
func (s *Service) Leave(ctx context.Context, orgID, principalID string) error {
	return s.update(ctx, orgID, principalID, func(ctx context.Context, tx store.Tx, st *state) error {
		if err := policy.CanLeave(st.sch, st.o.Edition, st.actor.Role).Err(); err != nil {
			return fmt.Errorf("%q leave %q: %w", principalID, orgID, err)
		}
		return s.removeMember(ctx, tx, st, st.actor, AuditMemberLeave, false)
	})
}

// removeMember takes member m out of the organization by st's actor (m
// itself when it leaves): its scope memberships, with the actor taking over
// the roles a resource must keep when takeover is set (a removal by who
// manages members; otherwise such a role must be handed on first); its
// keys; the invitations it sent; then the membership, audited as action.
func (s *Service) removeMember(ctx context.Context, tx store.Tx, st *state, m org.Member, action string, takeover bool) error {
	if err := s.checkChange(ctx, tx, st, policy.Change{Seats: -1, Lose: m.Role}); err != nil {
		return fmt.Errorf("remove %q from %q: %w", m.PrincipalID, st.o.ID, err)
	}
	actor := st.actor.PrincipalID
	if err := s.dropScopeMemberships(ctx, tx, st, m, takeover); err != nil {
		return fmt.Errorf("remove %q from %q: %w", m.PrincipalID, st.o.ID, err)
	}
	if err := s.revokeKeysOf(ctx, tx, actor, m.PrincipalID); err != nil {
		return err
	}
	if err := tx.RemoveMember(ctx, m.PrincipalID); err != nil {
		return err
	}
	if err := s.audit(ctx, tx, org.AuditEvent{Actor: actor, Action: action, Target: m.PrincipalID, RoleBefore: m.Role}); err != nil {
		return err
	}
	return s.revokeUnsendable(ctx, tx, st, actor, m.PrincipalID, m.PrincipalID+" left the organization")
}

// Member returns member principalID to an actor who is a member (not an
// external one).
func (s *Service) Member(ctx context.Context, orgID, actor, principalID string) (org.Member, error) {
	var out org.Member
	err := s.view(ctx, orgID, actor, func(ctx context.Context, r store.Reader, st *state) error {
		if err := st.mayList(); err != nil {
			return err
		}
		m, err := s.member(ctx, r, orgID, principalID)
		out = m
		return err
	})
	return out, err
}

func (st *state) mayList() error {
	if st.actor.External {
		return fmt.Errorf("%w: external principal %q may not read the organization's members", ErrPermissionDenied, st.actor.PrincipalID)
	}
	return nil
}

// Page asks for one page of a listing: up to Limit items (0 means 100, at
// most 1000) after the key After ("" for the first page).
type Page struct {
	After string
	Limit int
}

func (p Page) limit() (int, error) {
	switch {
	case p.Limit == 0:
		return 100, nil
	case p.Limit < 0 || p.Limit > 1000:
		return 0, fmt.Errorf("%w: page limit %d, want 1 to 1000", ErrInvalidArgument, p.Limit)
	}
	return p.Limit, nil
}

// MemberPage is one page of members, ordered by principal ID. Next is the
// After of the following page, or "" when this is the last.
type MemberPage struct {
	Members []org.Member
	Next    string
}

// Members lists the organization's members, external ones included (their
// Role is the scheme's external role), ordered by principal ID, to an actor
// who is a member (not an external one).
func (s *Service) Members(ctx context.Context, orgID, actor string, p Page) (MemberPage, error) {
	limit, err := p.limit()
	if err != nil {
		return MemberPage{}, err
	}
	var out MemberPage
	err = s.view(ctx, orgID, actor, func(ctx context.Context, r store.Reader, st *state) error {
		if err := st.mayList(); err != nil {
			return err
		}
		var err error
		out.Members, out.Next, err = page(r.Members(ctx, p.After), limit, func(m org.Member) string { return m.PrincipalID })
		return err
	})
	return out, err
}

// page collects up to limit items of a listing, and the key to continue
// after ("" when the listing is exhausted).
func page[T any](items iter.Seq2[T, error], limit int, key func(T) string) ([]T, string, error) {
	var out []T
	for item, err := range items {
		if err != nil {
			return nil, "", err
		}
		if len(out) == limit {
			return out, key(out[limit-1]), nil
		}
		out = append(out, item)
	}
	return out, "", nil
}

// Provision adds principal p to the organization with role r on the host's
// own authority, for imports and provisioning (SCIM, migrations): no
// actor's permission is asked, but every invariant holds: the seat limit,
// the edition's roles, the role's maximum, and the immutable and external
// roles are never given. An external member becomes a full member. The
// audit event has no actor and says "provisioned".
func (s *Service) Provision(ctx context.Context, orgID string, p org.Principal, r string) (org.Member, error) {
	if err := p.Validate(); err != nil {
		return org.Member{}, err
	}
	if err := org.ValidateID("organization", orgID); err != nil {
		return org.Member{}, err
	}
	var out org.Member
	err := s.st.Update(ctx, orgID, func(ctx context.Context, tx store.Tx) error {
		o, err := tx.Organization(ctx)
		if err != nil {
			return s.orgErr(orgID, err)
		}
		if o.Archived {
			return fmt.Errorf("%w: organization %q can only be read or deleted", ErrArchived, orgID)
		}
		sch, ok := s.Scheme(o.Scheme)
		if !ok {
			return fmt.Errorf("%w: organization %q uses scheme %q, which this service was not given", ErrUnknownScheme, orgID, o.Scheme)
		}
		ri, ok := sch.RoleIndex(r)
		switch {
		case !ok:
			return fmt.Errorf("%w %q in scheme %q", ErrUnknownRole, r, sch.ID())
		case sch.Immutable(ri):
			return fmt.Errorf("%w: %w: role %q is never given", ErrInvariant, ErrImmutableRole, r)
		case sch.IsExternal(ri):
			return fmt.Errorf("%w: %w: %q is a standing, not a role to give", ErrPermissionDenied, policy.ErrNotAssignable, r)
		}
		out, err = s.addMember(ctx, tx, &state{o: o, sch: sch}, p, r, org.AuditEvent{Detail: "provisioned"}, reserved)
		return err
	})
	return out, err
}
