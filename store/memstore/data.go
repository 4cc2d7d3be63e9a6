package memstore

import (
	"bytes"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/orgauthz/orgauthz/apikey"
	"github.com/orgauthz/orgauthz/invite"
	"github.com/orgauthz/orgauthz/org"
)

// orgState is one organization's entry in the store: its lock and its
// data. An entry also exists, with no record, while an Update runs on an
// organization that does not exist yet; the Update removes it again (and
// marks it dead) if the organization does not exist when it ends.
type orgState struct {
	// mu is held exclusively by Update for the whole of fn, and shared by
	// View and Access.
	mu sync.RWMutex
	id string
	// dead marks an entry removed from the store's map: whoever locked it
	// after that looks the organization up again. Guarded by mu.
	dead bool
	// gen counts the changes made by Tx methods, so that a listing running
	// inside the same Tx notices them and finds its place again. Guarded by
	// mu.
	gen uint64
	// pub is the organization's record as last committed, for
	// Store.Organizations, which reads it without taking mu. Records are
	// never changed once stored: a change stores a new one.
	pub atomic.Pointer[org.Organization]
	// d is the data, guarded by mu.
	d orgData
	// handle is the organization's handle in the index of access (see
	// access.go), 0 while it has none. Guarded by mu.
	handle uint32
}

// orgData is everything an organization holds. When rec is nil the
// organization does not exist and every other field is empty.
type orgData struct {
	rec *org.Organization
	// members holds the members by principal ID, memberIDs their IDs in
	// order, and texts the name and address of each member that has
	// either (see member).
	members   map[string]member
	memberIDs sortedSet[string, byString]
	texts     map[string]memberText
	// byEmail maps the non-empty Email of each member that has one to its
	// principal ID (no two members share one); serviceIDs holds, in order,
	// the principal IDs of the members of kind org.ServicePrincipal.
	byEmail    map[string]string
	serviceIDs sortedSet[string, byString]
	counts     counts
	// scopes holds the scope resources; kinds their IDs in order, by kind;
	// byPrincipal the scope memberships of each principal, in order.
	scopes      map[scopeKey]*scopeState
	kinds       map[string]*sortedSet[string, byString]
	byPrincipal map[string]*sortedSet[scopeKey, byScope]
	audit       []org.AuditEvent
	// invites holds the invitations by ID, as stored, and inviteIDs their
	// IDs in order. pendingIDs holds, in order, the IDs of those whose
	// stored status is Pending, and pendingTo the ID of the Pending one of
	// each address that has one (there is at most one).
	invites    map[string]invite.Invitation
	inviteIDs  sortedSet[string, byString]
	pendingIDs sortedSet[string, byString]
	pendingTo  map[string]string
	// keys holds the API keys by ID, keyIDs their IDs in order, and
	// keysBy the IDs of each owner's keys, in order (an owner with none
	// has no entry).
	keys   map[string]*storedKey
	keyIDs sortedSet[string, byString]
	keysBy map[string]*sortedSet[string, byString]
}

// member is the compact form of org.Member, stored by value under its
// principal ID in the organization's map of members: no heap object of its
// own and no pointer, its role a handle into the process's table of names
// (see names), 16 bytes in all. A member's name and address, which most
// members do not have (service principals have a name, members who joined
// by invitation an address), are kept apart, in the organization's map of
// texts, so that the others do not carry two empty strings each.
type member struct {
	joined   int64  // JoinedAt in microseconds since the Unix epoch
	role     uint32 // a handle of interned
	kind     org.Kind
	external bool
	// texted marks a member with a name or an address, which has an entry
	// in orgData.texts; the others have none.
	texted bool
}

// memberText is the name and address of a member that has either.
type memberText struct {
	name  string
	email string // empty unless the member joined by invitation
}

// newMember returns the compact form of m and its name and address.
func newMember(m org.Member) (member, memberText) {
	t := memberText{name: m.Name, email: m.Email}
	return member{role: interned.intern(m.Role), joined: micros(m.JoinedAt), kind: m.Kind, external: m.External, texted: t != memberText{}}, t
}

// text returns the name and address of member id, whose record is m.
func (d *orgData) text(id string, m member) memberText {
	if !m.texted {
		return memberText{}
	}
	return d.texts[id]
}

// record returns member id, which must exist, as an org.Member.
func (d *orgData) record(id string) org.Member {
	m := d.members[id]
	t := d.text(id, m)
	return org.Member{PrincipalID: id, Kind: m.kind, Name: t.name, Role: interned.str(m.role), External: m.external, Email: t.email, JoinedAt: fromMicros(m.joined)}
}

// counts are the head counts, kept as members come and go.
type counts struct {
	members, external int
	roles             []roleCount // few: a scheme has a handful of roles
}

type roleCount struct {
	role uint32 // a handle of interned
	n    int
}

func (c *counts) add(m member, delta int) {
	if m.external {
		c.external += delta
	} else {
		c.members += delta
	}
	for i := range c.roles {
		if c.roles[i].role == m.role {
			c.roles[i].n += delta
			if c.roles[i].n == 0 {
				c.roles = slices.Delete(c.roles, i, i+1)
			}
			return
		}
	}
	c.roles = append(c.roles, roleCount{m.role, delta})
}

// scopeKey identifies a scope resource. Keys order by kind, then ID.
type scopeKey struct{ kind, id string }

type byScope struct{}

func (byScope) compare(a, b scopeKey) int {
	if c := strings.Compare(a.kind, b.kind); c != 0 {
		return c
	}
	return strings.Compare(a.id, b.id)
}

// scopeState is a scope resource with its members and custom roles.
type scopeState struct {
	rec       org.Scope
	members   map[string]scopeMember
	memberIDs sortedSet[string, byString]
	roles     map[string]org.ScopeRole
	roleIDs   sortedSet[string, byString]
}

// scopeMember is the compact form of org.ScopeMember, stored under its
// principal ID in its scope.
type scopeMember struct {
	role  string
	added int64 // AddedAt in microseconds since the Unix epoch
}

func (m scopeMember) record(k scopeKey, principalID string) org.ScopeMember {
	return org.ScopeMember{Kind: k.kind, ScopeID: k.id, PrincipalID: principalID, Role: m.role, AddedAt: fromMicros(m.added)}
}

// Member operations. They keep the map, the ordered IDs, the indexes by
// address and of service principals, and the counts in step, and are
// their own inverses for the undo log.

func (d *orgData) addMember(id string, m member, t memberText) {
	if d.members == nil {
		d.members = make(map[string]member)
	}
	d.members[id] = m
	d.putText(id, m, t)
	d.memberIDs.insert(id)
	d.indexMember(id, m, t)
	d.counts.add(m, 1)
}

func (d *orgData) setMember(id string, m member, t memberText) {
	old := d.members[id]
	d.counts.add(old, -1)
	d.unindexMember(id, old, d.text(id, old))
	d.members[id] = m
	d.putText(id, m, t)
	d.indexMember(id, m, t)
	d.counts.add(m, 1)
}

func (d *orgData) removeMember(id string) {
	old := d.members[id]
	d.counts.add(old, -1)
	d.unindexMember(id, old, d.text(id, old))
	delete(d.members, id)
	delete(d.texts, id)
	d.memberIDs.delete(id)
}

// putText keeps the name and address t of member id, whose record is m:
// an entry in texts if it has either, none otherwise.
func (d *orgData) putText(id string, m member, t memberText) {
	if !m.texted {
		delete(d.texts, id)
		return
	}
	if d.texts == nil {
		d.texts = make(map[string]memberText)
	}
	d.texts[id] = t
}

// indexMember puts member id, whose record is m and whose address is
// t.email, into the indexes by address and of service principals.
func (d *orgData) indexMember(id string, m member, t memberText) {
	if t.email != "" {
		if d.byEmail == nil {
			d.byEmail = make(map[string]string)
		}
		d.byEmail[t.email] = id
	}
	if m.kind == org.ServicePrincipal {
		d.serviceIDs.insert(id)
	}
}

// unindexMember takes member id, whose record is m and whose address is
// t.email, out of them.
func (d *orgData) unindexMember(id string, m member, t memberText) {
	if t.email != "" && d.byEmail[t.email] == id {
		delete(d.byEmail, t.email)
	}
	if m.kind == org.ServicePrincipal {
		d.serviceIDs.delete(id)
	}
}

// emailTaken reports the member other than id that has address email, if
// there is one: the address is not id's to take.
func (d *orgData) emailTaken(id, email string) (string, bool) {
	if email == "" {
		return "", false
	}
	other, ok := d.byEmail[email]
	return other, ok && other != id
}

// Scope operations.

// attachScope puts sc (with whatever members it holds) into the indexes.
func (d *orgData) attachScope(k scopeKey, sc *scopeState) {
	if d.scopes == nil {
		d.scopes = make(map[scopeKey]*scopeState)
		d.kinds = make(map[string]*sortedSet[string, byString])
	}
	d.scopes[k] = sc
	ids := d.kinds[k.kind]
	if ids == nil {
		ids = new(sortedSet[string, byString])
		d.kinds[k.kind] = ids
	}
	ids.insert(k.id)
	sc.memberIDs.each(func(p string) { d.indexScopeMember(k, p) })
}

// detachScope takes sc out of the indexes, leaving it intact.
func (d *orgData) detachScope(k scopeKey, sc *scopeState) {
	sc.memberIDs.each(func(p string) { d.unindexScopeMember(k, p) })
	delete(d.scopes, k)
	ids := d.kinds[k.kind]
	ids.delete(k.id)
	if ids.len() == 0 {
		delete(d.kinds, k.kind)
	}
}

func (d *orgData) indexScopeMember(k scopeKey, principalID string) {
	if d.byPrincipal == nil {
		d.byPrincipal = make(map[string]*sortedSet[scopeKey, byScope])
	}
	ks := d.byPrincipal[principalID]
	if ks == nil {
		ks = new(sortedSet[scopeKey, byScope])
		d.byPrincipal[principalID] = ks
	}
	ks.insert(k)
}

func (d *orgData) unindexScopeMember(k scopeKey, principalID string) {
	ks := d.byPrincipal[principalID]
	ks.delete(k)
	if ks.len() == 0 {
		delete(d.byPrincipal, principalID)
	}
}

func (d *orgData) putScopeMember(k scopeKey, sc *scopeState, principalID string, m scopeMember) {
	if sc.members == nil {
		sc.members = make(map[string]scopeMember)
	}
	if _, ok := sc.members[principalID]; !ok {
		sc.memberIDs.insert(principalID)
		d.indexScopeMember(k, principalID)
	}
	sc.members[principalID] = m
}

func (d *orgData) removeScopeMember(k scopeKey, sc *scopeState, principalID string) {
	delete(sc.members, principalID)
	sc.memberIDs.delete(principalID)
	d.unindexScopeMember(k, principalID)
}

func (sc *scopeState) putRole(r org.ScopeRole) {
	if sc.roles == nil {
		sc.roles = make(map[string]org.ScopeRole)
	}
	if _, ok := sc.roles[r.ID]; !ok {
		sc.roleIDs.insert(r.ID)
	}
	sc.roles[r.ID] = r
}

func (sc *scopeState) deleteRole(id string) {
	delete(sc.roles, id)
	sc.roleIDs.delete(id)
}

// Invitation operations. They keep the map, the ordered IDs and the
// Pending indexes in step.

// putInvitation adds inv, or replaces the invitation with its ID. Putting
// the old record back undoes a replacement.
func (d *orgData) putInvitation(inv invite.Invitation) {
	if old, ok := d.invites[inv.ID]; ok {
		d.unindexPending(old)
	} else {
		if d.invites == nil {
			d.invites = make(map[string]invite.Invitation)
		}
		d.inviteIDs.insert(inv.ID)
	}
	d.invites[inv.ID] = inv
	if inv.Status == invite.Pending {
		if d.pendingTo == nil {
			d.pendingTo = make(map[string]string)
		}
		d.pendingTo[inv.Email] = inv.ID
		d.pendingIDs.insert(inv.ID)
	}
}

// removeInvitation removes the invitation with ID id, which must exist.
func (d *orgData) removeInvitation(id string) {
	d.unindexPending(d.invites[id])
	delete(d.invites, id)
	d.inviteIDs.delete(id)
}

func (d *orgData) unindexPending(inv invite.Invitation) {
	if inv.Status != invite.Pending {
		return
	}
	delete(d.pendingTo, inv.Email)
	d.pendingIDs.delete(inv.ID)
}

// secondPending reports whether storing inv would give its address a
// second Pending invitation: it is Pending, and another invitation to the
// address is.
func (d *orgData) secondPending(inv invite.Invitation) bool {
	if inv.Status != invite.Pending {
		return false
	}
	id, ok := d.pendingTo[inv.Email]
	return ok && id != inv.ID
}

// storedKey is an API key as stored: its record (with a Scope and a Hash
// of its own, its times normalized), and its hash again as KeyAccess
// returns it, when the record's is 32 bytes long (hashOK), so that the
// hot path copies neither the record nor the hash slice. A Tx replaces a
// stored key, never changes it, so that undoing is putting the old one
// back; only TouchAPIKey changes one in place, under the organization's
// exclusive lock, when no Tx is running.
type storedKey struct {
	rec    apikey.Key
	hash   [keyHashLen]byte
	hashOK bool
}

// API key operations. They keep the map, the ordered IDs and the owners'
// indexes in step.

// putKey adds k, or replaces the key with its ID, moving it to its new
// owner's index if the owner changed. Putting the old one back undoes a
// replacement.
func (d *orgData) putKey(k *storedKey) {
	if old, ok := d.keys[k.rec.ID]; ok {
		if old.rec.OwnerID != k.rec.OwnerID {
			d.unindexKeyOwner(old.rec)
			d.indexKeyOwner(k.rec)
		}
	} else {
		if d.keys == nil {
			d.keys = make(map[string]*storedKey)
		}
		d.keyIDs.insert(k.rec.ID)
		d.indexKeyOwner(k.rec)
	}
	d.keys[k.rec.ID] = k
}

// removeKey removes the key with ID id, which must exist.
func (d *orgData) removeKey(id string) {
	d.unindexKeyOwner(d.keys[id].rec)
	delete(d.keys, id)
	d.keyIDs.delete(id)
}

func (d *orgData) indexKeyOwner(k apikey.Key) {
	if d.keysBy == nil {
		d.keysBy = make(map[string]*sortedSet[string, byString])
	}
	ids := d.keysBy[k.OwnerID]
	if ids == nil {
		ids = new(sortedSet[string, byString])
		d.keysBy[k.OwnerID] = ids
	}
	ids.insert(k.ID)
}

func (d *orgData) unindexKeyOwner(k apikey.Key) {
	ids := d.keysBy[k.OwnerID]
	ids.delete(k.ID)
	if ids.len() == 0 {
		delete(d.keysBy, k.OwnerID)
	}
}

// Copies in and out. Records go in by value with their maps and slices
// cloned and their times kept to the microsecond in UTC; they come out
// cloned again.

// normTime returns t truncated to the microsecond, in UTC.
func normTime(t time.Time) time.Time { return t.Truncate(time.Microsecond).UTC() }

// micros returns t in microseconds since the Unix epoch. The zero time
// round-trips: fromMicros(micros(time.Time{})) == time.Time{}.
func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

func orgIn(o org.Organization) *org.Organization {
	o = o.Clone()
	o.CreatedAt = normTime(o.CreatedAt)
	o.UpdatedAt = normTime(o.UpdatedAt)
	o.TrialEndsAt = normTime(o.TrialEndsAt)
	o.TrialStartedAt = normTime(o.TrialStartedAt)
	return &o
}

func scopeIn(s org.Scope) org.Scope {
	s.CreatedAt = normTime(s.CreatedAt)
	return s
}

// invitationIn returns inv as stored: with a TokenHash of its own and its
// times normalized.
func invitationIn(inv invite.Invitation) invite.Invitation {
	inv.TokenHash = bytes.Clone(inv.TokenHash)
	inv.CreatedAt = normTime(inv.CreatedAt)
	inv.ExpiresAt = normTime(inv.ExpiresAt)
	inv.UpdatedAt = normTime(inv.UpdatedAt)
	return inv
}

// invitationOut returns a stored invitation with a TokenHash of its own.
func invitationOut(inv invite.Invitation) invite.Invitation {
	inv.TokenHash = bytes.Clone(inv.TokenHash)
	return inv
}

// keyIn returns k as stored: with a Scope and a Hash of its own (no Scope
// at all when it is empty) and its times normalized.
func keyIn(k apikey.Key) *storedKey {
	k = k.Clone()
	if len(k.Scope) == 0 {
		k.Scope = nil
	}
	k.CreatedAt = normTime(k.CreatedAt)
	k.ExpiresAt = normTime(k.ExpiresAt)
	k.RevokedAt = normTime(k.RevokedAt)
	k.LastUsedAt = normTime(k.LastUsedAt)
	sk := &storedKey{rec: k, hashOK: len(k.Hash) == keyHashLen}
	copy(sk.hash[:], k.Hash)
	return sk
}

// keyOut returns a stored key's record with a Scope and a Hash of its own.
func keyOut(k *storedKey) apikey.Key { return k.rec.Clone() }

func scopeRoleIn(r org.ScopeRole) org.ScopeRole {
	r = r.Clone()
	r.CreatedAt = normTime(r.CreatedAt)
	return r
}
