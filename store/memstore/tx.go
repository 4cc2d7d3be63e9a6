package memstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"

	"github.com/orgauthz/orgauthz/apikey"
	"github.com/orgauthz/orgauthz/invite"
	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/store"
)

// reader is the store.Reader of View, and the reading half of a Tx. The
// organization's lock is held (shared or exclusive) for as long as it is
// valid.
type reader struct {
	s     *Store
	st    *orgState // nil: View of an organization that has no entry
	orgID string
	// done is set when the function the reader was passed to returns.
	done bool
}

// check returns the organization's data for a method about to run, or
// why it may not: the reader's function has returned, ctx is done, the
// store is closed, or the organization does not exist.
func (r *reader) check(ctx context.Context) (*orgData, error) {
	if r.done {
		return nil, fmt.Errorf("memstore: transaction on organization %q used after its function returned: %w", r.orgID, store.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if r.s.closed.Load() {
		return nil, closedError("organization %q", r.orgID)
	}
	if r.st == nil || r.st.d.rec == nil {
		return nil, orgNotFound(r.orgID)
	}
	return &r.st.d, nil
}

func (r *reader) scopeNotFound(kind, id string) error {
	return fmt.Errorf("memstore: scope %s/%s of organization %q: %w", kind, id, r.orgID, store.ErrNotFound)
}

// Organization returns the organization's record.
func (r *reader) Organization(ctx context.Context) (org.Organization, error) {
	d, err := r.check(ctx)
	if err != nil {
		return org.Organization{}, err
	}
	return d.rec.Clone(), nil
}

// Member returns one member.
func (r *reader) Member(ctx context.Context, principalID string) (org.Member, error) {
	d, err := r.check(ctx)
	if err != nil {
		return org.Member{}, err
	}
	if _, ok := d.members[principalID]; !ok {
		return org.Member{}, memberNotFound(r.orgID, principalID)
	}
	return d.record(principalID), nil
}

// Members lists the members by principal ID.
func (r *reader) Members(ctx context.Context, after string) iter.Seq2[org.Member, error] {
	ids := walk(r, ctx, func(d *orgData) *sortedSet[string, byString] { return &d.memberIDs }, after, after == "")
	return once(func(yield func(org.Member, error) bool) {
		for id, err := range ids {
			if err != nil {
				yield(org.Member{}, err)
				return
			}
			if !yield(r.st.d.record(id), nil) {
				return
			}
		}
	})
}

// MemberByEmail returns the member whose Email is email, found in the
// organization's index by address; "" finds no one.
func (r *reader) MemberByEmail(ctx context.Context, email string) (org.Member, error) {
	d, err := r.check(ctx)
	if err != nil {
		return org.Member{}, err
	}
	id, ok := d.byEmail[email]
	if !ok || email == "" {
		return org.Member{}, &lazyError{"memstore: member with address %q in organization %q: %w", []any{email, r.orgID, store.ErrMemberNotFound}}
	}
	return d.record(id), nil
}

// ServicePrincipals lists the members of kind org.ServicePrincipal by
// principal ID, walking their index only.
func (r *reader) ServicePrincipals(ctx context.Context, after string) iter.Seq2[org.Member, error] {
	ids := walk(r, ctx, func(d *orgData) *sortedSet[string, byString] { return &d.serviceIDs }, after, after == "")
	return once(func(yield func(org.Member, error) bool) {
		for id, err := range ids {
			if err != nil {
				yield(org.Member{}, err)
				return
			}
			if !yield(r.st.d.record(id), nil) {
				return
			}
		}
	})
}

// Counts returns the head counts, kept up to date by every change.
func (r *reader) Counts(ctx context.Context) (store.Counts, error) {
	d, err := r.check(ctx)
	if err != nil {
		return store.Counts{}, err
	}
	c := store.Counts{Members: d.counts.members, External: d.counts.external, Roles: make(map[string]int, len(d.counts.roles))}
	for _, rc := range d.counts.roles {
		c.Roles[interned.str(rc.role)] = rc.n
	}
	return c, nil
}

// Scope returns one scope resource.
func (r *reader) Scope(ctx context.Context, kind, id string) (org.Scope, error) {
	d, err := r.check(ctx)
	if err != nil {
		return org.Scope{}, err
	}
	sc := d.scopes[scopeKey{kind, id}]
	if sc == nil {
		return org.Scope{}, r.scopeNotFound(kind, id)
	}
	return sc.rec, nil
}

// Scopes lists the scope resources of a kind by ID.
func (r *reader) Scopes(ctx context.Context, kind, after string) iter.Seq2[org.Scope, error] {
	ids := walk(r, ctx, func(d *orgData) *sortedSet[string, byString] { return d.kinds[kind] }, after, after == "")
	return once(func(yield func(org.Scope, error) bool) {
		for id, err := range ids {
			if err != nil {
				yield(org.Scope{}, err)
				return
			}
			if !yield(r.st.d.scopes[scopeKey{kind, id}].rec, nil) {
				return
			}
		}
	})
}

// ScopeMember returns one principal's membership of a scope resource.
func (r *reader) ScopeMember(ctx context.Context, kind, scopeID, principalID string) (org.ScopeMember, error) {
	d, err := r.check(ctx)
	if err != nil {
		return org.ScopeMember{}, err
	}
	k := scopeKey{kind, scopeID}
	if sc := d.scopes[k]; sc != nil {
		if m, ok := sc.members[principalID]; ok {
			return m.record(k, principalID), nil
		}
	}
	return org.ScopeMember{}, fmt.Errorf("memstore: member %q of scope %s/%s of organization %q: %w", principalID, kind, scopeID, r.orgID, store.ErrNotFound)
}

// ScopeMembers lists a scope resource's members by principal ID.
func (r *reader) ScopeMembers(ctx context.Context, kind, scopeID, after string) iter.Seq2[org.ScopeMember, error] {
	k := scopeKey{kind, scopeID}
	ids := walk(r, ctx, func(d *orgData) *sortedSet[string, byString] {
		if sc := d.scopes[k]; sc != nil {
			return &sc.memberIDs
		}
		return nil
	}, after, after == "")
	return once(func(yield func(org.ScopeMember, error) bool) {
		for id, err := range ids {
			if err != nil {
				yield(org.ScopeMember{}, err)
				return
			}
			if !yield(r.st.d.scopes[k].members[id].record(k, id), nil) {
				return
			}
		}
	})
}

// PrincipalScopes lists a principal's scope memberships by kind, then
// scope ID.
func (r *reader) PrincipalScopes(ctx context.Context, principalID string) iter.Seq2[org.ScopeMember, error] {
	keys := walk(r, ctx, func(d *orgData) *sortedSet[scopeKey, byScope] { return d.byPrincipal[principalID] }, scopeKey{}, true)
	return once(func(yield func(org.ScopeMember, error) bool) {
		for k, err := range keys {
			if err != nil {
				yield(org.ScopeMember{}, err)
				return
			}
			if !yield(r.st.d.scopes[k].members[principalID].record(k, principalID), nil) {
				return
			}
		}
	})
}

// MemberScopes lists a principal's memberships of the scope resources of
// one kind, each with its resource, by scope ID: it seeks the principal's
// index of memberships (ordered by kind, then scope ID) to the kind and
// stops at the next kind.
func (r *reader) MemberScopes(ctx context.Context, principalID, kind, after string) iter.Seq2[org.ScopeMembership, error] {
	keys := walk(r, ctx, func(d *orgData) *sortedSet[scopeKey, byScope] { return d.byPrincipal[principalID] }, scopeKey{kind, after}, after == "")
	return once(func(yield func(org.ScopeMembership, error) bool) {
		for k, err := range keys {
			if err != nil {
				yield(org.ScopeMembership{}, err)
				return
			}
			if k.kind != kind {
				return
			}
			sc := r.st.d.scopes[k]
			if !yield(org.ScopeMembership{Scope: sc.rec, Member: sc.members[principalID].record(k, principalID)}, nil) {
				return
			}
		}
	})
}

// ScopeRole returns one custom role of a scope resource.
func (r *reader) ScopeRole(ctx context.Context, kind, scopeID, roleID string) (org.ScopeRole, error) {
	d, err := r.check(ctx)
	if err != nil {
		return org.ScopeRole{}, err
	}
	if sc := d.scopes[scopeKey{kind, scopeID}]; sc != nil {
		if sr, ok := sc.roles[roleID]; ok {
			return sr.Clone(), nil
		}
	}
	return org.ScopeRole{}, fmt.Errorf("memstore: role %q of scope %s/%s of organization %q: %w", roleID, kind, scopeID, r.orgID, store.ErrNotFound)
}

// ScopeRoles lists a scope resource's custom roles by ID.
func (r *reader) ScopeRoles(ctx context.Context, kind, scopeID string) iter.Seq2[org.ScopeRole, error] {
	k := scopeKey{kind, scopeID}
	ids := walk(r, ctx, func(d *orgData) *sortedSet[string, byString] {
		if sc := d.scopes[k]; sc != nil {
			return &sc.roleIDs
		}
		return nil
	}, "", true)
	return once(func(yield func(org.ScopeRole, error) bool) {
		for id, err := range ids {
			if err != nil {
				yield(org.ScopeRole{}, err)
				return
			}
			if !yield(r.st.d.scopes[k].roles[id].Clone(), nil) {
				return
			}
		}
	})
}

// Audit lists the audit events f selects, by Seq. The bounds of f are
// truncated to the microsecond, as stored times are.
func (r *reader) Audit(ctx context.Context, f store.AuditFilter) iter.Seq2[org.AuditEvent, error] {
	since, until := normTime(f.Since), normTime(f.Until)
	return once(func(yield func(org.AuditEvent, error) bool) {
		// Seq n is at index n-1, so the events past seq are from index seq.
		seq := max(f.AfterSeq, 0)
		for {
			d, err := r.check(ctx)
			if err != nil {
				yield(org.AuditEvent{}, err)
				return
			}
			if seq >= int64(len(d.audit)) {
				return
			}
			e := d.audit[seq]
			seq++
			switch {
			case !f.Since.IsZero() && e.Time.Before(since),
				!f.Until.IsZero() && !e.Time.Before(until),
				f.Actor != "" && e.Actor != f.Actor:
				continue
			}
			if !yield(e, nil) {
				return
			}
		}
	})
}

// Invitation returns one invitation.
func (r *reader) Invitation(ctx context.Context, id string) (invite.Invitation, error) {
	d, err := r.check(ctx)
	if err != nil {
		return invite.Invitation{}, err
	}
	inv, ok := d.invites[id]
	if !ok {
		return invite.Invitation{}, r.invitationNotFound(id)
	}
	return invitationOut(inv), nil
}

// PendingInvitation returns the invitation to an address whose stored
// status is Pending, found by the address as given.
func (r *reader) PendingInvitation(ctx context.Context, email string) (invite.Invitation, error) {
	d, err := r.check(ctx)
	if err != nil {
		return invite.Invitation{}, err
	}
	id, ok := d.pendingTo[email]
	if !ok {
		return invite.Invitation{}, &lazyError{"memstore: pending invitation to %q in organization %q: %w", []any{email, r.orgID, store.ErrNotFound}}
	}
	return invitationOut(d.invites[id]), nil
}

// Invitations lists the invitations by ID; with pendingOnly, it walks the
// index of the Pending ones only.
func (r *reader) Invitations(ctx context.Context, after string, pendingOnly bool) iter.Seq2[invite.Invitation, error] {
	ids := walk(r, ctx, func(d *orgData) *sortedSet[string, byString] {
		if pendingOnly {
			return &d.pendingIDs
		}
		return &d.inviteIDs
	}, after, after == "")
	return once(func(yield func(invite.Invitation, error) bool) {
		for id, err := range ids {
			if err != nil {
				yield(invite.Invitation{}, err)
				return
			}
			if !yield(invitationOut(r.st.d.invites[id]), nil) {
				return
			}
		}
	})
}

func (r *reader) invitationNotFound(id string) error {
	return fmt.Errorf("memstore: invitation %q of organization %q: %w", id, r.orgID, store.ErrNotFound)
}

// APIKey returns one API key.
func (r *reader) APIKey(ctx context.Context, id string) (apikey.Key, error) {
	d, err := r.check(ctx)
	if err != nil {
		return apikey.Key{}, err
	}
	k, ok := d.keys[id]
	if !ok {
		return apikey.Key{}, r.keyNotFound(id)
	}
	return keyOut(k), nil
}

// APIKeys lists the API keys by ID: all of them when ownerID is "", else
// one owner's, walking that owner's index only.
func (r *reader) APIKeys(ctx context.Context, ownerID, after string) iter.Seq2[apikey.Key, error] {
	ids := walk(r, ctx, func(d *orgData) *sortedSet[string, byString] {
		if ownerID == "" {
			return &d.keyIDs
		}
		return d.keysBy[ownerID]
	}, after, after == "")
	return once(func(yield func(apikey.Key, error) bool) {
		for id, err := range ids {
			if err != nil {
				yield(apikey.Key{}, err)
				return
			}
			if !yield(keyOut(r.st.d.keys[id]), nil) {
				return
			}
		}
	})
}

func (r *reader) keyNotFound(id string) error {
	return fmt.Errorf("memstore: API key %q of organization %q: %w", id, r.orgID, store.ErrNotFound)
}

// walk yields the keys of the set that set returns (nil: no keys) in
// order, from the first key past after, or from after itself when
// inclusive. Before each key it checks the reader; if the Tx changed the
// organization since the last key, it finds its place again by that key,
// so a listing may run while its own Tx changes what it lists.
func walk[K any, O ordering[K]](r *reader, ctx context.Context, set func(*orgData) *sortedSet[K, O], after K, inclusive bool) iter.Seq2[K, error] {
	return func(yield func(K, error) bool) {
		var (
			zero    K
			p       pos
			gen     uint64
			started bool
		)
		for {
			d, err := r.check(ctx)
			if err != nil {
				yield(zero, err)
				return
			}
			s := set(d)
			if s == nil {
				return
			}
			if !started || gen != r.st.gen {
				p, gen, started = s.seek(after, inclusive), r.st.gen, true
			}
			k, ok := s.at(p)
			if !ok {
				return
			}
			p = s.next(p)
			after, inclusive = k, false
			if !yield(k, nil) {
				return
			}
		}
	}
}

// tx is the store.Tx of Update: a reader that also changes the
// organization, in place, logging how to undo each change.
type tx struct {
	reader
	undo []func()
	// invites and keys are what the transaction did to the store-wide
	// spaces of invitation and API key IDs, for settle to settle when it
	// ends.
	invites claims[invite.Invitation]
	keys    claims[*storedKey]
	// members and addressed are what it did that the store-wide indexes
	// of memberships and of addresses follow at commit: the principals
	// whose member records it added, changed or removed, and the
	// invitations it created Pending or changed from or to Pending, with
	// what DeleteOrganization dropped.
	members   touched[member]
	addressed touched[invite.Invitation]
	// firstMembers backs members.ids at first, so that an Update that
	// changes a member or two allocates no list for them.
	firstMembers [2]string
}

// claims are what a transaction did to one store-wide ID space: the IDs
// it reserved there, the records of the organization data its
// DeleteOrganization calls dropped (whose IDs are still held by committed
// records until it commits), and the IDs of committed records whose
// published part (an invitation's token hash) it changed.
type claims[V any] struct {
	reserved []string
	dropped  []map[string]V
	changed  []string
}

// changed records a change and how to undo it.
func (t *tx) changed(undo func()) {
	t.st.gen++
	t.undo = append(t.undo, undo)
}

// rollback undoes every change, last first.
func (t *tx) rollback() {
	for _, u := range slices.Backward(t.undo) {
		u()
	}
	t.undo = nil
}

func (t *tx) CreateOrganization(ctx context.Context, o org.Organization) error {
	if _, err := t.check(ctx); err == nil {
		return fmt.Errorf("memstore: organization %q: %w", t.orgID, store.ErrExists)
	} else if !errors.Is(err, store.ErrOrganizationNotFound) {
		return err
	}
	if o.ID != t.orgID {
		return fmt.Errorf("memstore: cannot create organization %q in a transaction on organization %q", o.ID, t.orgID)
	}
	d := &t.st.d
	d.rec = orgIn(o)
	t.changed(func() { d.rec = nil })
	return nil
}

func (t *tx) UpdateOrganization(ctx context.Context, o org.Organization) error {
	d, err := t.check(ctx)
	if err != nil {
		return err
	}
	if o.ID != t.orgID {
		return fmt.Errorf("memstore: cannot change the ID of organization %q to %q", t.orgID, o.ID)
	}
	old := d.rec
	d.rec = orgIn(o)
	t.changed(func() { d.rec = old })
	return nil
}

func (t *tx) DeleteOrganization(ctx context.Context) error {
	d, err := t.check(ctx)
	if err != nil {
		return err
	}
	old := *d
	*d = orgData{}
	// Their IDs leave the store-wide maps, and their entries the
	// store-wide indexes, when the Update commits.
	if len(old.members) > 0 {
		t.members.dropped = append(t.members.dropped, old.members)
	}
	if len(old.invites) > 0 {
		t.invites.dropped = append(t.invites.dropped, old.invites)
		t.addressed.dropped = append(t.addressed.dropped, old.invites)
	}
	if len(old.keys) > 0 {
		t.keys.dropped = append(t.keys.dropped, old.keys)
	}
	t.changed(func() { *d = old })
	return nil
}

func (t *tx) AddMember(ctx context.Context, m org.Member) error {
	d, err := t.check(ctx)
	if err != nil {
		return err
	}
	id := m.PrincipalID
	if _, ok := d.members[id]; ok {
		return fmt.Errorf("memstore: member %q of organization %q: %w", id, t.orgID, store.ErrExists)
	}
	if other, taken := d.emailTaken(id, m.Email); taken {
		return t.emailTakenError(id, m.Email, other)
	}
	cm, text := newMember(m)
	d.addMember(id, cm, text)
	t.changed(func() { d.removeMember(id) })
	t.noteMember(id)
	return nil
}

// noteMember notes that member id changed, for the index of memberships.
func (t *tx) noteMember(id string) {
	if t.members.ids == nil {
		t.members.ids = t.firstMembers[:0]
	}
	t.members.ids = append(t.members.ids, id)
}

func (t *tx) emailTakenError(id, email, other string) error {
	return fmt.Errorf("memstore: member %q of organization %q: address %q is member %q's: %w", id, t.orgID, email, other, store.ErrExists)
}

func (t *tx) UpdateMember(ctx context.Context, m org.Member) error {
	d, err := t.check(ctx)
	if err != nil {
		return err
	}
	id := m.PrincipalID
	old, ok := d.members[id]
	if !ok {
		return memberNotFound(t.orgID, id)
	}
	if other, taken := d.emailTaken(id, m.Email); taken {
		return t.emailTakenError(id, m.Email, other)
	}
	oldText := d.text(id, old)
	cm, text := newMember(m)
	d.setMember(id, cm, text)
	t.changed(func() { d.setMember(id, old, oldText) })
	t.noteMember(id)
	return nil
}

func (t *tx) RemoveMember(ctx context.Context, principalID string) error {
	d, err := t.check(ctx)
	if err != nil {
		return err
	}
	old, ok := d.members[principalID]
	if !ok {
		return memberNotFound(t.orgID, principalID)
	}
	oldText := d.text(principalID, old)
	d.removeMember(principalID)
	t.changed(func() { d.addMember(principalID, old, oldText) })
	t.noteMember(principalID)
	return nil
}

func (t *tx) CreateScope(ctx context.Context, s org.Scope) error {
	d, err := t.check(ctx)
	if err != nil {
		return err
	}
	k := scopeKey{s.Kind, s.ID}
	if d.scopes[k] != nil {
		return fmt.Errorf("memstore: scope %s/%s of organization %q: %w", s.Kind, s.ID, t.orgID, store.ErrExists)
	}
	sc := &scopeState{rec: scopeIn(s)}
	d.attachScope(k, sc)
	t.changed(func() { d.detachScope(k, sc) })
	return nil
}

func (t *tx) DeleteScope(ctx context.Context, kind, id string) error {
	d, err := t.check(ctx)
	if err != nil {
		return err
	}
	k := scopeKey{kind, id}
	sc := d.scopes[k]
	if sc == nil {
		return t.scopeNotFound(kind, id)
	}
	// The scope keeps its members and roles, so that undoing is putting
	// it back.
	d.detachScope(k, sc)
	t.changed(func() { d.attachScope(k, sc) })
	return nil
}

func (t *tx) PutScopeMember(ctx context.Context, m org.ScopeMember) error {
	d, err := t.check(ctx)
	if err != nil {
		return err
	}
	k := scopeKey{m.Kind, m.ScopeID}
	sc := d.scopes[k]
	if sc == nil {
		return t.scopeNotFound(m.Kind, m.ScopeID)
	}
	p := m.PrincipalID
	old, had := sc.members[p]
	d.putScopeMember(k, sc, p, scopeMember{role: m.Role, added: micros(m.AddedAt)})
	if had {
		t.changed(func() { sc.members[p] = old })
	} else {
		t.changed(func() { d.removeScopeMember(k, sc, p) })
	}
	return nil
}

func (t *tx) RemoveScopeMember(ctx context.Context, kind, scopeID, principalID string) error {
	d, err := t.check(ctx)
	if err != nil {
		return err
	}
	k := scopeKey{kind, scopeID}
	sc := d.scopes[k]
	old, ok := scopeMember{}, false
	if sc != nil {
		old, ok = sc.members[principalID]
	}
	if !ok {
		return fmt.Errorf("memstore: member %q of scope %s/%s of organization %q: %w", principalID, kind, scopeID, t.orgID, store.ErrNotFound)
	}
	d.removeScopeMember(k, sc, principalID)
	t.changed(func() { d.putScopeMember(k, sc, principalID, old) })
	return nil
}

func (t *tx) PutScopeRole(ctx context.Context, sr org.ScopeRole) error {
	d, err := t.check(ctx)
	if err != nil {
		return err
	}
	sc := d.scopes[scopeKey{sr.Kind, sr.ScopeID}]
	if sc == nil {
		return t.scopeNotFound(sr.Kind, sr.ScopeID)
	}
	id := sr.ID
	old, had := sc.roles[id]
	sc.putRole(scopeRoleIn(sr))
	if had {
		t.changed(func() { sc.roles[id] = old })
	} else {
		t.changed(func() { sc.deleteRole(id) })
	}
	return nil
}

func (t *tx) DeleteScopeRole(ctx context.Context, kind, scopeID, roleID string) error {
	d, err := t.check(ctx)
	if err != nil {
		return err
	}
	sc := d.scopes[scopeKey{kind, scopeID}]
	old, ok := org.ScopeRole{}, false
	if sc != nil {
		old, ok = sc.roles[roleID]
	}
	if !ok {
		return fmt.Errorf("memstore: role %q of scope %s/%s of organization %q: %w", roleID, kind, scopeID, t.orgID, store.ErrNotFound)
	}
	sc.deleteRole(roleID)
	t.changed(func() { sc.putRole(old) })
	return nil
}

func (t *tx) AppendAudit(ctx context.Context, e org.AuditEvent) (int64, error) {
	d, err := t.check(ctx)
	if err != nil {
		return 0, err
	}
	n := len(d.audit)
	e.Seq = int64(n) + 1
	e.OrgID = t.orgID
	e.Time = normTime(e.Time)
	d.audit = append(d.audit, e)
	t.changed(func() {
		clear(d.audit[n:])
		d.audit = d.audit[:n]
	})
	return e.Seq, nil
}

func (t *tx) CreateInvitation(ctx context.Context, inv invite.Invitation) error {
	d, err := t.check(ctx)
	if err != nil {
		return err
	}
	id := inv.ID
	if _, ok := d.invites[id]; ok {
		return fmt.Errorf("memstore: invitation %q of organization %q: %w", id, t.orgID, store.ErrExists)
	}
	if d.secondPending(inv) {
		return t.secondPendingError(inv.Email)
	}
	if err := t.reserve(&t.s.invites, &t.invites.reserved, "invitation", id); err != nil {
		return err
	}
	d.putInvitation(invitationIn(inv))
	t.changed(func() { d.removeInvitation(id) })
	if inv.Status == invite.Pending {
		t.addressed.ids = append(t.addressed.ids, id)
	}
	return nil
}

func (t *tx) UpdateInvitation(ctx context.Context, inv invite.Invitation) error {
	d, err := t.check(ctx)
	if err != nil {
		return err
	}
	old, ok := d.invites[inv.ID]
	if !ok {
		return t.invitationNotFound(inv.ID)
	}
	if d.secondPending(inv) {
		return t.secondPendingError(inv.Email)
	}
	d.putInvitation(invitationIn(inv))
	t.changed(func() { d.putInvitation(old) })
	if old.Status == invite.Pending || inv.Status == invite.Pending {
		// Its entry in the index of addresses follows at commit. (One
		// neither Pending before nor after this change has none, or has
		// it noted by the change that took it from Pending.)
		t.addressed.ids = append(t.addressed.ids, inv.ID)
	}
	if !bytes.Equal(old.TokenHash, inv.TokenHash) {
		// Its entry in the store-wide space gets the new hash at commit.
		t.invites.changed = append(t.invites.changed, inv.ID)
	}
	return nil
}

func (t *tx) secondPendingError(email string) error {
	return fmt.Errorf("memstore: pending invitation to %q in organization %q: %w", email, t.orgID, store.ErrExists)
}

func (t *tx) CreateAPIKey(ctx context.Context, k apikey.Key) error {
	d, err := t.check(ctx)
	if err != nil {
		return err
	}
	id := k.ID
	if _, ok := d.keys[id]; ok {
		return fmt.Errorf("memstore: API key %q of organization %q: %w", id, t.orgID, store.ErrExists)
	}
	if err := t.reserve(&t.s.keys, &t.keys.reserved, "API key", id); err != nil {
		return err
	}
	d.putKey(keyIn(k))
	t.changed(func() { d.removeKey(id) })
	return nil
}

func (t *tx) UpdateAPIKey(ctx context.Context, k apikey.Key) error {
	d, err := t.check(ctx)
	if err != nil {
		return err
	}
	old, ok := d.keys[k.ID]
	if !ok {
		return t.keyNotFound(k.ID)
	}
	d.putKey(keyIn(k))
	t.changed(func() { d.putKey(old) })
	return nil
}

// reserve takes ID id of space sp (what names its records in errors) for
// this transaction, noting it in reserved, or fails with store.ErrExists
// if a committed record holds it or another transaction reserved it. An
// ID this transaction reserved already (for a record since dropped by
// DeleteOrganization) is its own still.
func (t *tx) reserve(sp *idSpace, reserved *[]string, what, id string) error {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if t.s.closed.Load() {
		return closedError("organization %q", t.orgID)
	}
	if h, ok := sp.ids[id]; ok {
		if h.tx == t {
			return nil
		}
		return fmt.Errorf("memstore: %s %q: %w", what, id, store.ErrExists)
	}
	if sp.ids == nil {
		sp.ids = make(map[string]idHolder)
	}
	sp.ids[id] = idHolder{st: t.st, tx: t}
	*reserved = append(*reserved, id)
	return nil
}

// settle brings the store-wide indexes and ID spaces in line with how the
// transaction ended, while the organization is still locked (and before
// an organization left without a record is removed from the store). On
// commit, an organization that exists has its record published first, so
// that an entry of the indexes never names an organization whose record
// is not out yet; one that does not is unpublished after, once the
// indexes no longer name it (see Store.finish). The index of addresses is
// settled before the space of invitation IDs frees the IDs of dropped
// invitations, so that no other organization can take one while this one
// still has an entry under it.
func (t *tx) settle(committed bool) {
	if committed {
		d := &t.st.d
		prev := t.st.pub.Load()
		if d.rec != nil {
			t.st.pub.Store(d.rec)
		}
		if !t.members.empty() {
			t.s.memberships.settle(t.st, d.members, &t.members)
		}
		// Every member's entry of the index of access follows a change of
		// what the entries hold of the organization, and of its trial,
		// which decides whether they have entries at all.
		all := prev != nil && d.rec != nil && (prev.Scheme != d.rec.Scheme || prev.Edition != d.rec.Edition || prev.Archived != d.rec.Archived ||
			onTrial(prev) != onTrial(d.rec))
		if all || !t.members.empty() {
			t.s.access.settle(t.st, d, &t.members, all)
		}
		if !t.addressed.empty() {
			t.s.addresses.settle(t.st, d.invites, &t.addressed)
		}
	}
	t.members, t.addressed = touched[member]{}, touched[invite.Invitation]{}
	settleSpace(t, &t.s.invites, &t.invites, t.st.d.invites, committed, tokenHash)
	settleSpace(t, &t.s.keys, &t.keys, t.st.d.keys, committed, nil)
}

// tokenHash is what the space of invitation IDs publishes of an
// invitation: a copy of its TokenHash.
func tokenHash(inv invite.Invitation) []byte { return bytes.Clone(inv.TokenHash) }

// settleSpace settles space sp, given the transaction's claims c on it
// and the records the organization now holds in it. On commit, every ID
// it reserved, dropped or changed is held by the organization if the
// organization now has that record (with what publish, if not nil, makes
// of the record), and by no one otherwise; on rollback, its reservations
// are released and committed entries are left as they were. The cost is
// proportional to the claims, not to the space.
func settleSpace[V any](t *tx, sp *idSpace, c *claims[V], have map[string]V, committed bool, publish func(V) []byte) {
	if len(c.reserved) == 0 && len(c.dropped) == 0 && len(c.changed) == 0 {
		return
	}
	defer func() { *c = claims[V]{} }()
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.ids == nil { // closed
		return
	}
	if !committed {
		for _, id := range c.reserved {
			if h, ok := sp.ids[id]; ok && h.tx == t {
				delete(sp.ids, id)
			}
		}
		return
	}
	settle := func(id string) {
		if v, ok := have[id]; ok {
			h := idHolder{st: t.st}
			if publish != nil {
				h.hash = publish(v)
			}
			sp.ids[id] = h
		} else if h, ok := sp.ids[id]; ok && h.st == t.st {
			delete(sp.ids, id)
		}
	}
	for _, id := range c.reserved {
		settle(id)
	}
	for _, id := range c.changed {
		settle(id)
	}
	for _, dropped := range c.dropped {
		for id := range dropped {
			settle(id)
		}
	}
}
