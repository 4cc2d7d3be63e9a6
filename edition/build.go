package edition

import (
	"fmt"
	"maps"
	"slices"

	"github.com/orgauthz/orgauthz/internal/strindex"
	"github.com/orgauthz/orgauthz/role"
)

// builder carries what NewScheme has resolved so far, so each check can
// name the scheme and resolve IDs the same way.
type builder struct {
	id string
	m  *role.Matrix
}

func (b *builder) fault(err error, format string, args ...any) error {
	return invalid(b.id, err, format, args...)
}

// role resolves an organization role ID named by what.
func (b *builder) role(what, id string) (int, error) {
	return lookupRole(b, b.m, what, id)
}

// capability resolves an organization capability ID named by what.
func (b *builder) capability(what string, c role.Capability) (int, error) {
	return lookupCap(b, b.m.Catalog(), what, c)
}

func lookupRole(b *builder, m *role.Matrix, what, id string) (int, error) {
	if i, ok := m.RoleIndex(id); ok {
		return i, nil
	}
	if err := role.ValidateID(id); err != nil {
		return 0, b.fault(err, "%s", what)
	}
	return 0, b.fault(role.ErrUnknownRole, "%s names role %q, which is not defined", what, id)
}

func lookupCap(b *builder, cat *role.Catalog, what string, c role.Capability) (int, error) {
	if i, ok := cat.Index(c); ok {
		return i, nil
	}
	if err := c.Validate(); err != nil {
		return 0, b.fault(err, "%s", what)
	}
	return 0, b.fault(role.ErrUnknownCapability, "%s names capability %q, which is not in the catalog", what, c)
}

// NewScheme validates spec and builds the scheme it describes. It refuses a
// scheme that contradicts itself with an error matching ErrInvalidScheme
// that names the fault, among them:
//   - a malformed or duplicate ID (roles, capabilities, editions, scopes);
//   - a display name (of the scheme, a role, an edition, a scope kind or a
//     scope role) or a capability label holding a character
//     role.ForbiddenInName refuses: a control or format character (a
//     bidirectional override, a zero-width space or joiner, ...), a line
//     or paragraph separator, a private-use or invisible character, or a
//     noncharacter; the error also matches role.ErrInvalidName;
//   - an unknown capability or role in a matrix, a gate, an invariant, a
//     management setting or a scope;
//   - a minimum on a role other than the creator role, or above 1, which a
//     new organization (its creator alone) could not satisfy; a creator role
//     that an edition does not offer, or whose maximum is below 1; an
//     immutable role other than the creator role;
//   - a management rule that lets a role act on or grant a role above its
//     own rank, or give the immutable or external role;
//   - a role able to invite, add or re-role that may give a role holding a
//     capability it lacks itself (escalation);
//   - a management, organization or scope-creation capability that no role
//     holds, or an unknown one among them or in Own;
//   - a scope eligibility rule naming an unknown organization role or
//     capability, or one that the creator of a resource could not pass, or
//     that a role able to remove members could not pass for a scope role
//     each resource must keep (it takes that role over from the members it
//     removes);
//   - a service principal, service principal key or revoke-others
//     capability held by the external role;
//   - a trial of an unknown edition (the error also matches
//     ErrUnknownEdition), of an edition already listed (role.ErrDuplicate),
//     whose MaxDuration is not positive or exceeds MaxTrialDuration, or
//     whose From names an unknown edition (ErrUnknownEdition), the trialled
//     edition itself, or an edition twice (role.ErrDuplicate); or one with
//     an empty From in a scheme with no other edition to start from.
func NewScheme(spec Spec) (*Scheme, error) {
	sp := cloneSpec(spec)
	b := &builder{id: sp.ID}
	if err := role.ValidateName("scheme", sp.ID); err != nil {
		return nil, b.fault(err, "scheme ID")
	}
	if sp.Name == "" {
		sp.Name = sp.ID
	}
	if err := role.ValidateDisplayName("name", sp.Name); err != nil {
		return nil, b.fault(err, "scheme name")
	}
	cat, err := role.NewCatalog(sp.Capabilities...)
	if err != nil {
		return nil, b.fault(err, "capabilities")
	}
	m, err := role.NewMatrix(cat, sp.Roles, sp.Matrix)
	if err != nil {
		return nil, b.fault(err, "matrix")
	}
	if m.NumRoles() == 0 {
		return nil, b.fault(nil, "no roles")
	}
	b.m = m
	s := &Scheme{spec: sp, m: m, external: -1}

	if sp.ExternalRole != "" {
		i, err := b.role("ExternalRole", sp.ExternalRole)
		if err != nil {
			return nil, err
		}
		if r := m.Role(i); r.Rank != 0 {
			return nil, b.fault(nil, "external role %q has rank %d; it must be 0, below every assignable role", r.ID, r.Rank)
		}
		s.external = i
	}
	if sp.CreatorRole == "" {
		return nil, b.fault(nil, "CreatorRole is required")
	}
	if s.creator, err = b.role("CreatorRole", sp.CreatorRole); err != nil {
		return nil, err
	}
	if sp.InviteRole == "" {
		return nil, b.fault(nil, "InviteRole is required")
	}
	if s.invite, err = b.role("InviteRole", sp.InviteRole); err != nil {
		return nil, err
	}
	for _, r := range []struct {
		what string
		pos  int
	}{{"CreatorRole", s.creator}, {"InviteRole", s.invite}} {
		if r.pos == s.external {
			return nil, b.fault(nil, "%s is the external role %q, which is never assigned", r.what, sp.ExternalRole)
		}
	}

	if err := s.buildEditions(b); err != nil {
		return nil, err
	}
	if err := s.buildTrials(b); err != nil {
		return nil, err
	}
	if err := s.buildInvariants(b); err != nil {
		return nil, err
	}
	if s.immutable&(1<<uint(s.invite)) != 0 {
		return nil, b.fault(nil, "InviteRole %q is immutable and can never be given", sp.InviteRole)
	}
	if err := s.buildManagement(b); err != nil {
		return nil, err
	}
	if err := s.buildOrgCapabilities(b); err != nil {
		return nil, err
	}
	if len(sp.Scopes) > MaxScopes {
		return nil, b.fault(role.ErrTooMany, "%d scope kinds, at most %d", len(sp.Scopes), MaxScopes)
	}
	s.scopeIdx = make(map[string]int, len(sp.Scopes))
	for _, sc := range sp.Scopes {
		built, err := s.buildScope(b, sc)
		if err != nil {
			return nil, err
		}
		s.scopeIdx[sc.Kind] = len(s.scopes)
		s.scopes = append(s.scopes, built)
	}
	return s, nil
}

func (s *Scheme) buildEditions(b *builder) error {
	sp := &s.spec
	if len(sp.Editions) == 0 {
		return b.fault(nil, "no editions: a scheme needs at least one")
	}
	if len(sp.Editions) > MaxEditions {
		return b.fault(role.ErrTooMany, "%d editions, at most %d", len(sp.Editions), MaxEditions)
	}
	keys := make([]string, len(sp.Editions))
	all := s.m.Catalog().Full()
	var allRoles uint64
	for i := range s.m.NumRoles() {
		allRoles |= 1 << uint(i)
	}
	for i := range sp.Editions {
		e := &sp.Editions[i]
		if err := role.ValidateName("edition", e.ID); err != nil {
			return b.fault(err, "edition ID")
		}
		for _, prev := range keys[:i] {
			if prev == e.ID {
				return b.fault(role.ErrDuplicate, "edition %q is listed twice", e.ID)
			}
		}
		if e.Seats.Max < 0 {
			return b.fault(nil, "edition %q has a negative seat limit %d", e.ID, e.Seats.Max)
		}
		if e.Name == "" {
			e.Name = e.ID
		}
		if err := role.ValidateDisplayName("name", e.Name); err != nil {
			return b.fault(err, "edition %q", e.ID)
		}
		keys[i] = e.ID
		s.editions = append(s.editions, &Edition{id: e.ID, name: e.Name, pos: i, seats: e.Seats, caps: all, roles: allRoles})
	}
	s.edIdx = strindex.New(keys)
	edition := func(what, id string) (*Edition, error) {
		if e, ok := s.Edition(id); ok {
			return e, nil
		}
		return nil, b.fault(ErrUnknownEdition, "%s names edition %q, which is not defined", what, id)
	}
	for _, c := range slices.Sorted(maps.Keys(sp.CapabilityEditions)) {
		eds := sp.CapabilityEditions[c]
		what := fmt.Sprintf("CapabilityEditions[%q]", c)
		ci, err := b.capability(what, c)
		if err != nil {
			return err
		}
		if len(eds) == 0 {
			return b.fault(nil, "%s offers the capability in no edition", what)
		}
		for _, e := range s.editions {
			e.caps = e.caps.Without(ci)
		}
		for _, id := range eds {
			e, err := edition(what, id)
			if err != nil {
				return err
			}
			e.caps = e.caps.With(ci)
		}
	}
	for _, r := range slices.Sorted(maps.Keys(sp.RoleEditions)) {
		eds := sp.RoleEditions[r]
		what := fmt.Sprintf("RoleEditions[%q]", r)
		ri, err := b.role(what, r)
		if err != nil {
			return err
		}
		if len(eds) == 0 {
			return b.fault(nil, "%s offers the role in no edition", what)
		}
		for _, e := range s.editions {
			e.roles &^= 1 << uint(ri)
		}
		for _, id := range eds {
			e, err := edition(what, id)
			if err != nil {
				return err
			}
			e.roles |= 1 << uint(ri)
		}
	}
	for _, e := range s.editions {
		if !e.OffersRole(s.creator) {
			return b.fault(nil, "edition %q does not offer the creator role %q, so no organization could be created in it", e.id, sp.CreatorRole)
		}
	}
	if sp.DefaultEdition != "" {
		e, err := edition("DefaultEdition", sp.DefaultEdition)
		if err != nil {
			return err
		}
		s.defEdition = e.pos
	}
	return nil
}

func (s *Scheme) buildTrials(b *builder) error {
	seen := make(map[string]bool, len(s.spec.Trials))
	for _, t := range s.spec.Trials {
		if _, ok := s.Edition(t.Edition); !ok {
			return b.fault(ErrUnknownEdition, "Trials names edition %q, which is not defined", t.Edition)
		}
		if seen[t.Edition] {
			return b.fault(role.ErrDuplicate, "two trials of edition %q: merge them", t.Edition)
		}
		seen[t.Edition] = true
		what := fmt.Sprintf("trial of edition %q", t.Edition)
		switch {
		case t.MaxDuration <= 0:
			return b.fault(nil, "%s: MaxDuration %v is not positive", what, t.MaxDuration)
		case t.MaxDuration > MaxTrialDuration:
			return b.fault(nil, "%s: MaxDuration %v exceeds the most a trial may last, %v (366 days)", what, t.MaxDuration, MaxTrialDuration)
		case len(t.From) == 0 && len(s.editions) < 2:
			return b.fault(nil, "%s: no other edition to start from", what)
		}
		for i, id := range t.From {
			if _, ok := s.Edition(id); !ok {
				return b.fault(ErrUnknownEdition, "%s: From names edition %q, which is not defined", what, id)
			}
			if id == t.Edition {
				return b.fault(nil, "%s: From lists the trialled edition itself", what)
			}
			if slices.Contains(t.From[:i], id) {
				return b.fault(role.ErrDuplicate, "%s: From lists edition %q twice", what, id)
			}
		}
	}
	return nil
}

func (s *Scheme) buildInvariants(b *builder) error {
	n := s.m.NumRoles()
	s.min, s.max = make([]int, n), make([]int, n)
	seen := make(map[int]bool)
	for _, inv := range s.spec.Invariants {
		what := fmt.Sprintf("invariant on role %q", inv.Role)
		ri, err := b.role(what, inv.Role)
		if err != nil {
			return err
		}
		switch {
		case seen[ri]:
			return b.fault(role.ErrDuplicate, "two invariants on role %q: merge them", inv.Role)
		case ri == s.external:
			return b.fault(nil, "%s: the external role is a standing, not a held role", what)
		case inv.Min < 0 || inv.Max < 0:
			return b.fault(nil, "%s: negative Min or Max", what)
		case inv.Max > 0 && inv.Min > inv.Max:
			return b.fault(nil, "%s: Min %d exceeds Max %d", what, inv.Min, inv.Max)
		case inv.Min > 0 && ri != s.creator:
			return b.fault(nil, "%s: a minimum of %d holders, but the creator gets %q: a new organization (its creator alone) could not satisfy it", what, inv.Min, s.spec.CreatorRole)
		case inv.Min > 1:
			return b.fault(nil, "%s: a minimum of %d holders, but a new organization has one member", what, inv.Min)
		case inv.Immutable && ri != s.creator:
			return b.fault(nil, "%s: immutable, but only the creator role %q can be immutable (nobody could ever get it)", what, s.spec.CreatorRole)
		}
		seen[ri] = true
		s.min[ri], s.max[ri] = inv.Min, inv.Max
		if inv.Immutable {
			s.immutable |= 1 << uint(ri)
		}
	}
	return nil
}

func (s *Scheme) buildManagement(b *builder) error {
	mg := s.spec.Management
	caps := [numActions]role.Capability{ActionInvite: mg.Invite, ActionAdd: mg.Add, ActionRemove: mg.Remove, ActionChangeRole: mg.ChangeRole}
	for a := ActionInvite; a < numActions; a++ {
		s.actionCap[a] = -1
		if caps[a] == "" {
			continue
		}
		what := fmt.Sprintf("Management capability for %s", a)
		ci, err := b.capability(what, caps[a])
		if err != nil {
			return err
		}
		if !s.heldByAnyRole(ci) {
			return b.fault(nil, "%s is %q, which no role holds: nobody could ever %s", what, caps[a], a)
		}
		s.actionCap[a] = ci
	}
	n := s.m.NumRoles()
	s.manage, s.assign, s.exceeds = make([]uint64, n), make([]uint64, n), make([]uint64, n)
	for a := range n {
		for r := range n {
			if !s.m.Grants(r).SubsetOf(s.m.Grants(a)) {
				s.exceeds[a] |= 1 << uint(r)
			}
		}
		if a == s.external {
			continue
		}
		for r := range n {
			if r == s.external || s.m.Role(r).Rank > s.m.Role(a).Rank {
				continue
			}
			s.manage[a] |= 1 << uint(r)
			if !s.Immutable(r) {
				s.assign[a] |= 1 << uint(r)
			}
		}
	}
	s.owner = -1
	if mg.Owner != "" {
		o, err := b.role("Management.Owner", mg.Owner)
		if err != nil {
			return err
		}
		if o == s.external {
			return b.fault(nil, "Management.Owner is the external role %q, which is never held by a member", mg.Owner)
		}
		for r := range n {
			if s.m.Role(r).Rank > s.m.Role(o).Rank {
				return b.fault(nil, "Management.Owner is %q (rank %d), but role %q outranks it (%d): the owner role must be of the highest rank", mg.Owner, s.m.Role(o).Rank, s.m.Role(r).ID, s.m.Role(r).Rank)
			}
		}
		s.owner = o
	}
	seen := make(map[int]bool)
	for _, rule := range mg.Rules {
		what := fmt.Sprintf("management rule for role %q", rule.Actor)
		a, err := b.role(what, rule.Actor)
		if err != nil {
			return err
		}
		if seen[a] {
			return b.fault(role.ErrDuplicate, "two management rules for role %q: merge them", rule.Actor)
		}
		if a == s.external {
			return b.fault(nil, "%s: the external role never manages members", what)
		}
		seen[a] = true
		actor := s.m.Role(a)
		mask := func(ids []string, verb string, isAssign bool) (uint64, error) {
			var out uint64
			for _, id := range ids {
				r, err := b.role(what, id)
				if err != nil {
					return 0, err
				}
				target := s.m.Role(r)
				switch {
				case r == s.external:
					return 0, b.fault(nil, "%s lets it %s the external role %q, which is never assigned", what, verb, id)
				case target.Rank > actor.Rank:
					return 0, b.fault(nil, "%s lets role %q (rank %d) %s role %q, above its own rank (%d)", what, actor.ID, actor.Rank, verb, id, target.Rank)
				case isAssign && s.Immutable(r):
					return 0, b.fault(nil, "%s lets it %s the immutable role %q", what, verb, id)
				}
				out |= 1 << uint(r)
			}
			return out, nil
		}
		if rule.Manage != nil {
			if s.manage[a], err = mask(rule.Manage, "act on", false); err != nil {
				return err
			}
		}
		if rule.Assign != nil {
			if s.assign[a], err = mask(rule.Assign, "grant", true); err != nil {
				return err
			}
		}
	}
	// Escalation: whoever may give roles must hold everything they give.
	for a := range n {
		if !s.holdsAnyAction(a, ActionInvite, ActionAdd, ActionChangeRole) {
			continue
		}
		for r := range n {
			if !s.MayAssign(a, r) {
				continue
			}
			extra := s.m.Grants(r).Minus(s.m.Grants(a))
			for ci := range extra.All() {
				return b.fault(nil, "role %q may give role %q, which holds %q that %q lacks: add a management rule narrowing what %q may assign",
					s.m.Role(a).ID, s.m.Role(r).ID, s.m.Catalog().Def(ci).ID, s.m.Role(a).ID, s.m.Role(a).ID)
			}
		}
	}
	return nil
}

func (s *Scheme) buildOrgCapabilities(b *builder) error {
	oc := s.spec.Organization
	for _, x := range []struct {
		what string
		c    role.Capability
	}{{"Organization.Settings", oc.Settings}, {"Organization.Edition", oc.Edition}, {"Organization.Delete", oc.Delete}, {"Organization.Audit", oc.Audit}, {"Organization.Trial", oc.Trial}} {
		if x.c == "" {
			continue
		}
		ci, err := b.capability(x.what, x.c)
		if err != nil {
			return err
		}
		if !s.heldByAnyRole(ci) {
			return b.fault(nil, "%s is %q, which no role holds", x.what, x.c)
		}
	}
	kc := s.spec.Keys
	for _, x := range []struct {
		what string
		c    role.Capability
	}{{"Keys.ServicePrincipals", kc.ServicePrincipals}, {"Keys.ServicePrincipalKeys", kc.ServicePrincipalKeys}, {"Keys.Own", kc.Own}, {"Keys.RevokeOthers", kc.RevokeOthers}, {"Keys.Authenticate", kc.Authenticate}} {
		if x.c == "" {
			continue
		}
		ci, err := b.capability(x.what, x.c)
		if err != nil {
			return err
		}
		if !s.heldByAnyRole(ci) {
			return b.fault(nil, "%s is %q, which no role holds", x.what, x.c)
		}
		governsOthers := x.c == kc.ServicePrincipals || x.c == kc.ServicePrincipalKeys || x.c == kc.RevokeOthers
		if governsOthers && s.external >= 0 && s.m.Grants(s.external).Has(ci) {
			return b.fault(nil, "%s is %q, which the external role %q holds: the external standing never acts on the organization's principals or their keys", x.what, x.c, s.m.Role(s.external).ID)
		}
	}
	for _, c := range s.spec.Own {
		ci, err := b.capability("Own", c)
		if err != nil {
			return err
		}
		s.own = s.own.With(ci)
	}
	return nil
}

func (s *Scheme) heldByAnyRole(ci int) bool {
	for r := range s.m.NumRoles() {
		if r != s.external && s.m.Grants(r).Has(ci) {
			return true
		}
	}
	return false
}

func (s *Scheme) holdsAnyAction(r int, actions ...Action) bool {
	for _, a := range actions {
		if ci, ok := s.ActionCapability(a); ok && s.m.Grants(r).Has(ci) {
			return true
		}
	}
	return false
}

func (s *Scheme) buildScope(b *builder, sp ScopeSpec) (*Scope, error) {
	if err := role.ValidateName("scope kind", sp.Kind); err != nil {
		return nil, b.fault(err, "scope kind")
	}
	if _, dup := s.scopeIdx[sp.Kind]; dup {
		return nil, b.fault(role.ErrDuplicate, "scope kind %q is listed twice", sp.Kind)
	}
	where := fmt.Sprintf("scope %q", sp.Kind)
	if sp.Name == "" {
		sp.Name = sp.Kind
		s.spec.Scopes[len(s.scopes)].Name = sp.Kind
	}
	if err := role.ValidateDisplayName("name", sp.Name); err != nil {
		return nil, b.fault(err, "%s", where)
	}
	cat, err := role.NewCatalog(sp.Capabilities...)
	if err != nil {
		return nil, b.fault(err, "%s capabilities", where)
	}
	m, err := role.NewMatrix(cat, sp.Roles, sp.Matrix)
	if err != nil {
		return nil, b.fault(err, "%s matrix", where)
	}
	if m.NumRoles() == 0 {
		return nil, b.fault(nil, "%s has no roles", where)
	}
	sc := &Scope{spec: sp, m: m}
	scopeRole := func(what, id string) (int, error) {
		return lookupRole(b, m, where+" "+what, id)
	}
	scopeCap := func(what string, c role.Capability) error {
		if c == "" {
			return nil
		}
		_, err := lookupCap(b, cat, where+" "+what, c)
		return err
	}
	orgCap := func(what string, c role.Capability) (int, error) {
		if c == "" {
			return -1, nil
		}
		return b.capability(where+" "+what, c)
	}
	if sp.CreatorRole == "" {
		return nil, b.fault(nil, "%s: CreatorRole is required", where)
	}
	if sc.creator, err = scopeRole("CreatorRole", sp.CreatorRole); err != nil {
		return nil, err
	}
	sc.def = sc.creator
	if sp.DefaultRole != "" {
		if sc.def, err = scopeRole("DefaultRole", sp.DefaultRole); err != nil {
			return nil, err
		}
	}
	sc.min = make([]int, m.NumRoles())
	for _, id := range slices.Sorted(maps.Keys(sp.MinHolders)) {
		min := sp.MinHolders[id]
		r, err := scopeRole("MinHolders", id)
		if err != nil {
			return nil, err
		}
		switch {
		case min < 0:
			return nil, b.fault(nil, "%s: negative minimum for role %q", where, id)
		case min > 0 && r != sc.creator:
			return nil, b.fault(nil, "%s: a minimum on role %q, but the creator of a resource gets %q: a new resource could not satisfy it", where, id, sp.CreatorRole)
		case min > 1:
			return nil, b.fault(nil, "%s: a minimum of %d holders of %q, but a new resource has one member", where, min, id)
		}
		sc.min[r] = min
	}
	if sp.Create == "" {
		return nil, b.fault(nil, "%s: Create capability is required", where)
	}
	create, err := orgCap("Create", sp.Create)
	if err != nil {
		return nil, err
	}
	if !s.heldByAnyRole(create) {
		return nil, b.fault(nil, "%s: Create is %q, which no role holds", where, sp.Create)
	}
	type named struct {
		what string
		c    role.Capability
	}
	for _, x := range []named{{"Delete", sp.Delete}, {"ManageMembers", sp.ManageMembers}, {"View", sp.View}} {
		if _, err := orgCap(x.what, x.c); err != nil {
			return nil, err
		}
	}
	for _, x := range []named{{"DeleteInScope", sp.DeleteInScope}, {"ManageMembersInScope", sp.ManageMembersInScope}, {"CustomRoles", sp.CustomRoles}} {
		if err := scopeCap(x.what, x.c); err != nil {
			return nil, err
		}
	}
	if sp.AllowExternal && s.external < 0 {
		return nil, b.fault(nil, "%s allows external members, but the scheme has no ExternalRole", where)
	}
	n := m.NumRoles()
	sc.eligCap = make([]int, n)
	sc.eligRoles = make([]uint64, n)
	for i := range n {
		sc.eligCap[i] = -1
		sc.eligRoles[i] = ^uint64(0)
	}
	seen := make(map[int]bool)
	for _, e := range sp.Eligibility {
		what := fmt.Sprintf("eligibility rule for scope role %q", e.ScopeRole)
		r, err := scopeRole(what, e.ScopeRole)
		if err != nil {
			return nil, err
		}
		if seen[r] {
			return nil, b.fault(role.ErrDuplicate, "%s: two eligibility rules for scope role %q", where, e.ScopeRole)
		}
		seen[r] = true
		if sc.eligCap[r], err = orgCap(what, e.OrgCapability); err != nil {
			return nil, err
		}
		if e.OrgRoles != nil {
			sc.eligRoles[r] = 0
			for _, id := range e.OrgRoles {
				or, err := b.role(where+" "+what, id)
				if err != nil {
					return nil, err
				}
				sc.eligRoles[r] |= 1 << uint(or)
			}
		}
	}
	sc.implicit = make([]int, s.m.NumRoles())
	for i := range sc.implicit {
		sc.implicit[i] = -1
	}
	for _, orgID := range slices.Sorted(maps.Keys(sp.Implicit)) {
		scopeID := sp.Implicit[orgID]
		what := fmt.Sprintf("implicit role for organization role %q", orgID)
		or, err := b.role(where+" "+what, orgID)
		if err != nil {
			return nil, err
		}
		if or == s.external {
			return nil, b.fault(nil, "%s %s: the external role reaches only the resources it is added to", where, what)
		}
		if sc.implicit[or], err = scopeRole(what, scopeID); err != nil {
			return nil, err
		}
	}
	// Whoever may create a resource must be able to hold its creator role.
	for r := range s.m.NumRoles() {
		if r == s.external || !s.m.Grants(r).Has(create) {
			continue
		}
		if !sc.eligible(s, sc.creator, r) {
			return nil, b.fault(nil, "%s: organization role %q may create one but is not eligible for its creator role %q", where, s.m.Role(r).ID, sp.CreatorRole)
		}
	}
	// Whoever may remove members must be able to take over a role that a
	// resource must keep, when it removes the role's last holder: otherwise
	// a resource could lock its organization out of offboarding.
	if remove, ok := s.ActionCapability(ActionRemove); ok {
		for ri, min := range sc.min {
			if min == 0 {
				continue
			}
			for r := range s.m.NumRoles() {
				if r != s.external && s.m.Grants(r).Has(remove) && !sc.eligible(s, ri, r) {
					return nil, b.fault(nil, "%s: organization role %q may remove members but is not eligible for scope role %q, which each resource must keep: it could not take the role over from a member it removes", where, s.m.Role(r).ID, sc.m.Role(ri).ID)
				}
			}
		}
	}
	return sc, nil
}

// eligible reports whether the organization role at position orgRole may
// hold the scope role at position r, by the eligibility rules alone.
func (sc *Scope) eligible(s *Scheme, r, orgRole int) bool {
	if !sc.EligibleRole(r, orgRole) {
		return false
	}
	if c, ok := sc.EligibleCapability(r); ok {
		return s.m.Grants(orgRole).Has(c)
	}
	return true
}
