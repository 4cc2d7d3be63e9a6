package diff

import (
	"slices"
	"strconv"
	"strings"

	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/policy"
	"github.com/orgauthz/orgauthz/role"
)

// Compare returns what changes from scheme old to scheme new. Both must be
// non-nil; Compare panics otherwise. It compares the definitions of both
// schemes by ID, and decides, under each scheme, every question the policy
// package answers over the editions, roles and scope kinds the two have in
// common (see Report).
func Compare(old, new *edition.Scheme) Report {
	if old == nil || new == nil {
		panic("diff: Compare of a nil scheme")
	}
	p := &pair{o: old, n: new}
	for _, e := range new.Editions() {
		if _, ok := old.Edition(e.ID()); ok {
			p.eds = append(p.eds, e.ID())
		}
	}
	for _, r := range new.Roles() {
		if _, ok := old.RoleIndex(r.ID); ok {
			p.roles = append(p.roles, r.ID)
		}
	}
	p.caps, p.bothCaps = unionCaps(old.Catalog(), new.Catalog())
	for _, sc := range new.Scopes() {
		if _, ok := old.Scope(sc.Kind()); ok {
			p.kinds = append(p.kinds, sc.Kind())
		}
	}
	r := Report{
		Old: SchemeRef{ID: old.ID(), Name: old.Name()},
		New: SchemeRef{ID: new.ID(), Name: new.Name()},
	}
	r.Scheme = p.schemeFields()
	r.Roles = p.roleChanges()
	r.Capabilities = p.capabilityChanges()
	r.Editions = p.editionChanges()
	r.Trials = p.trialChanges()
	r.Invariants = p.invariantChanges()
	r.Scopes = p.scopeChanges()
	r.Cells = p.cells()
	r.ScopeCells = p.scopeCells()
	r.Eligibility = p.eligibility()
	r.Management = p.management()
	r.Operations = p.operations()
	r.Escalations = p.escalations(&r)
	return r
}

// pair is the two schemes, and what they have in common, in the new
// scheme's order.
type pair struct {
	o, n     *edition.Scheme
	eds      []string          // edition IDs in both
	roles    []string          // organization role IDs in both
	caps     []role.Capability // capabilities of either: the new scheme's, then those removed
	bothCaps map[role.Capability]bool
	kinds    []string // scope kinds in both
}

// unionCaps returns the capabilities of either catalog, the new one's
// first, and which are in both.
func unionCaps(o, n *role.Catalog) ([]role.Capability, map[role.Capability]bool) {
	var all []role.Capability
	both := map[role.Capability]bool{}
	for _, d := range n.All() {
		all = append(all, d.ID)
		if _, ok := o.Index(d.ID); ok {
			both[d.ID] = true
		}
	}
	for _, d := range o.All() {
		if _, ok := n.Index(d.ID); !ok {
			all = append(all, d.ID)
		}
	}
	return all, both
}

// diffSets returns the members of n not in o (in n's order) and of o not
// in n (in o's order).
func diffSets(o, n []string) (added, removed []string) {
	for _, x := range n {
		if !slices.Contains(o, x) {
			added = append(added, x)
		}
	}
	for _, x := range o {
		if !slices.Contains(n, x) {
			removed = append(removed, x)
		}
	}
	return added, removed
}

// fields collects the fields of one change.
type fields []Field

// value records a changed value; effect is its effect.
func (fs *fields) value(name, o, n string, e Effect) {
	if o != n {
		*fs = append(*fs, Field{Name: name, Old: o, New: n, Effect: e})
	}
}

// set records a changed set, with the effect of effectOf unless e is
// given.
func (fs *fields) set(name string, o, n []string, e ...Effect) {
	added, removed := diffSets(o, n)
	if len(added)+len(removed) == 0 {
		return
	}
	f := Field{Name: name, Added: added, Removed: removed, Effect: effectOf(len(added), len(removed))}
	if len(e) > 0 {
		f.Effect = e[0]
	}
	*fs = append(*fs, f)
}

func itoa(n int) string { return strconv.Itoa(n) }

// max renders a maximum of holders: "" for none.
func maxText(n int) string {
	if n == 0 {
		return ""
	}
	return itoa(n)
}

// grants returns the capabilities role id holds in matrix m, in catalog
// order, keeping only those keep accepts (nil: all).
func grants(m *role.Matrix, id string, keep func(role.Capability) bool) []string {
	i, ok := m.RoleIndex(id)
	if !ok {
		return nil
	}
	var out []string
	for _, c := range m.Catalog().IDs(m.Grants(i)) {
		if keep == nil || keep(c) {
			out = append(out, string(c))
		}
	}
	return out
}

// effective returns the capabilities a holder of role id has in edition ed
// of s (policy.Capabilities), by ID.
func effective(s *edition.Scheme, ed, id string) []string {
	var out []string
	for _, c := range s.Catalog().IDs(policy.Capabilities(s, ed, id)) {
		out = append(out, string(c))
	}
	return out
}

func (p *pair) schemeFields() []Field {
	o, n := p.o, p.n
	var fs fields
	fs.value("id", o.ID(), n.ID(), Neutral)
	fs.value("name", o.Name(), n.Name(), Neutral)
	fs.value("default edition", o.DefaultEdition().ID(), n.DefaultEdition().ID(), Neutral)
	fs.value("creator role", o.CreatorRole(), n.CreatorRole(), Neutral)
	if o.InviteRole() != n.InviteRole() {
		added, removed := diffSets(grants(o.Matrix(), o.InviteRole(), nil), grants(n.Matrix(), n.InviteRole(), nil))
		fs.value("invite role", o.InviteRole(), n.InviteRole(), effectOf(len(added), len(removed)))
	}
	fs.value("external role", o.ExternalRole(), n.ExternalRole(), Neutral)
	oo, _ := o.OwnerRole()
	no, _ := n.OwnerRole()
	ownerEffect := Neutral
	switch {
	case oo == "" && no != "":
		ownerEffect = Relaxes
	case oo != "" && no == "":
		ownerEffect = Restricts
	}
	fs.value("owner role", oo, no, ownerEffect)
	om, nm := o.Management(), n.Management()
	fs.value("management.invite", string(om.Invite), string(nm.Invite), Neutral)
	fs.value("management.add", string(om.Add), string(nm.Add), Neutral)
	fs.value("management.remove", string(om.Remove), string(nm.Remove), Neutral)
	fs.value("management.change_role", string(om.ChangeRole), string(nm.ChangeRole), Neutral)
	rules := func(m edition.Management) map[string]edition.Rule {
		out := map[string]edition.Rule{}
		for _, r := range m.Rules {
			out[r.Actor] = r
		}
		return out
	}
	or, nr := rules(om), rules(nm)
	var actors []string
	for _, r := range n.Roles() {
		actors = append(actors, r.ID)
	}
	for _, r := range o.Roles() {
		if !slices.Contains(actors, r.ID) {
			actors = append(actors, r.ID)
		}
	}
	list := func(ids []string) string {
		if ids == nil {
			return "(rank rule)" // no rule, or no such role
		}
		if len(ids) == 0 {
			return "(nobody)"
		}
		return strings.Join(ids, ", ")
	}
	for _, a := range actors {
		fs.value("management.rule."+a+".manage", list(or[a].Manage), list(nr[a].Manage), Neutral)
		fs.value("management.rule."+a+".assign", list(or[a].Assign), list(nr[a].Assign), Neutral)
	}
	oc, nc := o.OrgCapabilities(), n.OrgCapabilities()
	fs.value("organization.settings", string(oc.Settings), string(nc.Settings), Neutral)
	fs.value("organization.edition", string(oc.Edition), string(nc.Edition), Neutral)
	fs.value("organization.delete", string(oc.Delete), string(nc.Delete), Neutral)
	fs.value("organization.audit", string(oc.Audit), string(nc.Audit), Neutral)
	fs.value("organization.trial", string(oc.Trial), string(nc.Trial), Neutral)
	ok, nk := o.KeyCapabilities(), n.KeyCapabilities()
	fs.value("keys.service_principals", string(ok.ServicePrincipals), string(nk.ServicePrincipals), Neutral)
	fs.value("keys.service_principal_keys", string(ok.ServicePrincipalKeys), string(nk.ServicePrincipalKeys), Neutral)
	fs.value("keys.own", string(ok.Own), string(nk.Own), Neutral)
	fs.value("keys.revoke_others", string(ok.RevokeOthers), string(nk.RevokeOthers), Neutral)
	fs.value("keys.authenticate", string(ok.Authenticate), string(nk.Authenticate), Neutral)
	// A capability made own-only restricts; one no longer own-only relaxes.
	own := func(s *edition.Scheme) []string {
		var out []string
		for i, d := range s.Catalog().All() {
			if s.IsOwn(i) {
				out = append(out, string(d.ID))
			}
		}
		return out
	}
	fs.set("own", own(o), own(n), effectOwn(own(o), own(n)))
	return fs
}

// effectOwn is the effect of the own-only set going from o to n: adding
// a capability restricts it, removing one relaxes it.
func effectOwn(o, n []string) Effect {
	added, removed := diffSets(o, n)
	return effectOf(len(removed), len(added))
}

// offeredIn returns the editions (of those in both schemes, or, with all,
// every edition of s) that offer what offers says.
func (p *pair) offeredIn(s *edition.Scheme, all bool, offers func(*edition.Edition) bool) []string {
	var out []string
	for _, e := range s.Editions() {
		if (all || slices.Contains(p.eds, e.ID())) && offers(e) {
			out = append(out, e.ID())
		}
	}
	return out
}

func (p *pair) roleChanges() []Change {
	var out []Change
	o, n := p.o, p.n
	for _, r := range o.Roles() {
		if _, ok := n.RoleIndex(r.ID); !ok {
			out = append(out, Change{Op: Removed, ID: r.ID})
		}
	}
	both := func(c role.Capability) bool { return p.bothCaps[c] }
	for ni, r := range n.Roles() {
		oi, ok := o.RoleIndex(r.ID)
		var fs fields
		newEds := p.offeredIn(n, !ok, func(e *edition.Edition) bool { return e.OffersRole(ni) })
		if !ok {
			fs.value("name", "", r.Name, Neutral)
			fs.value("rank", "", itoa(r.Rank), Neutral)
			fs.set("capabilities", nil, grants(n.Matrix(), r.ID, nil), Neutral)
			if len(newEds) < len(n.Editions()) {
				fs.set("editions", nil, newEds, Neutral)
			}
			out = append(out, Change{Op: Added, ID: r.ID, Fields: fs})
			continue
		}
		or := o.Matrix().Role(oi)
		fs.value("name", or.Name, r.Name, Neutral)
		fs.value("rank", itoa(or.Rank), itoa(r.Rank), Neutral)
		fs.set("capabilities", grants(o.Matrix(), r.ID, both), grants(n.Matrix(), r.ID, both))
		fs.set("editions", p.offeredIn(o, false, func(e *edition.Edition) bool { return e.OffersRole(oi) }), newEds)
		if len(fs) > 0 {
			out = append(out, Change{Op: Changed, ID: r.ID, Fields: fs})
		}
	}
	return out
}

// holders returns the roles of s holding capability c, in order.
func holders(s *edition.Scheme, c role.Capability) []string {
	var out []string
	for _, r := range s.Roles() {
		if s.Matrix().Holds(r.ID, c) {
			out = append(out, r.ID)
		}
	}
	return out
}

func (p *pair) capabilityChanges() []Change {
	var out []Change
	o, n := p.o, p.n
	for _, d := range o.Catalog().All() {
		if !p.bothCaps[d.ID] {
			out = append(out, Change{Op: Removed, ID: string(d.ID)})
		}
	}
	for ni, d := range n.Catalog().All() {
		var fs fields
		oi, ok := o.Catalog().Index(d.ID)
		newEds := p.offeredIn(n, !ok, func(e *edition.Edition) bool { return e.OffersCapability(ni) })
		if !ok {
			fs.value("label", "", d.Label, Neutral)
			if len(newEds) < len(n.Editions()) {
				fs.set("editions", nil, newEds, Neutral)
			}
			fs.set("held by", nil, holders(n, d.ID), Neutral)
			out = append(out, Change{Op: Added, ID: string(d.ID), Fields: fs})
			continue
		}
		fs.value("label", o.Catalog().Def(oi).Label, d.Label, Neutral)
		fs.set("editions", p.offeredIn(o, false, func(e *edition.Edition) bool { return e.OffersCapability(oi) }), newEds)
		if len(fs) > 0 {
			out = append(out, Change{Op: Changed, ID: string(d.ID), Fields: fs})
		}
	}
	return out
}

// seatEffect is the effect of an edition's seat limit going from o to n.
func seatEffect(o, n edition.SeatLimit) Effect {
	limit := func(l edition.SeatLimit) int {
		if l.Max == 0 {
			return int(^uint(0) >> 1)
		}
		return l.Max
	}
	switch {
	case limit(n) < limit(o) || o.Overridable && !n.Overridable:
		return Restricts
	case limit(n) > limit(o) || !o.Overridable && n.Overridable:
		return Relaxes
	}
	return Neutral
}

func (p *pair) editionChanges() []Change {
	var out []Change
	o, n := p.o, p.n
	for _, e := range o.Editions() {
		if _, ok := n.Edition(e.ID()); !ok {
			out = append(out, Change{Op: Removed, ID: e.ID()})
		}
	}
	for _, e := range n.Editions() {
		var fs fields
		oe, ok := o.Edition(e.ID())
		if !ok {
			fs.value("name", "", e.Name(), Neutral)
			fs.value("seats", "", e.Seats().String(), Neutral)
			var caps, roles []string
			for i, d := range n.Catalog().All() {
				if !e.OffersCapability(i) {
					caps = append(caps, string(d.ID))
				}
			}
			for i, r := range n.Roles() {
				if !e.OffersRole(i) {
					roles = append(roles, r.ID)
				}
			}
			fs.set("capabilities not offered", nil, caps, Neutral)
			fs.set("roles not offered", nil, roles, Neutral)
			out = append(out, Change{Op: Added, ID: e.ID(), Fields: fs})
			continue
		}
		fs.value("name", oe.Name(), e.Name(), Neutral)
		fs.value("seats", oe.Seats().String(), e.Seats().String(), seatEffect(oe.Seats(), e.Seats()))
		if len(fs) > 0 {
			out = append(out, Change{Op: Changed, ID: e.ID(), Fields: fs})
		}
	}
	return out
}

func (p *pair) invariantChanges() []Change {
	invs := func(s *edition.Scheme) map[string]edition.Invariant {
		out := map[string]edition.Invariant{}
		for _, inv := range s.Invariants() {
			out[inv.Role] = inv
		}
		return out
	}
	oi, ni := invs(p.o), invs(p.n)
	var out []Change
	change := func(id string) {
		o, inOld := oi[id]
		n, inNew := ni[id]
		var fs fields
		fs.value("min", itoa(o.Min), itoa(n.Min), effectOf(boolInt(n.Min < o.Min), boolInt(n.Min > o.Min)))
		stricter := n.Max > 0 && (o.Max == 0 || n.Max < o.Max)
		looser := o.Max > 0 && (n.Max == 0 || n.Max > o.Max)
		fs.value("max", maxText(o.Max), maxText(n.Max), effectOf(boolInt(looser), boolInt(stricter)))
		fs.value("immutable", strconv.FormatBool(o.Immutable), strconv.FormatBool(n.Immutable), effectOf(boolInt(o.Immutable), boolInt(n.Immutable)))
		if len(fs) == 0 {
			return
		}
		op := Changed
		switch {
		case !inOld:
			op = Added
		case !inNew:
			op = Removed
		}
		out = append(out, Change{Op: op, ID: id, Fields: fs})
	}
	for _, inv := range p.o.Invariants() {
		if _, ok := ni[inv.Role]; !ok {
			change(inv.Role)
		}
	}
	for _, inv := range p.n.Invariants() {
		change(inv.Role)
	}
	// Invariants come in the order of their roles in the new scheme.
	slices.SortStableFunc(out, func(a, b Change) int { return p.rolePos(a.ID) - p.rolePos(b.ID) })
	return out
}

// rolePos orders organization roles: the new scheme's first, then the
// old scheme's.
func (p *pair) rolePos(id string) int {
	if i, ok := p.n.RoleIndex(id); ok {
		return i
	}
	i, _ := p.o.RoleIndex(id)
	return p.n.Matrix().NumRoles() + i
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (p *pair) cells() []CellChange {
	var out []CellChange
	for _, ed := range p.eds {
		for _, r := range p.roles {
			for _, c := range p.caps {
				o := outcome(policy.Decide(p.o, ed, r, c))
				n := outcome(policy.Decide(p.n, ed, r, c))
				if o == n || !p.bothCaps[c] && o.Allowed == n.Allowed {
					continue
				}
				out = append(out, CellChange{Edition: ed, Role: r, Capability: c, Old: o, New: n, Effect: effect(o, n)})
			}
		}
	}
	return out
}

func (p *pair) management() []ManagementChange {
	var out []ManagementChange
	actions := []edition.Action{edition.ActionInvite, edition.ActionAdd, edition.ActionRemove, edition.ActionChangeRole}
	none := []string{""}
	for _, ed := range p.eds {
		for _, actor := range p.roles {
			for _, a := range actions {
				targets, news := none, none
				if a == edition.ActionRemove || a == edition.ActionChangeRole {
					targets = p.roles
				}
				if a != edition.ActionRemove {
					news = p.roles
				}
				for _, t := range targets {
					for _, nr := range news {
						o := outcome(policy.CanManage(p.o, ed, actor, a, t, nr))
						n := outcome(policy.CanManage(p.n, ed, actor, a, t, nr))
						if o != n {
							out = append(out, ManagementChange{Edition: ed, Actor: actor, Action: a.String(), Target: t, NewRole: nr, Old: o, New: n, Effect: effect(o, n)})
						}
					}
				}
			}
		}
	}
	return out
}

// scopePair is a scope kind in both schemes.
type scopePair struct {
	kind     string
	o, n     *edition.Scope
	roles    []string // scope role IDs in both, in the new order
	caps     []role.Capability
	bothCaps map[role.Capability]bool
}

func (p *pair) scopePairs() []scopePair {
	var out []scopePair
	for _, k := range p.kinds {
		o, _ := p.o.Scope(k)
		n, _ := p.n.Scope(k)
		sp := scopePair{kind: k, o: o, n: n}
		for _, r := range n.Matrix().Roles() {
			if _, ok := o.Matrix().RoleIndex(r.ID); ok {
				sp.roles = append(sp.roles, r.ID)
			}
		}
		sp.caps, sp.bothCaps = unionCaps(o.Matrix().Catalog(), n.Matrix().Catalog())
		out = append(out, sp)
	}
	return out
}

func (p *pair) scopeCells() []ScopeCellChange {
	var out []ScopeCellChange
	for _, sp := range p.scopePairs() {
		for _, r := range sp.roles {
			for _, c := range sp.caps {
				o := outcome(policy.DecideScope(p.o, sp.kind, r, c))
				n := outcome(policy.DecideScope(p.n, sp.kind, r, c))
				if o == n || !sp.bothCaps[c] && o.Allowed == n.Allowed {
					continue
				}
				out = append(out, ScopeCellChange{Scope: sp.kind, Role: r, Capability: c, Old: o, New: n, Effect: effect(o, n)})
			}
		}
	}
	return out
}

func (p *pair) eligibility() []EligibilityChange {
	var out []EligibilityChange
	for _, ed := range p.eds {
		for _, sp := range p.scopePairs() {
			for _, or := range p.roles {
				for _, sr := range sp.roles {
					o := outcome(policy.Eligible(p.o, ed, sp.kind, or, sr))
					n := outcome(policy.Eligible(p.n, ed, sp.kind, or, sr))
					if o != n {
						out = append(out, EligibilityChange{Edition: ed, Scope: sp.kind, OrgRole: or, ScopeRole: sr, Old: o, New: n, Effect: effect(o, n)})
					}
				}
			}
		}
	}
	return out
}

// An operation the scheme governs by a capability of its choosing.
type operation struct {
	name string
	text string                                                       // what it lets one do
	org  func(s *edition.Scheme, ed, r string) Outcome                // an organization operation
	sc   func(s *edition.Scheme, sc *edition.Scope, r string) Outcome // an operation inside a resource
}

// capOutcome decides capability c for role r in edition ed of s; an empty
// c means nobody may.
func capOutcome(s *edition.Scheme, ed, r string, c role.Capability) Outcome {
	if c == "" {
		return Outcome{Reason: policy.ReasonActionNotOffered}
	}
	return outcome(policy.Decide(s, ed, r, c))
}

func orgOp(name, text string, c func(*edition.Scheme) role.Capability) operation {
	return operation{name: name, text: text, org: func(s *edition.Scheme, ed, r string) Outcome { return capOutcome(s, ed, r, c(s)) }}
}

// orgOperations are the operations on the organization, in report order.
var orgOperations = []operation{
	orgOp("organization.settings", "change the organization's settings", func(s *edition.Scheme) role.Capability { return s.OrgCapabilities().Settings }),
	orgOp("organization.edition", "change the organization's edition or seat limit", func(s *edition.Scheme) role.Capability { return s.OrgCapabilities().Edition }),
	{name: "organization.delete", text: "archive or delete the organization", org: func(s *edition.Scheme, ed, r string) Outcome {
		return outcome(policy.CanDeleteOrganization(s, ed, r))
	}},
	orgOp("organization.audit", "read the audit trail", func(s *edition.Scheme) role.Capability { return s.OrgCapabilities().Audit }),
	orgOp("organization.trial", "start, extend or end a trial of an edition", func(s *edition.Scheme) role.Capability { return s.OrgCapabilities().Trial }),
	orgOp("keys.service_principals", "create, rename and delete service principals", func(s *edition.Scheme) role.Capability { return s.KeyCapabilities().ServicePrincipals }),
	orgOp("keys.service_principal_keys", "manage service principals' keys", func(s *edition.Scheme) role.Capability { return s.KeyCapabilities().ServicePrincipalKeys }),
	orgOp("keys.own", "create API keys of its own", func(s *edition.Scheme) role.Capability { return s.KeyCapabilities().Own }),
	orgOp("keys.revoke_others", "list and revoke other members' API keys", func(s *edition.Scheme) role.Capability { return s.KeyCapabilities().RevokeOthers }),
	{name: "members.leave", text: "leave the organization", org: func(s *edition.Scheme, ed, r string) Outcome {
		return outcome(policy.CanLeave(s, ed, r))
	}},
	{name: "members.remove_external", text: "remove an external principal from the organization", org: func(s *edition.Scheme, ed, r string) Outcome {
		return outcome(policy.CanRemoveExternal(s, ed, r))
	}},
	{name: "keys.authenticate", text: "authenticate with its API keys", org: func(s *edition.Scheme, ed, r string) Outcome {
		if c := s.KeyCapabilities().Authenticate; c != "" {
			return outcome(policy.Decide(s, ed, r, c))
		}
		return Outcome{Allowed: true}
	}},
}

// scopeOperations returns the operations of scope kind k: those on the
// organization, then those inside a resource.
func scopeOperations(k string) (org, in []operation) {
	kindOp := func(suffix, text string, c func(*edition.Scope) role.Capability) operation {
		return operation{name: "scope." + k + "." + suffix, text: text, org: func(s *edition.Scheme, ed, r string) Outcome {
			sc, _ := s.Scope(k)
			return capOutcome(s, ed, r, c(sc))
		}}
	}
	inOp := func(suffix, text string, c func(*edition.Scope) role.Capability) operation {
		return operation{name: "scope." + k + "." + suffix, text: text, sc: func(s *edition.Scheme, sc *edition.Scope, r string) Outcome {
			gc := c(sc)
			if gc == "" {
				return Outcome{Reason: policy.ReasonActionNotOffered}
			}
			return outcome(policy.DecideScope(s, k, r, gc))
		}}
	}
	org = []operation{
		kindOp("create", "create a "+k, (*edition.Scope).CreateCapability),
		kindOp("delete", "delete any "+k, (*edition.Scope).DeleteCapability),
		kindOp("manage_members", "manage the members of any "+k, (*edition.Scope).ManageMembersCapability),
		kindOp("view", "see every "+k, (*edition.Scope).ViewCapability),
	}
	in = []operation{
		inOp("delete_in_scope", "delete the "+k, (*edition.Scope).DeleteInScopeCapability),
		inOp("manage_members_in_scope", "manage the "+k+"'s members", (*edition.Scope).ManageMembersInScopeCapability),
		inOp("custom_roles", "define custom "+k+" roles", (*edition.Scope).CustomRolesCapability),
	}
	return org, in
}

// operationText says what operation name lets one do.
func operationText(name string) string {
	for _, op := range orgOperations {
		if op.name == name {
			return op.text
		}
	}
	if k, _, ok := strings.Cut(strings.TrimPrefix(name, "scope."), "."); ok {
		org, in := scopeOperations(k)
		for _, op := range append(org, in...) {
			if op.name == name {
				return op.text
			}
		}
	}
	return name
}

func (p *pair) operations() []OperationChange {
	var out []OperationChange
	ops := slices.Clone(orgOperations)
	var inScope [][]operation
	for _, k := range p.kinds {
		org, in := scopeOperations(k)
		ops = append(ops, org...)
		inScope = append(inScope, in)
	}
	for _, ed := range p.eds {
		for _, r := range p.roles {
			for _, op := range ops {
				o, n := op.org(p.o, ed, r), op.org(p.n, ed, r)
				if o != n {
					out = append(out, OperationChange{Edition: ed, Role: r, Operation: op.name, Old: o, New: n, Effect: effect(o, n)})
				}
			}
		}
	}
	for i, sp := range p.scopePairs() {
		for _, r := range sp.roles {
			for _, op := range inScope[i] {
				o, n := op.sc(p.o, sp.o, r), op.sc(p.n, sp.n, r)
				if o != n {
					out = append(out, OperationChange{Scope: sp.kind, Role: r, Operation: op.name, Old: o, New: n, Effect: effect(o, n)})
				}
			}
		}
	}
	return out
}
