package diff

import (
	"slices"
	"strconv"
	"strings"

	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/policy"
	"github.com/orgauthz/orgauthz/role"
)

func (p *pair) scopeChanges() []ScopeChange {
	var out []ScopeChange
	for _, sc := range p.o.Scopes() {
		if _, ok := p.n.Scope(sc.Kind()); !ok {
			out = append(out, ScopeChange{Op: Removed, Kind: sc.Kind()})
		}
	}
	for _, n := range p.n.Scopes() {
		o, ok := p.o.Scope(n.Kind())
		if !ok {
			var fs fields
			fs.value("name", "", n.Name(), Neutral)
			fs.value("creator role", "", n.CreatorRole(), Neutral)
			fs.value("default role", "", n.DefaultRole(), Neutral)
			fs.value("create", "", string(n.CreateCapability()), Neutral)
			out = append(out, ScopeChange{Op: Added, Kind: n.Kind(), Fields: fs, Roles: scopeRoleChanges(nil, n, nil), Capabilities: scopeCapChanges(nil, n)})
			continue
		}
		_, both := unionCaps(o.Matrix().Catalog(), n.Matrix().Catalog())
		ch := ScopeChange{Op: Changed, Kind: n.Kind(), Fields: p.scopeFields(o, n), Roles: scopeRoleChanges(o, n, both), Capabilities: scopeCapChanges(o, n)}
		if len(ch.Fields)+len(ch.Roles)+len(ch.Capabilities) > 0 {
			out = append(out, ch)
		}
	}
	return out
}

// capsEffect is the effect of trading the capabilities o for n.
func capsEffect(o, n []string) Effect {
	added, removed := diffSets(o, n)
	return effectOf(len(added), len(removed))
}

func (p *pair) scopeFields(o, n *edition.Scope) []Field {
	var fs fields
	fs.value("name", o.Name(), n.Name(), Neutral)
	fs.value("creator role", o.CreatorRole(), n.CreatorRole(), Neutral)
	fs.value("default role", o.DefaultRole(), n.DefaultRole(),
		capsEffect(grants(o.Matrix(), o.DefaultRole(), nil), grants(n.Matrix(), n.DefaultRole(), nil)))
	for _, x := range []struct {
		name string
		c    func(*edition.Scope) role.Capability
	}{
		{"create", (*edition.Scope).CreateCapability},
		{"delete", (*edition.Scope).DeleteCapability},
		{"delete_in_scope", (*edition.Scope).DeleteInScopeCapability},
		{"manage_members", (*edition.Scope).ManageMembersCapability},
		{"manage_members_in_scope", (*edition.Scope).ManageMembersInScopeCapability},
		{"view", (*edition.Scope).ViewCapability},
		{"custom_roles", (*edition.Scope).CustomRolesCapability},
	} {
		fs.value(x.name, string(x.c(o)), string(x.c(n)), Neutral)
	}
	// Eligibility rules, by scope role of either scheme.
	rule := func(sc *edition.Scope, id string) string {
		for _, e := range sc.Spec().Eligibility {
			if e.ScopeRole != id {
				continue
			}
			var parts []string
			if e.OrgCapability != "" {
				parts = append(parts, "holding "+string(e.OrgCapability))
			}
			if e.OrgRoles != nil {
				parts = append(parts, "roles "+strings.Join(e.OrgRoles, ", "))
			}
			return strings.Join(parts, "; ")
		}
		return ""
	}
	for _, id := range unionRoles(o.Matrix(), n.Matrix()) {
		fs.value("eligibility."+id, rule(o, id), rule(n, id), Neutral)
	}
	// Implicit roles, by organization role of either scheme.
	implicit := func(s *edition.Scheme, sc *edition.Scope, orgRole string) (string, []string) {
		oi, ok := s.RoleIndex(orgRole)
		if !ok {
			return "", nil
		}
		ri, ok := sc.ImplicitRole(oi)
		if !ok {
			return "", nil
		}
		id := sc.Matrix().Role(ri).ID
		return id, grants(sc.Matrix(), id, nil)
	}
	for _, id := range unionRoles(p.o.Matrix(), p.n.Matrix()) {
		or, oc := implicit(p.o, o, id)
		nr, nc := implicit(p.n, n, id)
		fs.value("implicit."+id, or, nr, capsEffect(oc, nc))
	}
	fs.value("allow external", strconv.FormatBool(o.AllowsExternal()), strconv.FormatBool(n.AllowsExternal()),
		effectOf(boolInt(n.AllowsExternal()), boolInt(o.AllowsExternal())))
	return fs
}

// unionRoles returns the role IDs of either matrix, n's first.
func unionRoles(o, n *role.Matrix) []string {
	var out []string
	for _, r := range n.Roles() {
		out = append(out, r.ID)
	}
	for _, r := range o.Roles() {
		if !slices.Contains(out, r.ID) {
			out = append(out, r.ID)
		}
	}
	return out
}

// scopeRoleChanges compares the roles of scope kinds o and n (o nil when
// the kind is added); both says which capabilities are in both.
func scopeRoleChanges(o, n *edition.Scope, both map[role.Capability]bool) []Change {
	var out []Change
	if o != nil {
		for _, r := range o.Matrix().Roles() {
			if _, ok := n.Matrix().RoleIndex(r.ID); !ok {
				out = append(out, Change{Op: Removed, ID: r.ID})
			}
		}
	}
	for ni, r := range n.Matrix().Roles() {
		var fs fields
		oi, ok := -1, false
		if o != nil {
			oi, ok = o.Matrix().RoleIndex(r.ID)
		}
		if !ok {
			fs.value("name", "", r.Name, Neutral)
			fs.value("rank", "", itoa(r.Rank), Neutral)
			fs.set("capabilities", nil, grants(n.Matrix(), r.ID, nil), Neutral)
			if m := n.MinHolders(ni); m > 0 {
				fs.value("min holders", "", itoa(m), Neutral)
			}
			out = append(out, Change{Op: Added, ID: r.ID, Fields: fs})
			continue
		}
		or := o.Matrix().Role(oi)
		keep := func(c role.Capability) bool { return both[c] }
		fs.value("name", or.Name, r.Name, Neutral)
		fs.value("rank", itoa(or.Rank), itoa(r.Rank), Neutral)
		fs.set("capabilities", grants(o.Matrix(), r.ID, keep), grants(n.Matrix(), r.ID, keep))
		om, nm := o.MinHolders(oi), n.MinHolders(ni)
		fs.value("min holders", itoa(om), itoa(nm), effectOf(boolInt(nm < om), boolInt(nm > om)))
		if len(fs) > 0 {
			out = append(out, Change{Op: Changed, ID: r.ID, Fields: fs})
		}
	}
	return out
}

// scopeCapChanges compares the capabilities of scope kinds o and n (o nil
// when the kind is added).
func scopeCapChanges(o, n *edition.Scope) []Change {
	var out []Change
	if o != nil {
		for _, d := range o.Matrix().Catalog().All() {
			if _, ok := n.Matrix().Catalog().Index(d.ID); !ok {
				out = append(out, Change{Op: Removed, ID: string(d.ID)})
			}
		}
	}
	for _, d := range n.Matrix().Catalog().All() {
		var fs fields
		oi, ok := -1, false
		if o != nil {
			oi, ok = o.Matrix().Catalog().Index(d.ID)
		}
		if !ok {
			fs.value("label", "", d.Label, Neutral)
			var held []string
			for _, r := range n.Matrix().Roles() {
				if n.Matrix().Holds(r.ID, d.ID) {
					held = append(held, r.ID)
				}
			}
			fs.set("held by", nil, held, Neutral)
			out = append(out, Change{Op: Added, ID: string(d.ID), Fields: fs})
			continue
		}
		fs.value("label", o.Matrix().Catalog().Def(oi).Label, d.Label, Neutral)
		if len(fs) > 0 {
			out = append(out, Change{Op: Changed, ID: string(d.ID), Fields: fs})
		}
	}
	return out
}

// mayGive reports whether a member holding role a may give role r in
// edition ed of s, by invitation, addition or a change of role.
func mayGive(s *edition.Scheme, ed, a, r string) bool {
	if policy.CanManage(s, ed, a, edition.ActionInvite, "", r).Allowed || policy.CanManage(s, ed, a, edition.ActionAdd, "", r).Allowed {
		return true
	}
	for _, t := range s.Roles() {
		if policy.CanManage(s, ed, a, edition.ActionChangeRole, t.ID, r).Allowed {
			return true
		}
	}
	return false
}

func (p *pair) escalations(r *Report) []Escalation {
	var out []Escalation
	add := func(e Escalation) {
		e.Detail = e.describe()
		out = append(out, e)
	}
	for _, c := range r.Cells {
		if c.Effect != Relaxes {
			continue
		}
		add(Escalation{Kind: EscalationCapability, Edition: c.Edition, Role: c.Role, Capability: c.Capability})
		for _, a := range p.n.Roles() {
			if mayGive(p.n, c.Edition, a.ID, c.Role) {
				add(Escalation{Kind: EscalationAssignable, Edition: c.Edition, Role: a.ID, NewRole: c.Role, Capability: c.Capability})
			}
		}
	}
	for _, m := range r.Management {
		if m.Effect == Relaxes {
			add(Escalation{Kind: EscalationManagement, Edition: m.Edition, Role: m.Actor, Action: m.Action, Target: m.Target, NewRole: m.NewRole})
		}
	}
	for _, c := range r.ScopeCells {
		if c.Effect == Relaxes {
			add(Escalation{Kind: EscalationScopeCapability, Scope: c.Scope, Role: c.Role, Capability: c.Capability})
		}
	}
	for _, c := range r.Eligibility {
		if c.Effect == Relaxes {
			add(Escalation{Kind: EscalationEligibility, Edition: c.Edition, Scope: c.Scope, Role: c.OrgRole, NewRole: c.ScopeRole})
		}
	}
	for _, sp := range p.scopePairs() {
		for _, id := range p.roles {
			oi, _ := p.o.RoleIndex(id)
			ni, _ := p.n.RoleIndex(id)
			var oc []string
			if ri, ok := sp.o.ImplicitRole(oi); ok {
				oc = grants(sp.o.Matrix(), sp.o.Matrix().Role(ri).ID, nil)
			}
			ri, ok := sp.n.ImplicitRole(ni)
			if !ok {
				continue
			}
			sr := sp.n.Matrix().Role(ri).ID
			gained, _ := diffSets(oc, grants(sp.n.Matrix(), sr, nil))
			for _, c := range gained {
				add(Escalation{Kind: EscalationImplicitRole, Scope: sp.kind, Role: id, NewRole: sr, Capability: role.Capability(c)})
			}
		}
	}
	for _, op := range r.Operations {
		if op.Effect == Relaxes {
			add(Escalation{Kind: EscalationOperation, Edition: op.Edition, Scope: op.Scope, Role: op.Role, Operation: op.Operation})
		}
	}
	for _, e := range p.trialEscalations() {
		add(e)
	}
	if oi, ni := p.o.InviteRole(), p.n.InviteRole(); oi != ni {
		for _, ed := range p.eds {
			gained, _ := diffSets(effective(p.o, ed, oi), effective(p.n, ed, ni))
			for _, c := range gained {
				add(Escalation{Kind: EscalationDefaultRole, Edition: ed, NewRole: ni, Capability: role.Capability(c)})
			}
		}
	}
	for _, sp := range p.scopePairs() {
		od, nd := sp.o.DefaultRole(), sp.n.DefaultRole()
		if od == nd {
			continue
		}
		gained, _ := diffSets(grants(sp.o.Matrix(), od, nil), grants(sp.n.Matrix(), nd, nil))
		for _, c := range gained {
			add(Escalation{Kind: EscalationDefaultRole, Scope: sp.kind, NewRole: nd, Capability: role.Capability(c)})
		}
	}
	for _, ed := range p.eds {
		for _, id := range p.roles {
			for _, c := range p.caps {
				oc, ok1 := p.o.Catalog().Index(c)
				nc, ok2 := p.n.Catalog().Index(c)
				if !ok1 || !ok2 || !p.o.IsOwn(oc) || p.n.IsOwn(nc) {
					continue
				}
				o := policy.DecideOwn(p.o, ed, id, c, false)
				n := policy.DecideOwn(p.n, ed, id, c, false)
				if !o.Allowed && n.Allowed {
					add(Escalation{Kind: EscalationOwn, Edition: ed, Role: id, Capability: c})
				}
			}
		}
	}
	return out
}
