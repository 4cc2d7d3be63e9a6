package memstore

import (
	"context"

	"github.com/orgauthz/orgauthz/store"
)

// ScopeAccess returns what a scope permission check needs to know about
// principalID and scope resource (kind, scopeID) in orgID, as last
// committed, from memory, under one shared hold of the organization's
// lock (so it waits for a running Update of the organization, and sees
// all of it or none): the principal's Access, whether the resource
// exists, the principal's explicit role there, and the capabilities of
// that role when it is a custom role of the resource.
//
// It allocates nothing. A missing organization or member is
// store.ErrOrganizationNotFound or store.ErrMemberNotFound itself,
// unwrapped, and the custom role's Capabilities are the stored slice,
// shared read-only, as the contract allows: a change of the role stores
// a copy of the new record, never changing the old slice.
func (s *Store) ScopeAccess(ctx context.Context, orgID, principalID, kind, scopeID string) (store.ScopeAccess, error) {
	if err := ctx.Err(); err != nil {
		return store.ScopeAccess{}, err
	}
	for {
		st, err := s.lookup(orgID)
		if err != nil {
			return store.ScopeAccess{}, err
		}
		if st == nil {
			return store.ScopeAccess{}, store.ErrOrganizationNotFound
		}
		st.mu.RLock()
		if st.dead {
			st.mu.RUnlock()
			continue
		}
		sa, err := scopeAccess(&st.d, principalID, kind, scopeID)
		st.mu.RUnlock()
		return sa, err
	}
}

// scopeAccess reads ScopeAccess from d, whose organization's lock is
// held.
func scopeAccess(d *orgData, principalID, kind, scopeID string) (store.ScopeAccess, error) {
	o := d.rec
	if o == nil {
		return store.ScopeAccess{}, store.ErrOrganizationNotFound
	}
	m, ok := d.members[principalID]
	if !ok {
		return store.ScopeAccess{}, store.ErrMemberNotFound
	}
	sa := store.ScopeAccess{Access: store.Access{
		Scheme: o.Scheme, Edition: o.Edition, TrialEdition: o.TrialEdition, TrialEndsAt: o.TrialEndsAt,
		Archived: o.Archived, Role: interned.str(m.role), Kind: m.kind, External: m.external,
	}}
	sc := d.scopes[scopeKey{kind, scopeID}]
	if sc == nil {
		return sa, nil
	}
	sa.ScopeFound = true
	sm, ok := sc.members[principalID]
	if !ok {
		return sa, nil
	}
	sa.ScopeMember, sa.ScopeRole = true, sm.role
	if r, ok := sc.roles[sm.role]; ok {
		sa.CustomRole, sa.Capabilities = true, r.Capabilities
	}
	return sa, nil
}
