package orgauthz

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/invite"
	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/role"
	"github.com/orgauthz/orgauthz/store"
)

// ErrSchemeMismatch is the error of VerifySchemes, and of a migration that
// refuses an organization, when stored data contradicts the schemes: the
// SchemePlan that comes with it says where and how.
var ErrSchemeMismatch = errors.New("orgauthz: stored data contradicts the schemes")

// BreakKind says how stored data contradicts a scheme.
type BreakKind string

// The kinds of SchemeBreak.
const (
	// BreakScheme: the organization's scheme is none of the schemes.
	BreakScheme BreakKind = "scheme"
	// BreakEdition: its edition is not one of its scheme's.
	BreakEdition BreakKind = "edition"
	// BreakRole: a member holds a role the scheme does not have.
	BreakRole BreakKind = "role"
	// BreakRoleNotOffered: a member holds a role its edition does not
	// offer.
	BreakRoleNotOffered BreakKind = "role_not_offered"
	// BreakSeats: more seats are in use than the edition allows.
	BreakSeats BreakKind = "seats"
	// BreakInvariant: a role has fewer holders than its minimum, or more
	// than its maximum.
	BreakInvariant BreakKind = "invariant"
	// BreakServicePrincipals: the organization has service principals and
	// its edition offers none.
	BreakServicePrincipals BreakKind = "service_principals"
	// BreakScopeKind: a scope resource is of a kind the scheme does not
	// have.
	BreakScopeKind BreakKind = "scope_kind"
	// BreakScopeRole: a principal holds a role on a resource that is
	// neither a role of the kind nor a custom role of the resource.
	BreakScopeRole BreakKind = "scope_role"
	// BreakCustomRole: a custom role names capabilities its kind does not
	// have.
	BreakCustomRole BreakKind = "custom_role"
	// BreakKeyScope: an API key's scope names capabilities the scheme does
	// not have.
	BreakKeyScope BreakKind = "key_scope"
	// BreakInvitation: a pending invitation carries a role the scheme does
	// not have, or its edition does not offer.
	BreakInvitation BreakKind = "invitation"
)

// A SchemeBreak is one contradiction between an organization's stored
// data and the schemes: what a change of scheme would leave broken.
type SchemeBreak struct {
	OrgID string    `json:"org_id"`
	Kind  BreakKind `json:"kind"`
	// Subject names what is broken: a principal ID, an invitation ID, a
	// key ID, a resource ("kind/id"), a custom role ("kind/id/role"), a
	// role ID.
	Subject string `json:"subject,omitempty"`
	// Detail says how, in a sentence.
	Detail string `json:"detail"`
}

func (b SchemeBreak) String() string {
	if b.Subject == "" {
		return fmt.Sprintf("%s: %s: %s", b.OrgID, b.Kind, b.Detail)
	}
	return fmt.Sprintf("%s: %s %s: %s", b.OrgID, b.Kind, b.Subject, b.Detail)
}

// SchemePlan is what a set of schemes would break in a store: every
// organization examined, and every contradiction found, by organization
// in ID order.
type SchemePlan struct {
	Organizations int           `json:"organizations"`
	Breaks        []SchemeBreak `json:"breaks"`
}

// Broken returns the IDs of the organizations with at least one break, in
// order.
func (p SchemePlan) Broken() []string {
	var ids []string
	for _, b := range p.Breaks {
		if len(ids) == 0 || ids[len(ids)-1] != b.OrgID {
			ids = append(ids, b.OrgID)
		}
	}
	return ids
}

// WriteText writes the plan for a person: a summary line, then one line a
// break.
func (p SchemePlan) WriteText(w io.Writer) error {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%d organization(s) examined, %d broken, %d break(s)\n", p.Organizations, len(p.Broken()), len(p.Breaks))
	for _, b := range p.Breaks {
		sb.WriteString("  " + b.String() + "\n")
	}
	_, err := io.WriteString(w, sb.String())
	return err
}

// PlanSchemes examines every organization of st against schemes, each in
// a View of its own, and returns what contradicts them: the plan of a
// change of schemes, before it is made. Nothing is written.
func PlanSchemes(ctx context.Context, st store.Store, schemes []*edition.Scheme) (SchemePlan, error) {
	p := SchemePlan{Breaks: []SchemeBreak{}}
	for o, err := range st.Organizations(ctx, "") {
		if err != nil {
			return p, fmt.Errorf("orgauthz: planning schemes: %w", err)
		}
		p.Organizations++
		var breaks []SchemeBreak
		err := st.View(ctx, o.ID, func(ctx context.Context, r store.Reader) error {
			var err error
			breaks, err = orgBreaks(ctx, r, schemes)
			return err
		})
		if errors.Is(err, store.ErrOrganizationNotFound) {
			p.Organizations-- // deleted meanwhile
			continue
		}
		if err != nil {
			return p, fmt.Errorf("orgauthz: planning schemes: organization %q: %w", o.ID, err)
		}
		p.Breaks = append(p.Breaks, breaks...)
	}
	return p, nil
}

// VerifySchemes examines every organization of the service's store against
// the service's schemes. It returns the plan and, when anything
// contradicts them, an error matching ErrSchemeMismatch that counts the
// breaks: a service started with schemes that its stored data
// contradicts learns it here, not from members silently denied.
func (s *Service) VerifySchemes(ctx context.Context) (SchemePlan, error) {
	p, err := PlanSchemes(ctx, s.st, s.schemes)
	if err != nil {
		return p, err
	}
	if len(p.Breaks) > 0 {
		first := p.Breaks[0]
		return p, fmt.Errorf("%w: %d break(s) in %d of %d organization(s), the first: %s", ErrSchemeMismatch, len(p.Breaks), len(p.Broken()), p.Organizations, first)
	}
	return p, nil
}

// orgBreaks returns how the organization r reads contradicts schemes.
func orgBreaks(ctx context.Context, r store.Reader, schemes []*edition.Scheme) ([]SchemeBreak, error) {
	o, err := r.Organization(ctx)
	if err != nil {
		return nil, err
	}
	var out []SchemeBreak
	add := func(k BreakKind, subject, format string, args ...any) {
		out = append(out, SchemeBreak{OrgID: o.ID, Kind: k, Subject: subject, Detail: fmt.Sprintf(format, args...)})
	}
	i := slices.IndexFunc(schemes, func(s *edition.Scheme) bool { return s.ID() == o.Scheme })
	if i < 0 {
		add(BreakScheme, o.Scheme, "scheme %q is not among the schemes", o.Scheme)
		return out, nil
	}
	sch := schemes[i]
	e, ok := sch.Edition(o.Edition)
	if !ok {
		add(BreakEdition, o.Edition, "edition %q is not one of scheme %q's", o.Edition, sch.ID())
	}
	offered := func(roleID string) (known, ok bool) {
		ri, known := sch.RoleIndex(roleID)
		return known, known && (e == nil || e.OffersRole(ri))
	}
	holders := map[string]int{}
	seats, servicePrincipals := 0, 0
	var members []org.Member
	for m, err := range r.Members(ctx, "") {
		if err != nil {
			return nil, err
		}
		members = append(members, m)
		holders[m.Role]++
		if !m.External {
			seats++
		}
		if m.Kind == org.ServicePrincipal {
			servicePrincipals++
		}
		switch known, ok := offered(m.Role); {
		case !known:
			add(BreakRole, m.PrincipalID, "holds role %q, which scheme %q does not have", m.Role, sch.ID())
		case !ok:
			add(BreakRoleNotOffered, m.PrincipalID, "holds role %q, which edition %q does not offer", m.Role, o.Edition)
		}
	}
	pending := 0
	for inv, err := range r.Invitations(ctx, "", true) {
		if err != nil {
			return nil, err
		}
		if inv.Status != invite.Pending {
			continue
		}
		pending++
		switch known, ok := offered(inv.Role); {
		case !known:
			add(BreakInvitation, inv.ID, "invites as role %q, which scheme %q does not have", inv.Role, sch.ID())
		case !ok:
			add(BreakInvitation, inv.ID, "invites as role %q, which edition %q does not offer", inv.Role, o.Edition)
		}
	}
	if e != nil {
		// Pending invitations hold seats, as the service counts them.
		if limit := e.Seats().Limit(o.SeatOverride); limit > 0 && seats+pending > limit {
			add(BreakSeats, "", "%d seat(s) in use (%d member(s), %d pending invitation(s)), edition %q allows %d", seats+pending, seats, pending, o.Edition, limit)
		}
		if servicePrincipals > 0 && !offersServicePrincipals(sch, e) {
			add(BreakServicePrincipals, "", "%d service principal(s), edition %q offers none", servicePrincipals, o.Edition)
		}
	}
	for _, inv := range sch.Invariants() {
		n := holders[inv.Role]
		if inv.Min > 0 && n < inv.Min {
			add(BreakInvariant, inv.Role, "%d member(s) hold role %q, at least %d must", n, inv.Role, inv.Min)
		}
		if inv.Max > 0 && n > inv.Max {
			add(BreakInvariant, inv.Role, "%d member(s) hold role %q, at most %d may", n, inv.Role, inv.Max)
		}
	}
	cat := sch.Catalog()
	for _, m := range members {
		for k, err := range r.APIKeys(ctx, m.PrincipalID, "") {
			if err != nil {
				return nil, err
			}
			var unknown []string
			for _, c := range k.Scope {
				if _, ok := cat.Index(c); !ok {
					unknown = append(unknown, string(c))
				}
			}
			if len(unknown) > 0 {
				add(BreakKeyScope, k.ID, "key of %q names capabilities scheme %q does not have: %s", k.OwnerID, sch.ID(), strings.Join(unknown, ", "))
			}
		}
	}
	kinds := map[string]bool{}
	for _, sc := range sch.Scopes() {
		kinds[sc.Kind()] = true
	}
	for _, sc := range sch.Scopes() {
		if err := scopeBreaks(ctx, r, sc, add); err != nil {
			return nil, err
		}
	}
	// Roles held on resources of kinds the scheme lacks (a store lists
	// resources by kind only, so these are found by their members).
	seen := map[string]bool{}
	for _, m := range members {
		for sm, err := range r.PrincipalScopes(ctx, m.PrincipalID) {
			if err != nil {
				return nil, err
			}
			if at := sm.Kind + "/" + sm.ScopeID; !kinds[sm.Kind] && !seen[at] {
				seen[at] = true
				add(BreakScopeKind, at, "a resource of kind %q, which scheme %q does not have, where %q holds role %q", sm.Kind, sch.ID(), sm.PrincipalID, sm.Role)
			}
		}
	}
	return out, nil
}

// scopeBreaks adds the breaks of the resources of scope kind sc: roles held
// that are neither the kind's nor custom roles of the resource, and custom
// roles naming capabilities the kind does not have.
func scopeBreaks(ctx context.Context, r store.Reader, sc *edition.Scope, add func(BreakKind, string, string, ...any)) error {
	m := sc.Matrix()
	for res, err := range r.Scopes(ctx, sc.Kind(), "") {
		if err != nil {
			return err
		}
		custom := map[string]bool{}
		for cr, err := range r.ScopeRoles(ctx, sc.Kind(), res.ID) {
			if err != nil {
				return err
			}
			custom[cr.ID] = true
			var unknown []string
			for _, c := range cr.Capabilities {
				if _, ok := m.Catalog().Index(c); !ok {
					unknown = append(unknown, string(c))
				}
			}
			if len(unknown) > 0 {
				add(BreakCustomRole, sc.Kind()+"/"+res.ID+"/"+cr.ID, "names capabilities kind %q does not have: %s", sc.Kind(), strings.Join(unknown, ", "))
			}
		}
		for sm, err := range r.ScopeMembers(ctx, sc.Kind(), res.ID, "") {
			if err != nil {
				return err
			}
			if _, ok := m.RoleIndex(sm.Role); !ok && !custom[sm.Role] {
				add(BreakScopeRole, sc.Kind()+"/"+res.ID, "%q holds role %q, neither a role of kind %q nor a custom role of the resource", sm.PrincipalID, sm.Role, sc.Kind())
			}
		}
	}
	return nil
}

// AuditSchemeMigration is the action of the audit events a scheme
// migration writes, one per change it makes.
const AuditSchemeMigration = "organization.scheme_migration"

// SchemeMapping says how a scheme migration brings stored data in line
// with new schemes. It maps only what the new schemes do not have (a role,
// capability or edition they still have is left as it is), so a
// migration applied twice changes nothing the second time, and one
// interrupted is finished by running it again.
type SchemeMapping struct {
	// Roles renames, merges or retires organization roles: the new role
	// of the members and pending invitations holding each old one.
	Roles map[string]string
	// RoleOf, if set, is asked first for a member whose role the new
	// scheme does not have, to split a role in two: the role it returns,
	// unless "", replaces Roles' answer.
	RoleOf func(o org.Organization, m org.Member) string
	// ScopeRoles maps the roles held on scope resources, by kind: kind →
	// old role → new role.
	ScopeRoles map[string]map[string]string
	// Capabilities renames capabilities in API keys' scopes and custom
	// roles: "" drops one.
	Capabilities map[role.Capability]role.Capability
	// Editions moves organizations from editions the new scheme lacks.
	Editions map[string]string
	// EditionOf, if set, is asked first for every organization, for moves
	// between editions the new scheme has (a capability moved into a paid
	// edition, say): the edition it returns, unless "" or the current one,
	// is the organization's new edition, within the same checks.
	EditionOf func(o org.Organization) string
}

// MigrationOptions tune MigrateSchemes.
type MigrationOptions struct {
	// Actor is the audit events' actor; "" means "scheme-migration".
	Actor string
	// After resumes after the organization of this ID, in ID order.
	After string
	// Now is the clock of the audit events; nil means time.Now.
	Now func() time.Time
	// Progress, if set, is called after each organization, with its ID
	// and whether it was changed: a host may record the ID to resume
	// with After.
	Progress func(orgID string, changed bool)
}

// MigrationResult is what a scheme migration did.
type MigrationResult struct {
	// Examined counts the organizations examined; Changed those it
	// changed (each in one transaction); Refused those it left as they
	// were because the result would still contradict the schemes, with the
	// breaks it would leave.
	Examined, Changed int
	Refused           []SchemeBreak
	// Last is the ID of the last organization examined.
	Last string
}

// errRefused rolls back an organization the mapping cannot mend.
var errRefused = errors.New("refused")

// MigrateSchemes applies mapping to every organization of st, in ID order
// (after opts.After), one organization per transaction: members' roles,
// pending invitations' roles, roles on scope resources, capabilities of
// keys and custom roles, and the edition. Each change is audited
// (AuditSchemeMigration). An organization where the result would still
// contradict schemes is left unchanged and listed in Refused. It is safe
// to run again, and to resume after a crash: what is mended stays mended.
// The returned error is a failure of the store; the result says how far
// the migration went.
func MigrateSchemes(ctx context.Context, st store.Store, schemes []*edition.Scheme, mapping SchemeMapping, opts MigrationOptions) (MigrationResult, error) {
	var res MigrationResult
	actor, now := opts.Actor, opts.Now
	if actor == "" {
		actor = "scheme-migration"
	}
	if now == nil {
		now = time.Now
	}
	for o, err := range st.Organizations(ctx, opts.After) {
		if err != nil {
			return res, fmt.Errorf("orgauthz: migrating schemes: %w", err)
		}
		res.Examined++
		res.Last = o.ID
		changed := 0
		var left []SchemeBreak
		err := st.Update(ctx, o.ID, func(ctx context.Context, tx store.Tx) error {
			var err error
			changed, err = migrateOrg(ctx, tx, schemes, mapping, actor, now().UTC().Truncate(time.Microsecond))
			if err != nil {
				return err
			}
			if left, err = orgBreaks(ctx, tx, schemes); err != nil {
				return err
			}
			if len(left) > 0 {
				return errRefused
			}
			return nil
		})
		switch {
		case errors.Is(err, errRefused):
			res.Refused = append(res.Refused, left...)
			changed = 0
		case errors.Is(err, store.ErrOrganizationNotFound):
			res.Examined--
			continue
		case err != nil:
			return res, fmt.Errorf("orgauthz: migrating schemes: organization %q: %w", o.ID, err)
		}
		if changed > 0 {
			res.Changed++
		}
		if opts.Progress != nil {
			opts.Progress(o.ID, changed > 0)
		}
	}
	return res, nil
}

// migrateOrg applies mapping to the organization of tx, and returns the
// number of changes it made.
func migrateOrg(ctx context.Context, tx store.Tx, schemes []*edition.Scheme, mp SchemeMapping, actor string, now time.Time) (int, error) {
	o, err := tx.Organization(ctx)
	if err != nil {
		return 0, err
	}
	i := slices.IndexFunc(schemes, func(s *edition.Scheme) bool { return s.ID() == o.Scheme })
	if i < 0 {
		return 0, nil // nothing maps a scheme: the plan says so
	}
	sch := schemes[i]
	n := 0
	audit := func(detail string) error {
		n++
		_, err := tx.AppendAudit(ctx, org.AuditEvent{Time: now, Actor: actor, Action: AuditSchemeMigration, Detail: detail})
		return err
	}
	to := ""
	if mp.EditionOf != nil {
		to = mp.EditionOf(o)
	}
	if _, ok := sch.Edition(o.Edition); !ok && to == "" {
		to = mp.Editions[o.Edition]
	}
	if _, ok := sch.Edition(to); ok && to != o.Edition {
		detail := fmt.Sprintf("edition %s -> %s", o.Edition, to)
		o.Edition, o.UpdatedAt = to, now
		if err := tx.UpdateOrganization(ctx, o); err != nil {
			return n, err
		}
		if err := audit(detail); err != nil {
			return n, err
		}
	}
	newRole := func(m *org.Member, old string) (string, bool) {
		if _, ok := sch.RoleIndex(old); ok {
			return "", false
		}
		if m != nil && mp.RoleOf != nil {
			if r := mp.RoleOf(o, *m); r != "" {
				return r, true
			}
		}
		r, ok := mp.Roles[old]
		return r, ok && r != ""
	}
	var members []org.Member
	for m, err := range tx.Members(ctx, "") {
		if err != nil {
			return n, err
		}
		members = append(members, m)
	}
	for _, m := range members {
		to, ok := newRole(&m, m.Role)
		if !ok {
			continue
		}
		detail := fmt.Sprintf("member %s role %s -> %s", m.PrincipalID, m.Role, to)
		m.Role = to
		if err := tx.UpdateMember(ctx, m); err != nil {
			return n, err
		}
		if err := audit(detail); err != nil {
			return n, err
		}
	}
	var invs []invite.Invitation
	for inv, err := range tx.Invitations(ctx, "", true) {
		if err != nil {
			return n, err
		}
		invs = append(invs, inv)
	}
	for _, inv := range invs {
		to, ok := newRole(nil, inv.Role)
		if !ok || inv.Status != invite.Pending {
			continue
		}
		detail := fmt.Sprintf("invitation %s role %s -> %s", inv.ID, inv.Role, to)
		inv.Role, inv.UpdatedAt = to, now
		if err := tx.UpdateInvitation(ctx, inv); err != nil {
			return n, err
		}
		if err := audit(detail); err != nil {
			return n, err
		}
	}
	orgKnown := func(c role.Capability) bool { _, ok := sch.Catalog().Index(c); return ok }
	for _, m := range members {
		var keys []string
		for k, err := range tx.APIKeys(ctx, m.PrincipalID, "") {
			if err != nil {
				return n, err
			}
			keys = append(keys, k.ID)
		}
		for _, id := range keys {
			k, err := tx.APIKey(ctx, id)
			if err != nil {
				return n, err
			}
			scope, changed := mp.mapCapabilities(k.Scope, orgKnown)
			if !changed {
				continue
			}
			if len(scope) == 0 && len(k.Scope) > 0 {
				// A key scoped to nothing but dropped capabilities would
				// mean everything its owner holds: revoke it instead.
				if k.RevokedAt.IsZero() {
					k.RevokedAt = now
				}
				if err := tx.UpdateAPIKey(ctx, k); err != nil {
					return n, err
				}
				if err := audit(fmt.Sprintf("api key %s revoked: its scope named only retired capabilities", k.ID)); err != nil {
					return n, err
				}
				continue
			}
			detail := fmt.Sprintf("api key %s scope %v -> %v", k.ID, k.Scope, scope)
			k.Scope = scope
			if err := tx.UpdateAPIKey(ctx, k); err != nil {
				return n, err
			}
			if err := audit(detail); err != nil {
				return n, err
			}
		}
	}
	for _, sc := range sch.Scopes() {
		if err := migrateScopes(ctx, tx, sc, mp, audit); err != nil {
			return n, err
		}
	}
	return n, nil
}

// mapCapabilities maps the capabilities of cs that known does not know,
// by mp.Capabilities ("" drops one; a duplicate is dropped too), and
// reports whether it changed any.
func (mp SchemeMapping) mapCapabilities(cs []role.Capability, known func(role.Capability) bool) ([]role.Capability, bool) {
	var out []role.Capability
	changed := false
	for _, c := range cs {
		if to, ok := mp.Capabilities[c]; ok && !known(c) {
			changed = true
			if to == "" || slices.Contains(out, to) {
				continue
			}
			c = to
		}
		out = append(out, c)
	}
	return out, changed
}

// migrateScopes maps the roles held on the resources of kind sc, and the
// capabilities of their custom roles, auditing each change.
func migrateScopes(ctx context.Context, tx store.Tx, sc *edition.Scope, mp SchemeMapping, audit func(string) error) error {
	m := sc.Matrix()
	known := func(c role.Capability) bool { _, ok := m.Catalog().Index(c); return ok }
	var resources []org.Scope
	for res, err := range tx.Scopes(ctx, sc.Kind(), "") {
		if err != nil {
			return err
		}
		resources = append(resources, res)
	}
	for _, res := range resources {
		var roles []org.ScopeRole
		for cr, err := range tx.ScopeRoles(ctx, sc.Kind(), res.ID) {
			if err != nil {
				return err
			}
			roles = append(roles, cr)
		}
		custom := map[string]bool{}
		for _, cr := range roles {
			custom[cr.ID] = true
			out, changed := mp.mapCapabilities(cr.Capabilities, known)
			if !changed {
				continue
			}
			detail := fmt.Sprintf("custom role %s/%s/%s capabilities %v -> %v", sc.Kind(), res.ID, cr.ID, cr.Capabilities, out)
			cr.Capabilities = out
			if err := tx.PutScopeRole(ctx, cr); err != nil {
				return err
			}
			if err := audit(detail); err != nil {
				return err
			}
		}
		var held []org.ScopeMember
		for sm, err := range tx.ScopeMembers(ctx, sc.Kind(), res.ID, "") {
			if err != nil {
				return err
			}
			held = append(held, sm)
		}
		for _, sm := range held {
			if _, ok := m.RoleIndex(sm.Role); ok || custom[sm.Role] {
				continue
			}
			to, ok := mp.ScopeRoles[sc.Kind()][sm.Role]
			if !ok || to == "" {
				continue
			}
			detail := fmt.Sprintf("scope member %s on %s/%s role %s -> %s", sm.PrincipalID, sc.Kind(), res.ID, sm.Role, to)
			sm.Role = to
			if err := tx.PutScopeMember(ctx, sm); err != nil {
				return err
			}
			if err := audit(detail); err != nil {
				return err
			}
		}
	}
	return nil
}
