package orgauthz

import (
	"context"
	"errors"
	"fmt"
	"iter"

	"github.com/orgauthz/orgauthz/edition"
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
	err := s.updateReading(ctx, orgID, actor, readsMember(p.ID).and(s.readsCounts), func(ctx context.Context, tx store.Tx, st *state) error {
		if r == "" {
			var err error
			if r, err = policy.InviteRole(st.sch, st.edID); err != nil {
				return err
			}
		}
		if err := policy.CanAdd(st.sch, st.edID, st.actor.Role, r).Err(); err != nil {
			return fmt.Errorf("add %q to %q: %w", p.ID, orgID, err)
		}
		var err error
		out, err = s.addMember(ctx, tx, st, p, r, "", org.AuditEvent{Actor: actor}, reserved)
		return err
	})
	return out, err
}

// addMember adds p with role r, or turns an external member into a full
// one, within the seat limit (counted by rule) and the invariants, and
// audits it as ev; email is the address it joins with ("" unless by
// invitation).
func (s *Service) addMember(ctx context.Context, tx store.Tx, st *state, p org.Principal, r, email string, ev org.AuditEvent, rule seatRule) (org.Member, error) {
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
	m := org.Member{PrincipalID: p.ID, Kind: p.Kind, Role: r, Email: email, JoinedAt: s.now()}
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
// A bulk operation (st.tally set) reads the counts once and keeps them as
// its changes go, so that each change is checked on the totals of those
// before it without reading them again. The tally counts a change as made
// once it passes: an operation that may run in bulk calls checkChange as
// the last step that can refuse it, after every other check and before
// any write.
func (s *Service) checkChangeBy(ctx context.Context, tx store.Reader, st *state, ch policy.Change, rule seatRule) error {
	if t := st.tally; t != nil && t.rule == rule {
		if err := policy.CheckChange(st.sch, st.edID, st.o.SeatOverride, t.c, ch); err != nil {
			return err
		}
		t.apply(ch)
		return nil
	}
	c, err := s.counts(ctx, tx, rule)
	if err != nil {
		return err
	}
	return policy.CheckChange(st.sch, st.edID, st.o.SeatOverride, c, ch)
}

// ChangeRole gives member principalID the role r. The management rules
// decide whether the actor may (SoterAI: managers never touch owners;
// UiPath: the owner is never re-roled and the owner role never given), and
// the invariants must hold afterwards (at least one admin or owner).
// Giving a member the role it holds changes nothing.
func (s *Service) ChangeRole(ctx context.Context, orgID, actor, principalID, r string) (org.Member, error) {
	var out org.Member
	err := s.updateReading(ctx, orgID, actor, s.readsMemberChange(principalID), func(ctx context.Context, tx store.Tx, st *state) error {
		// Who may not re-role anyone learns nothing of who is a member.
		if err := st.mayAct(edition.ActionChangeRole); err != nil {
			return fmt.Errorf("change role of %q in %q: %w", principalID, orgID, err)
		}
		target, err := s.member(ctx, tx, orgID, principalID)
		if err != nil {
			return err
		}
		if err := policy.CanChangeRole(st.sch, st.edID, st.actor.Role, target.Role, r).Err(); err != nil {
			return fmt.Errorf("change role of %q in %q: %w", principalID, orgID, err)
		}
		out, err = s.changeRole(ctx, tx, st, target, r)
		return err
	})
	return out, err
}

// changeRole gives member target role r within the invariants, by st's
// actor (the host when it has none), and re-establishes what the new role
// no longer allows: scope roles it is no longer eligible for, invitations
// it could no longer send.
func (s *Service) changeRole(ctx context.Context, tx store.Tx, st *state, target org.Member, r string) (org.Member, error) {
	orgID, actor, principalID := st.o.ID, st.actor.PrincipalID, target.PrincipalID
	if target.Role == r {
		return target, nil
	}
	if err := s.checkChange(ctx, tx, st, policy.Change{Lose: target.Role, Gain: r}); err != nil {
		return target, fmt.Errorf("change role of %q in %q to %q: %w", principalID, orgID, r, err)
	}
	out := target
	out.Role = r
	if err := tx.UpdateMember(ctx, out); err != nil {
		return target, err
	}
	if err := s.audit(ctx, tx, org.AuditEvent{Actor: actor, Action: AuditMemberRole, Target: principalID, RoleBefore: target.Role, RoleAfter: r}); err != nil {
		return target, err
	}
	if err := s.settleRole(ctx, tx, st, out, fmt.Sprintf("%s became %s", principalID, r)); err != nil {
		return target, fmt.Errorf("change role of %q in %q to %q: %w", principalID, orgID, r, err)
	}
	return out, nil
}

// settleRole re-establishes, after member m's role changed (why says how),
// what the role no longer allows: its scope roles and the invitations it
// sent.
func (s *Service) settleRole(ctx context.Context, tx store.Tx, st *state, m org.Member, why string) error {
	if err := s.reestablishScopes(ctx, tx, st, st.actor.PrincipalID, m, why); err != nil {
		return err
	}
	return s.revokeUnsendable(ctx, tx, st, st.actor.PrincipalID, m.PrincipalID, why)
}

// member reads the member an operation is about, turning "not found"
// into an error matching both ErrNotMember and ErrNotFound: the member
// asked for does not exist (where the actor itself is no member, the
// error matches ErrNotMember alone).
func (s *Service) member(ctx context.Context, r store.Reader, orgID, principalID string) (org.Member, error) {
	m, err := r.Member(ctx, principalID)
	if errors.Is(err, store.ErrNotFound) {
		return org.Member{}, fmt.Errorf("%w: principal %q is not a member of organization %q (%w)", ErrNotMember, principalID, orgID, ErrNotFound)
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
	return s.updateReading(ctx, orgID, actor, s.readsMemberChange(principalID), func(ctx context.Context, tx store.Tx, st *state) error {
		// Who may not remove anyone learns nothing of who is a member.
		if err := st.mayAct(edition.ActionRemove); err != nil {
			return fmt.Errorf("remove %q from %q: %w", principalID, orgID, err)
		}
		target, err := s.member(ctx, tx, orgID, principalID)
		if err != nil {
			return err
		}
		d := policy.CanRemove(st.sch, st.edID, st.actor.Role, target.Role)
		if target.External {
			d = policy.CanRemoveExternal(st.sch, st.edID, st.actor.Role)
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
	return s.updateReading(ctx, orgID, principalID, s.readsMemberChange(principalID), func(ctx context.Context, tx store.Tx, st *state) error {
		if err := policy.CanLeave(st.sch, st.edID, st.actor.Role).Err(); err != nil {
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
	err := s.viewReading(ctx, orgID, actor, readsMember(principalID), func(ctx context.Context, r store.Reader, st *state) error {
		if err := st.mayList(); err != nil {
			return err
		}
		m, err := s.member(ctx, r, orgID, principalID)
		out = m
		return err
	})
	return out, err
}

// mayAct refuses, before any member is looked up, an actor that may take
// management action a on no one: an external member, or a role lacking
// the action's capability in the edition (a scheme that does not offer a
// refuses with ErrNotOffered).
func (st *state) mayAct(a edition.Action) error {
	if st.actor.External {
		return fmt.Errorf("%w: external principal %q may not manage the organization's members", ErrPermissionDenied, st.actor.PrincipalID)
	}
	ci, ok := st.sch.ActionCapability(a)
	if !ok {
		return fmt.Errorf("%w: %w: scheme %q offers no %s", ErrPermissionDenied, ErrNotOffered, st.sch.ID(), a)
	}
	return st.decide(st.sch.Catalog().Def(ci).ID)
}

func (st *state) mayList() error {
	if st.actor.External {
		return fmt.Errorf("%w: external principal %q may not read the organization's members", ErrPermissionDenied, st.actor.PrincipalID)
	}
	return nil
}

// Page asks for one page of a listing: up to Limit items (0 means 100, at
// most 1000) after the key After ("" for the first page). After is the
// Next of the page before; it is the ID of the last item shown (a
// principal, organization, invitation, key or scope ID), so a cursor that
// is not an ID (ValidateID's printable ASCII, at most 128 bytes) is refused
// with ErrInvalidArgument, and one that names nothing starts just past
// where it would be.
type Page struct {
	After string
	Limit int
}

func (p Page) limit() (int, error) {
	if p.After != "" {
		if err := org.ValidateID("page cursor", p.After); err != nil {
			return 0, fmt.Errorf("%w: %w", ErrInvalidArgument, err)
		}
	}
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
	Members []org.Member `json:"members"`
	Next    string       `json:"next,omitempty"`
}

// Members lists the organization's members, external ones included (their
// Role is the scheme's external role), ordered by principal ID, to an actor
// who is a member (not an external one).
func (s *Service) Members(ctx context.Context, orgID, actor string, p Page) (MemberPage, error) {
	return s.members(ctx, orgID, p, s.asMember(actor), (*state).mayList)
}

// members lists the members through view, once permit (nil for the host)
// allows it.
func (s *Service) members(ctx context.Context, orgID string, p Page, view viewFunc, permit func(*state) error) (MemberPage, error) {
	limit, err := p.limit()
	if err != nil {
		return MemberPage{}, err
	}
	var out MemberPage
	rs := func(ctx context.Context, r store.Reader) { first(r.Members(ctx, p.After)) }
	err = view(ctx, orgID, rs, func(ctx context.Context, r store.Reader, st *state) error {
		if permit != nil {
			if err := permit(st); err != nil {
				return err
			}
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
	out := make([]T, 0, min(limit, 32)) // most pages are small: one allocation

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
