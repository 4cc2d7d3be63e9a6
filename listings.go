package orgauthz

import (
	"context"
	"fmt"

	"github.com/orgauthz/orgauthz/apikey"
	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/role"
	"github.com/orgauthz/orgauthz/store"
)

// seesAll reports whether st's actor sees every resource of kind sc: by an
// organization capability over the kind (its View, Delete or ManageMembers
// capability) or by an implicit role on every resource of it. External
// members never do. Anyone else sees the resources it holds an eligible
// role on.
func (st *state) seesAll(sc *edition.Scope) bool {
	if st.actor.External {
		return false
	}
	for _, c := range [...]role.Capability{sc.ViewCapability(), sc.DeleteCapability(), sc.ManageMembersCapability()} {
		if c != "" && st.actorDecision(c).Allowed {
			return true
		}
	}
	if oi, ok := st.sch.RoleIndex(st.actor.Role); ok {
		if _, ok := sc.ImplicitRole(oi); ok {
			return true
		}
	}
	return false
}

// maySee refuses, unless st's actor sees every resource of the kind or
// holds a role on resource id, with ErrNotMember: alike whether the
// resource exists or not, so that a listing reveals no resource its
// caller may not see.
func (s *Service) maySee(ctx context.Context, r store.Reader, st *state, sc *edition.Scope, id string) error {
	if st.seesAll(sc) {
		return nil
	}
	_, in, err := held(ctx, r, st.sch, st.edID, sc, id, st.actor)
	if err != nil {
		return err
	}
	if !in {
		return fmt.Errorf("%w: principal %q may not see %s %q", ErrNotMember, st.actor.PrincipalID, sc.Kind(), id)
	}
	return nil
}

// ScopePage is one page of scope resources, ordered by ID; Next is the
// After of the following page, or "".
type ScopePage struct {
	Scopes []org.Scope `json:"scopes"`
	Next   string      `json:"next,omitempty"`
}

// Scopes lists the resources of a kind (edition.ScopeProject, ...) that
// the actor may see, ordered by ID. Who sees what is the scheme's: a
// member holding the kind's View, Delete or ManageMembers capability, or
// an implicit role on every resource of the kind (UiPath: users see every
// service, services:view; SoterAI: owners and managers every workspace),
// sees them all; anyone else, external members included, sees the
// resources it holds a role on that it is still eligible for (AI Engine:
// a member's projects). Either way it is one listing of the store, not a
// check per resource.
func (s *Service) Scopes(ctx context.Context, orgID, actor, kind string, p Page) (ScopePage, error) {
	limit, err := p.limit()
	if err != nil {
		return ScopePage{}, err
	}
	var out ScopePage
	err = s.viewReading(ctx, orgID, actor, func(ctx context.Context, r store.Reader) {
		first(r.Scopes(ctx, kind, p.After))
		first(r.MemberScopes(ctx, actor, kind, p.After))
	}, func(ctx context.Context, r store.Reader, st *state) error {
		sc, err := st.scopeKind(kind)
		if err != nil {
			return err
		}
		if st.seesAll(sc) {
			out.Scopes, out.Next, err = page(r.Scopes(ctx, kind, p.After), limit, func(s org.Scope) string { return s.ID })
			return err
		}
		mine, next, err := page(s.eligibleScopes(ctx, r, st, sc, st.actor, p.After), limit, func(m org.ScopeMembership) string { return m.Scope.ID })
		if err != nil {
			return err
		}
		out.Next = next
		out.Scopes = make([]org.Scope, len(mine))
		for i, m := range mine {
			out.Scopes[i] = m.Scope
		}
		return nil
	})
	return out, err
}

// eligibleScopes lists member m's explicit memberships of kind sc that it
// is still eligible for, after the given scope ID.
func (s *Service) eligibleScopes(ctx context.Context, r store.Reader, st *state, sc *edition.Scope, m org.Member, after string) func(yield func(org.ScopeMembership, error) bool) {
	return filter(r.MemberScopes(ctx, m.PrincipalID, sc.Kind(), after), func(sm org.ScopeMembership) bool {
		return eligibility(st.sch, st.edID, sc, m, sm.Member.Role).Allowed
	})
}

// Scope returns scope resource (kind, id) to an actor who may see it (see
// Scopes). A resource it may not see fails with ErrNotMember whether it
// exists or not; one it would see but that does not exist, with
// ErrNotFound.
func (s *Service) Scope(ctx context.Context, orgID, actor, kind, id string) (org.Scope, error) {
	var out org.Scope
	err := s.viewReading(ctx, orgID, actor, func(ctx context.Context, r store.Reader) {
		_, _ = r.Scope(ctx, kind, id)
		_, _ = r.ScopeMember(ctx, kind, id, actor)
	}, func(ctx context.Context, r store.Reader, st *state) error {
		sc, err := st.scopeKind(kind)
		if err != nil {
			return err
		}
		if err := s.maySee(ctx, r, st, sc, id); err != nil {
			return err
		}
		out, err = resource(ctx, r, kind, id)
		return err
	})
	return out, err
}

// ScopeMembershipPage is one page of a principal's scope memberships,
// ordered by scope ID; Next is the After of the following page, or "".
type ScopeMembershipPage struct {
	Memberships []org.ScopeMembership `json:"memberships"`
	Next        string                `json:"next,omitempty"`
}

// ScopeMemberships lists principal principalID's explicit memberships of
// the resources of a kind, each with the resource and its role there,
// ordered by scope ID ("my projects" when principalID is the actor or "").
// Memberships whose role the principal is no longer eligible for grant
// nothing and are left out; roles an organization role gives on every
// resource (implicit ones) are not memberships. Another principal's
// memberships need the right to see every resource of the kind.
func (s *Service) ScopeMemberships(ctx context.Context, orgID, actor, principalID, kind string, p Page) (ScopeMembershipPage, error) {
	limit, err := p.limit()
	if err != nil {
		return ScopeMembershipPage{}, err
	}
	if principalID == "" {
		principalID = actor
	}
	var out ScopeMembershipPage
	err = s.viewReading(ctx, orgID, actor, readsMember(principalID).and(func(ctx context.Context, r store.Reader) {
		first(r.MemberScopes(ctx, principalID, kind, p.After))
	}), func(ctx context.Context, r store.Reader, st *state) error {
		sc, err := st.scopeKind(kind)
		if err != nil {
			return err
		}
		m := st.actor
		if principalID != actor {
			if !st.seesAll(sc) {
				return fmt.Errorf("%w: principal %q may not see every %s, so not those of %q", ErrPermissionDenied, actor, kind, principalID)
			}
			if m, err = s.member(ctx, r, orgID, principalID); err != nil {
				return err
			}
		}
		out.Memberships, out.Next, err = page(s.eligibleScopes(ctx, r, st, sc, m, p.After), limit, func(m org.ScopeMembership) string { return m.Scope.ID })
		return err
	})
	return out, err
}

// AllAPIKeys lists every API key of the organization (members' and
// service principals', revoked and expired ones included), ordered by ID,
// to an actor holding the scheme's capability to revoke others' keys
// (Wherobots: api_keys:revoke_others). A listing never holds a secret or
// a hash.
func (s *Service) AllAPIKeys(ctx context.Context, orgID, actor string, p Page) (KeyPage, error) {
	limit, err := p.limit()
	if err != nil {
		return KeyPage{}, err
	}
	var out KeyPage
	err = s.viewReading(ctx, orgID, actor, func(ctx context.Context, r store.Reader) { first(r.APIKeys(ctx, "", p.After)) }, func(ctx context.Context, r store.Reader, st *state) error {
		if err := st.decide(st.sch.KeyCapabilities().RevokeOthers); err != nil {
			return fmt.Errorf("list every API key of %q: %w", orgID, err)
		}
		keys, next, err := page(r.APIKeys(ctx, "", p.After), limit, func(k apikey.Key) string { return k.ID })
		for i := range keys {
			keys[i].Hash = nil
		}
		out = KeyPage{Keys: keys, Next: next}
		return err
	})
	return out, err
}

// ServicePrincipals lists the organization's service principals, ordered
// by ID, to an actor who is a member (not an external one), as Members
// does for every member.
func (s *Service) ServicePrincipals(ctx context.Context, orgID, actor string, p Page) (MemberPage, error) {
	limit, err := p.limit()
	if err != nil {
		return MemberPage{}, err
	}
	var out MemberPage
	err = s.viewReading(ctx, orgID, actor, func(ctx context.Context, r store.Reader) { first(r.ServicePrincipals(ctx, p.After)) }, func(ctx context.Context, r store.Reader, st *state) error {
		if err := st.mayList(); err != nil {
			return err
		}
		out.Members, out.Next, err = page(r.ServicePrincipals(ctx, p.After), limit, func(m org.Member) string { return m.PrincipalID })
		return err
	})
	return out, err
}

// SeatSource says where an organization's seat limit comes from.
type SeatSource string

// The sources of a seat limit.
const (
	// SeatsFromEdition: the edition's limit (or its being unlimited).
	SeatsFromEdition SeatSource = "edition"
	// SeatsFromOverride: the organization's own limit (SetSeatOverride).
	SeatsFromOverride SeatSource = "override"
)

// Seats is an organization's seat count, what a members screen shows as
// "4 of 5 seats".
//
// JSON: {"members", "pending", "in_use", "limit", "unlimited", "source",
// "edition"}.
type Seats struct {
	// Members counts the members who take a seat (external members do
	// not), and Pending the invitations that hold one (pending, not
	// expired). InUse is their sum, what the limit is compared with.
	Members int `json:"members"`
	Pending int `json:"pending"`
	InUse   int `json:"in_use"`
	// Limit is the seat limit, 0 when Unlimited.
	Limit     int  `json:"limit"`
	Unlimited bool `json:"unlimited"`
	// Source says where Limit comes from, and Edition is the edition.
	Source  SeatSource `json:"source"`
	Edition string     `json:"edition"`
}

// Seats returns the organization's seats in use (members and pending
// invitations) and its limit with where the limit comes from, in one call,
// to an actor who is a member (not an external one).
func (s *Service) Seats(ctx context.Context, orgID, actor string) (Seats, error) {
	var out Seats
	err := s.viewReading(ctx, orgID, actor, s.readsCounts, func(ctx context.Context, r store.Reader, st *state) error {
		if err := st.mayList(); err != nil {
			return err
		}
		var err error
		out, err = s.seats(ctx, r, st)
		return err
	})
	return out, err
}

func (s *Service) seats(ctx context.Context, r store.Reader, st *state) (Seats, error) {
	c, pending, err := s.heads(ctx, r, true)
	if err != nil {
		return Seats{}, err
	}
	sl := st.ed.Seats()
	out := Seats{
		Members: c.Members, Pending: pending, InUse: c.Members + pending,
		Limit: sl.Limit(st.o.SeatOverride), Source: SeatsFromEdition, Edition: st.edID,
	}
	if sl.Overridable && st.o.SeatOverride > 0 {
		out.Source = SeatsFromOverride
	}
	out.Unlimited = out.Limit == 0
	return out, nil
}
