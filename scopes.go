package orgauthz

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/policy"
	"github.com/orgauthz/orgauthz/role"
	"github.com/orgauthz/orgauthz/store"
)

// scopeKind returns the scheme's scope kind.
func (st *state) scopeKind(kind string) (*edition.Scope, error) {
	sc, ok := st.sch.Scope(kind)
	if !ok {
		return nil, fmt.Errorf("%w %q in scheme %q", ErrUnknownScope, kind, st.sch.ID())
	}
	return sc, nil
}

// resource reads a scope resource.
func resource(ctx context.Context, r store.Reader, kind, id string) (org.Scope, error) {
	res, err := r.Scope(ctx, kind, id)
	if errors.Is(err, store.ErrNotFound) {
		return org.Scope{}, fmt.Errorf("%s %q: %w", kind, id, ErrNotFound)
	}
	return res, err
}

// roleCaps resolves a scope role of resource (kind, id), built in or
// custom, to the capabilities it holds (positions in the kind's catalog).
func roleCaps(ctx context.Context, r store.Reader, sc *edition.Scope, id, roleID string) (role.Set, error) {
	m := sc.Matrix()
	if i, ok := m.RoleIndex(roleID); ok {
		return m.Grants(i), nil
	}
	custom, err := r.ScopeRole(ctx, sc.Kind(), id, roleID)
	if errors.Is(err, store.ErrNotFound) {
		return role.Set{}, fmt.Errorf("%w: %s role %q is neither a role of the kind nor a custom role of %s %q", ErrUnknownRole, sc.Kind(), roleID, sc.Kind(), id)
	}
	if err != nil {
		return role.Set{}, err
	}
	return m.Catalog().Set(custom.Capabilities...)
}

// held returns what member m holds on resource (kind, id) in an
// organization of edition ed: the union of its explicit role there, if it is
// still eligible for it, and the role its organization role gives it on
// every resource of the kind; and whether it holds any role there at all.
// An explicit role it is no longer eligible for grants nothing (fail closed:
// changes of role and edition re-establish eligibility, so this guards
// against state written otherwise).
func held(ctx context.Context, r store.Reader, sch *edition.Scheme, ed string, sc *edition.Scope, id string, m org.Member) (role.Set, bool, error) {
	var caps role.Set
	found := false
	sm, err := r.ScopeMember(ctx, sc.Kind(), id, m.PrincipalID)
	switch {
	case err == nil && !eligibility(sch, ed, sc, m, sm.Role).Allowed:
	case err == nil:
		if caps, err = roleCaps(ctx, r, sc, id, sm.Role); err != nil {
			return role.Set{}, false, err
		}
		found = true
	case !errors.Is(err, store.ErrNotFound):
		return role.Set{}, false, err
	}
	if !m.External {
		if oi, ok := sch.RoleIndex(m.Role); ok {
			if ri, ok := sc.ImplicitRole(oi); ok {
				caps = caps.Union(sc.Matrix().Grants(ri))
				found = true
			}
		}
	}
	return caps, found, nil
}

// authority is what an actor may do to a resource's members: everything
// (by an organization capability), or grant and manage only within what it
// holds there itself (by a scope capability).
type authority struct {
	full bool
	held role.Set
}

func (a authority) covers(caps role.Set) bool { return a.full || caps.SubsetOf(a.held) }

func (s *Service) scopeAuthority(ctx context.Context, r store.Reader, st *state, sc *edition.Scope, id string) (authority, error) {
	if c := sc.ManageMembersCapability(); c != "" && st.actorDecision(c).Allowed {
		return authority{full: true}, nil
	}
	caps, _, err := held(ctx, r, st.sch, st.edID, sc, id, st.actor)
	if err != nil {
		return authority{}, err
	}
	if c := sc.ManageMembersInScopeCapability(); c != "" {
		if ci, ok := sc.Matrix().Catalog().Index(c); ok && caps.Has(ci) {
			return authority{held: caps}, nil
		}
	}
	return authority{}, fmt.Errorf("%w: principal %q (role %q) may not manage the members of %s %q", ErrPermissionDenied, st.actor.PrincipalID, st.actor.Role, sc.Kind(), id)
}

// CreateScope creates a scope resource (a project, service, workspace) of
// the given kind; its creator gets the kind's creator role on it. The actor
// needs the kind's create capability (AI Engine: projects:create).
func (s *Service) CreateScope(ctx context.Context, orgID, actor, kind, name string) (org.Scope, error) {
	if err := org.ValidateName(kind, name); err != nil {
		return org.Scope{}, err
	}
	var out org.Scope
	scopeID := s.newID()
	err := s.updateReading(ctx, orgID, actor, func(ctx context.Context, r store.Reader) { _, _ = r.Scope(ctx, kind, scopeID) }, func(ctx context.Context, tx store.Tx, st *state) error {
		sc, err := st.scopeKind(kind)
		if err != nil {
			return err
		}
		if err := st.decide(sc.CreateCapability()); err != nil {
			return fmt.Errorf("create %s in %q: %w", kind, orgID, err)
		}
		if err := policy.Eligible(st.sch, st.edID, kind, st.actor.Role, sc.CreatorRole()).Err(); err != nil {
			return fmt.Errorf("create %s in %q: %w", kind, orgID, err)
		}
		now := s.now()
		out = org.Scope{Kind: kind, ID: scopeID, Name: name, CreatedBy: actor, CreatedAt: now}
		if err := tx.CreateScope(ctx, out); err != nil {
			return err
		}
		if err := tx.PutScopeMember(ctx, org.ScopeMember{Kind: kind, ScopeID: out.ID, PrincipalID: actor, Role: sc.CreatorRole(), AddedAt: now}); err != nil {
			return err
		}
		return s.audit(ctx, tx, org.AuditEvent{Actor: actor, Action: AuditScopeCreate, Target: kind + "/" + out.ID, RoleAfter: sc.CreatorRole(), Detail: fmt.Sprintf("name %q", name)})
	})
	return out, err
}

// DeleteScope deletes a scope resource with its members and custom roles.
// The actor needs the kind's organization delete capability (SoterAI:
// workspaces:delete) or the resource's own (AI Engine: project:delete).
// External principals left in no resource stop being external members.
func (s *Service) DeleteScope(ctx context.Context, orgID, actor, kind, id string) error {
	return s.updateReading(ctx, orgID, actor, readsScope(kind, id, actor), func(ctx context.Context, tx store.Tx, st *state) error {
		sc, err := st.scopeKind(kind)
		if err != nil {
			return err
		}
		if _, err := resource(ctx, tx, kind, id); err != nil {
			return err
		}
		allowed := sc.DeleteCapability() != "" && st.actorDecision(sc.DeleteCapability()).Allowed
		if !allowed && sc.DeleteInScopeCapability() != "" {
			caps, _, err := held(ctx, tx, st.sch, st.edID, sc, id, st.actor)
			if err != nil {
				return err
			}
			ci, _ := sc.Matrix().Catalog().Index(sc.DeleteInScopeCapability())
			allowed = caps.Has(ci)
		}
		if !allowed {
			return fmt.Errorf("%w: principal %q (role %q) may not delete %s %q", ErrPermissionDenied, actor, st.actor.Role, kind, id)
		}
		var left []string
		for m, err := range tx.ScopeMembers(ctx, kind, id, "") {
			if err != nil {
				return err
			}
			left = append(left, m.PrincipalID)
		}
		// Who is left is looked up after the resource goes: in one round trip.
		if err := hinted(ctx, tx, func(ctx context.Context, r store.Reader) {
			for _, p := range left {
				_, _ = r.Member(ctx, p)
			}
		}); err != nil {
			return err
		}
		if err := tx.DeleteScope(ctx, kind, id); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, org.AuditEvent{Actor: actor, Action: AuditScopeDelete, Target: kind + "/" + id}); err != nil {
			return err
		}
		for _, p := range left {
			if err := s.dropExternalIfUnscoped(ctx, tx, st, actor, p, "deleted "+kind+" "+id); err != nil {
				return err
			}
		}
		return nil
	})
}

// AddScopeMember gives principal p role r (built in, or a custom role of
// the resource; "" means the kind's default role) on a scope resource. The
// actor needs the kind's organization capability to manage access (UiPath:
// services:grant_access, which lets administrators grant themselves) or the
// resource's own (AI Engine: project/members:manage), and then may give
// only what it holds there. p must be eligible for r by its organization
// role (AI Engine: project owners hold projects:be_owner); a principal who
// is not a member of the organization can be added only where the kind
// allows external members, and becomes an external member. If p already
// has a role there, it is changed as by ChangeScopeRole.
func (s *Service) AddScopeMember(ctx context.Context, orgID, actor, kind, id string, p org.Principal, r string) (org.ScopeMember, error) {
	if err := p.Validate(); err != nil {
		return org.ScopeMember{}, err
	}
	var out org.ScopeMember
	err := s.updateReading(ctx, orgID, actor, readsScope(kind, id, actor, p.ID).and(readsMember(p.ID)).and(readsScopeRole(kind, id, r)), func(ctx context.Context, tx store.Tx, st *state) error {
		var err error
		out, err = s.putScopeMember(ctx, tx, st, kind, id, p, r, true)
		return err
	})
	return out, err
}

// ChangeScopeRole changes principal principalID's role on a scope resource,
// with the authority AddScopeMember needs; the resource keeps its minimum
// of holders (AI Engine: at least one project owner).
func (s *Service) ChangeScopeRole(ctx context.Context, orgID, actor, kind, id, principalID, r string) (org.ScopeMember, error) {
	var out org.ScopeMember
	err := s.updateReading(ctx, orgID, actor, readsScope(kind, id, actor, principalID).and(readsMember(principalID)).and(readsScopeRole(kind, id, r)), func(ctx context.Context, tx store.Tx, st *state) error {
		m, err := s.member(ctx, tx, orgID, principalID)
		if err != nil {
			return err
		}
		if _, err := tx.ScopeMember(ctx, kind, id, principalID); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("%w: principal %q is not a member of %s %q", ErrNotMember, principalID, kind, id)
			}
			return err
		}
		out, err = s.putScopeMember(ctx, tx, st, kind, id, org.Principal{ID: m.PrincipalID, Kind: m.Kind}, r, false)
		return err
	})
	return out, err
}

func (s *Service) putScopeMember(ctx context.Context, tx store.Tx, st *state, kind, id string, p org.Principal, r string, adding bool) (org.ScopeMember, error) {
	sc, err := st.scopeKind(kind)
	if err != nil {
		return org.ScopeMember{}, err
	}
	if _, err := resource(ctx, tx, kind, id); err != nil {
		return org.ScopeMember{}, err
	}
	if r == "" {
		r = sc.DefaultRole()
	}
	auth, err := s.scopeAuthority(ctx, tx, st, sc, id)
	if err != nil {
		return org.ScopeMember{}, err
	}
	caps, err := roleCaps(ctx, tx, sc, id, r)
	if err != nil {
		return org.ScopeMember{}, err
	}
	if !auth.covers(caps) {
		return org.ScopeMember{}, fmt.Errorf("%w: principal %q may not give %s role %q, which holds capabilities it lacks there", ErrPermissionDenied, st.actor.PrincipalID, kind, r)
	}
	// Who the principal is in the organization decides eligibility.
	target, err := tx.Member(ctx, p.ID)
	newExternal := errors.Is(err, store.ErrNotFound)
	switch {
	case newExternal:
		if !sc.AllowsExternal() {
			return org.ScopeMember{}, fmt.Errorf("%w: principal %q is not a member of organization %q, and %s resources admit members only", ErrNotMember, p.ID, st.o.ID, kind)
		}
		if err := st.mayHoldServicePrincipal(p); err != nil {
			return org.ScopeMember{}, err
		}
		target = org.Member{PrincipalID: p.ID, Kind: p.Kind, Role: st.sch.ExternalRole(), External: true, JoinedAt: s.now()}
	case err != nil:
		return org.ScopeMember{}, err
	}
	eligibleAs := r
	if _, builtin := sc.Matrix().RoleIndex(r); !builtin {
		eligibleAs = sc.DefaultRole() // custom roles follow the default role's rule
	}
	if err := policy.Eligible(st.sch, st.edID, kind, target.Role, eligibleAs).Err(); err != nil {
		return org.ScopeMember{}, fmt.Errorf("give %q %s role %q: %w", p.ID, kind, r, err)
	}
	prev, err := tx.ScopeMember(ctx, kind, id, p.ID)
	existed := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return org.ScopeMember{}, err
	}
	if existed {
		prevCaps, err := roleCaps(ctx, tx, sc, id, prev.Role)
		if err != nil {
			return org.ScopeMember{}, err
		}
		if !auth.covers(prevCaps) {
			return org.ScopeMember{}, fmt.Errorf("%w: principal %q may not change %q's %s role %q, which holds capabilities it lacks there", ErrPermissionDenied, st.actor.PrincipalID, p.ID, kind, prev.Role)
		}
		if prev.Role == r {
			return prev, nil
		}
		if err := keepScopeMinimum(ctx, tx, sc, id, prev.Role); err != nil {
			return org.ScopeMember{}, err
		}
	}
	if newExternal {
		if err := tx.AddMember(ctx, target); err != nil {
			return org.ScopeMember{}, err
		}
		if err := s.audit(ctx, tx, org.AuditEvent{Actor: st.actor.PrincipalID, Action: AuditMemberAdd, Target: p.ID, RoleAfter: target.Role, Detail: "external; added to " + kind + " " + id}); err != nil {
			return org.ScopeMember{}, err
		}
	}
	out := org.ScopeMember{Kind: kind, ScopeID: id, PrincipalID: p.ID, Role: r, AddedAt: s.now()}
	ev := org.AuditEvent{Actor: st.actor.PrincipalID, Action: AuditScopeMemberAdd, Target: kind + "/" + id, RoleAfter: r, Detail: "principal " + p.ID}
	if existed {
		out.AddedAt = prev.AddedAt
		ev.Action, ev.RoleBefore = AuditScopeMemberRole, prev.Role
	}
	if err := tx.PutScopeMember(ctx, out); err != nil {
		return org.ScopeMember{}, err
	}
	return out, s.audit(ctx, tx, ev)
}

// keepScopeMinimum refuses to take a holder away from a built-in scope role
// that must keep a minimum on each resource.
func keepScopeMinimum(ctx context.Context, r store.Reader, sc *edition.Scope, id, roleID string) error {
	ri, ok := sc.Matrix().RoleIndex(roleID)
	if !ok {
		return nil
	}
	min := sc.MinHolders(ri)
	if min == 0 {
		return nil
	}
	n := 0
	for m, err := range r.ScopeMembers(ctx, sc.Kind(), id, "") {
		if err != nil {
			return err
		}
		if m.Role == roleID {
			n++
		}
	}
	if n-1 < min {
		return fmt.Errorf("%w: %w: %s %q must keep at least %d %q, and this would leave %d", ErrInvariant, ErrMinHolders, sc.Kind(), id, min, roleID, n-1)
	}
	return nil
}

// RemoveScopeMember takes principal principalID off a scope resource, with
// the authority AddScopeMember needs; anyone may take itself off. The
// resource keeps its minimum of holders. An external principal left in no
// resource stops being an external member.
func (s *Service) RemoveScopeMember(ctx context.Context, orgID, actor, kind, id, principalID string) error {
	return s.updateReading(ctx, orgID, actor, readsScope(kind, id, actor, principalID).and(readsMember(principalID)), func(ctx context.Context, tx store.Tx, st *state) error {
		sc, err := st.scopeKind(kind)
		if err != nil {
			return err
		}
		prev, err := tx.ScopeMember(ctx, kind, id, principalID)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w: principal %q is not a member of %s %q", ErrNotMember, principalID, kind, id)
		}
		if err != nil {
			return err
		}
		if actor != principalID {
			auth, err := s.scopeAuthority(ctx, tx, st, sc, id)
			if err != nil {
				return err
			}
			caps, err := roleCaps(ctx, tx, sc, id, prev.Role)
			if err != nil {
				return err
			}
			if !auth.covers(caps) {
				return fmt.Errorf("%w: principal %q may not remove %q, whose %s role %q holds capabilities it lacks there", ErrPermissionDenied, actor, principalID, kind, prev.Role)
			}
		}
		if err := keepScopeMinimum(ctx, tx, sc, id, prev.Role); err != nil {
			return err
		}
		if err := tx.RemoveScopeMember(ctx, kind, id, principalID); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, org.AuditEvent{Actor: actor, Action: AuditScopeMemberRemove, Target: kind + "/" + id, RoleBefore: prev.Role, Detail: "principal " + principalID}); err != nil {
			return err
		}
		return s.dropExternalIfUnscoped(ctx, tx, st, actor, principalID, "removed from "+kind+" "+id)
	})
}

// dropScopeMemberships takes member m, leaving the organization, off every
// scope resource, each step audited as done by st's actor. Where m is the
// last holder of a role its resource must keep (AI Engine: a project's last
// owner), the actor takes the role over when takeover is set (a removal by
// someone who manages members: the organization must always be able to
// offboard), provided it is eligible for it; otherwise the removal is
// refused.
func (s *Service) dropScopeMemberships(ctx context.Context, tx store.Tx, st *state, m org.Member, takeover bool) error {
	var all []org.ScopeMember
	for sm, err := range tx.PrincipalScopes(ctx, m.PrincipalID) {
		if err != nil {
			return err
		}
		all = append(all, sm)
	}
	actor := st.actor.PrincipalID
	for _, sm := range all {
		sc, err := st.scopeKind(sm.Kind)
		if err != nil {
			return err
		}
		target := sm.Kind + "/" + sm.ScopeID
		if err := keepScopeMinimum(ctx, tx, sc, sm.ScopeID, sm.Role); err != nil {
			if !takeover {
				return fmt.Errorf("%w (hand the role to someone else first)", err)
			}
			if err := s.takeOver(ctx, tx, st, sc, sm); err != nil {
				return err
			}
		}
		if err := tx.RemoveScopeMember(ctx, sm.Kind, sm.ScopeID, m.PrincipalID); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, org.AuditEvent{Actor: actor, Action: AuditScopeMemberRemove, Target: target, RoleBefore: sm.Role, Detail: "principal " + m.PrincipalID + "; left the organization"}); err != nil {
			return err
		}
	}
	return nil
}

// takeOver gives st's actor scope role sm.Role on sm's resource, which sm's
// principal, leaving, holds as the last holder the resource must keep.
func (s *Service) takeOver(ctx context.Context, tx store.Tx, st *state, sc *edition.Scope, sm org.ScopeMember) error {
	actor := st.actor
	if d := policy.Eligible(st.sch, st.edID, sc.Kind(), actor.Role, eligibleAs(sc, sm.Role)); !d.Allowed {
		return fmt.Errorf("%w: %s %q must keep a %q, and %q, who would take it over from %q, may not hold it: %w", ErrInvariant, sc.Kind(), sm.ScopeID, sm.Role, actor.PrincipalID, sm.PrincipalID, d.Err())
	}
	ev := org.AuditEvent{Actor: actor.PrincipalID, Action: AuditScopeMemberAdd, Target: sm.Kind + "/" + sm.ScopeID, RoleAfter: sm.Role,
		Detail: fmt.Sprintf("principal %s; took over from %s, who left the organization", actor.PrincipalID, sm.PrincipalID)}
	next := org.ScopeMember{Kind: sm.Kind, ScopeID: sm.ScopeID, PrincipalID: actor.PrincipalID, Role: sm.Role, AddedAt: s.now()}
	prev, err := tx.ScopeMember(ctx, sm.Kind, sm.ScopeID, actor.PrincipalID)
	switch {
	case err == nil:
		next.AddedAt = prev.AddedAt
		ev.Action, ev.RoleBefore = AuditScopeMemberRole, prev.Role
	case !errors.Is(err, store.ErrNotFound):
		return err
	}
	if err := tx.PutScopeMember(ctx, next); err != nil {
		return err
	}
	return s.audit(ctx, tx, ev)
}

// dropExternalIfUnscoped removes an external member that belongs to no
// scope resource any more, audited as a removal by actor for the reason
// why.
func (s *Service) dropExternalIfUnscoped(ctx context.Context, tx store.Tx, st *state, actor, principalID, why string) error {
	m, err := tx.Member(ctx, principalID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil || !m.External {
		return err
	}
	for _, err := range tx.PrincipalScopes(ctx, principalID) {
		if err != nil {
			return err
		}
		return nil // still in a resource
	}
	if err := tx.RemoveMember(ctx, principalID); err != nil {
		return err
	}
	return s.audit(ctx, tx, org.AuditEvent{Actor: actor, Action: AuditMemberRemove, Target: principalID, RoleBefore: m.Role, Detail: "external; in no resource after: " + why})
}

// ScopeRoleDef defines a custom scope role.
type ScopeRoleDef struct {
	// ID identifies the role on its resource; it must not be a built-in
	// role of the kind.
	ID string
	// Name is its display name; "" means ID.
	Name string
	// Capabilities are scope capabilities of the kind.
	Capabilities []role.Capability
}

// DefineScopeRole defines (or redefines) a custom role on a scope resource
// (UiPath: custom service roles). The actor must hold the kind's custom-role
// capability there (service/roles:manage), and the role may hold only
// capabilities the actor holds there itself.
func (s *Service) DefineScopeRole(ctx context.Context, orgID, actor, kind, id string, def ScopeRoleDef) (org.ScopeRole, error) {
	if err := role.ValidateID(def.ID); err != nil {
		return org.ScopeRole{}, err
	}
	if def.Name == "" {
		def.Name = def.ID
	}
	if err := org.ValidateName("role", def.Name); err != nil {
		return org.ScopeRole{}, err
	}
	var out org.ScopeRole
	err := s.updateReading(ctx, orgID, actor, readsScope(kind, id, actor).and(readsScopeRole(kind, id, def.ID)), func(ctx context.Context, tx store.Tx, st *state) error {
		sc, err := st.scopeKind(kind)
		if err != nil {
			return err
		}
		if sc.CustomRolesCapability() == "" {
			return fmt.Errorf("%w: %s resources have no custom roles", ErrPermissionDenied, kind)
		}
		if _, builtin := sc.Matrix().RoleIndex(def.ID); builtin {
			return fmt.Errorf("%w: %q is a built-in %s role", ErrExists, def.ID, kind)
		}
		if _, err := resource(ctx, tx, kind, id); err != nil {
			return err
		}
		caps, err := sc.Matrix().Catalog().Set(def.Capabilities...)
		if err != nil {
			return fmt.Errorf("custom %s role %q: %w", kind, def.ID, err)
		}
		mine, _, err := held(ctx, tx, st.sch, st.edID, sc, id, st.actor)
		if err != nil {
			return err
		}
		ci, _ := sc.Matrix().Catalog().Index(sc.CustomRolesCapability())
		if !mine.Has(ci) {
			return fmt.Errorf("%w: principal %q lacks %q on %s %q", ErrPermissionDenied, actor, sc.CustomRolesCapability(), kind, id)
		}
		if extra := caps.Minus(mine); !extra.Empty() {
			return fmt.Errorf("%w: custom role %q would hold %q, which principal %q lacks on %s %q", ErrPermissionDenied, def.ID, sc.Matrix().Catalog().IDs(extra), actor, kind, id)
		}
		if err := s.mayWiden(ctx, tx, st, sc, id, def.ID, caps); err != nil {
			return err
		}
		out = org.ScopeRole{Kind: kind, ScopeID: id, ID: def.ID, Name: def.Name, Capabilities: slices.Clone(def.Capabilities), CreatedBy: actor, CreatedAt: s.now()}
		if err := tx.PutScopeRole(ctx, out); err != nil {
			return err
		}
		return s.audit(ctx, tx, org.AuditEvent{Actor: actor, Action: AuditScopeRoleDefine, Target: kind + "/" + id, RoleAfter: def.ID, Detail: fmt.Sprint(sc.Matrix().Catalog().IDs(caps))})
	})
	return out, err
}

// mayWiden refuses to redefine custom role roleID of resource (sc, id) as
// caps when that adds capabilities to principals who hold it, unless the
// actor could grant them those capabilities itself (by the kind's
// organization capability to manage access, or by managing the resource's
// members while holding every capability of caps there). Narrowing, and
// defining a role nobody holds, need no more than the right to define.
func (s *Service) mayWiden(ctx context.Context, tx store.Tx, st *state, sc *edition.Scope, id, roleID string, caps role.Set) error {
	prev, err := tx.ScopeRole(ctx, sc.Kind(), id, roleID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	old, err := sc.Matrix().Catalog().Set(prev.Capabilities...)
	if err != nil {
		return err
	}
	added := caps.Minus(old)
	if added.Empty() {
		return nil
	}
	holders := 0
	for m, err := range tx.ScopeMembers(ctx, sc.Kind(), id, "") {
		if err != nil {
			return err
		}
		if m.Role == roleID {
			holders++
		}
	}
	if holders == 0 {
		return nil
	}
	auth, err := s.scopeAuthority(ctx, tx, st, sc, id)
	if err == nil && !auth.covers(caps) {
		err = fmt.Errorf("%w: principal %q lacks there what it would grant", ErrPermissionDenied, st.actor.PrincipalID)
	}
	if err != nil {
		return fmt.Errorf("widen custom %s role %q, held by %d principal(s), by %q: %w (only narrowing is allowed without the authority to grant)", sc.Kind(), roleID, holders, sc.Matrix().Catalog().IDs(added), err)
	}
	return nil
}

// ScopeMemberPage is one page of a resource's members, ordered by principal
// ID; Next is the After of the following page, or "".
type ScopeMemberPage struct {
	Members []org.ScopeMember `json:"members"`
	Next    string            `json:"next,omitempty"`
}

// ScopeMembers lists a resource's explicit members to an actor who may see
// the resource (see Scopes): one who sees every resource of the kind, or
// holds a role on this one. Others fail with ErrNotMember, whether the
// resource exists or not.
func (s *Service) ScopeMembers(ctx context.Context, orgID, actor, kind, id string, p Page) (ScopeMemberPage, error) {
	limit, err := p.limit()
	if err != nil {
		return ScopeMemberPage{}, err
	}
	var out ScopeMemberPage
	err = s.viewReading(ctx, orgID, actor, readsScope(kind, id, actor).and(func(ctx context.Context, r store.Reader) { first(r.ScopeMembers(ctx, kind, id, p.After)) }), func(ctx context.Context, r store.Reader, st *state) error {
		sc, err := st.scopeKind(kind)
		if err != nil {
			return err
		}
		if err := s.maySee(ctx, r, st, sc, id); err != nil {
			return err
		}
		if _, err := resource(ctx, r, kind, id); err != nil {
			return err
		}
		out.Members, out.Next, err = page(r.ScopeMembers(ctx, kind, id, p.After), limit, func(m org.ScopeMember) string { return m.PrincipalID })
		return err
	})
	return out, err
}
