package orgauthz

import (
	"context"

	"github.com/orgauthz/orgauthz/invite"
	"github.com/orgauthz/orgauthz/store"
)

// This file names, for each operation, the reads it is about to make, so
// that a store that pays a round trip per statement (pgstore over a
// network) makes them together: in the round trip that begins the
// transaction (store.UpdateWith, store.ViewWith), or in one more before a
// cascade (store.Prefetch). A hint changes no result: a read it misses is
// made when it is needed, one round trip later; a read it names that is
// not made costs a little of the batch.

// hintPage is how many entries of a listing a hint reads ahead: a page.
const hintPage = 256

// reads names reads of an organization; nil names none.
type reads func(ctx context.Context, r store.Reader)

// and returns reads that makes both a's reads and b's.
func (a reads) and(b reads) reads {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	return func(ctx context.Context, r store.Reader) {
		a(ctx, r)
		b(ctx, r)
	}
}

// first makes one listing record its first page.
func first[T any](seq func(yield func(T, error) bool)) {
	for range seq {
		break
	}
}

// readsMember names member principalID.
func readsMember(principalID string) reads {
	return func(ctx context.Context, r store.Reader) { _, _ = r.Member(ctx, principalID) }
}

// readsCounts names what counts reads: the head counts and the pending
// invitations' count (at a time no later than the one counts asks at).
func (s *Service) readsCounts(ctx context.Context, r store.Reader) {
	_, _ = r.Counts(ctx)
	_, _ = store.CountPending(ctx, r, s.now())
}

// readsMemberChange names what a change of member principalID's role or
// membership reads, its cascades included: the member, the counts, its
// scope memberships, its API keys and the pending invitations (which it
// may have sent).
func (s *Service) readsMemberChange(principalID string) reads {
	return func(ctx context.Context, r store.Reader) {
		_, _ = r.Member(ctx, principalID)
		s.readsCounts(ctx, r)
		first(r.PrincipalScopes(ctx, principalID))
		first(r.APIKeys(ctx, principalID, ""))
		first(r.Invitations(ctx, "", true))
	}
}

// hinted runs reads on r through store.Prefetch.
func hinted(ctx context.Context, r store.Reader, rs reads) error {
	if rs == nil {
		return nil
	}
	return store.Prefetch(ctx, r, func(r store.Reader) { rs(ctx, r) })
}

// forStore turns reads into the function store.UpdateWith takes.
func (a reads) forStore(ctx context.Context) func(r store.Reader) {
	if a == nil {
		return nil
	}
	return func(r store.Reader) { a(ctx, r) }
}

// readsScope names scope resource (kind, id), its members (first page)
// and the memberships of the given principals there.
func readsScope(kind, id string, principals ...string) reads {
	return func(ctx context.Context, r store.Reader) {
		_, _ = r.Scope(ctx, kind, id)
		for _, p := range principals {
			_, _ = r.ScopeMember(ctx, kind, id, p)
		}
		first(r.ScopeMembers(ctx, kind, id, ""))
	}
}

// readsAddress names what inviting or admitting address addr reads: the
// member who joined with it, and its pending invitation.
func readsAddress(addr string) reads {
	return func(ctx context.Context, r store.Reader) {
		_, _ = r.MemberByEmail(ctx, addr)
		_, _ = r.PendingInvitation(ctx, addr)
	}
}

// readsEditionChange names what an edition change reads before its
// cascades: the counts, the service principals and the members.
func (s *Service) readsEditionChange(ctx context.Context, r store.Reader) {
	s.readsCounts(ctx, r)
	readsServicePrincipals(ctx, r)
	first(r.Members(ctx, ""))
	first(r.Invitations(ctx, "", true))
}

// pendingInviters returns the inviters of the first pending invitations
// r lists (a page's worth: it is a hint), each once.
func pendingInviters(ctx context.Context, r store.Reader) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	n := 0
	for inv, err := range r.Invitations(ctx, "", true) {
		if err != nil {
			return nil, err
		}
		if n++; n > hintPage {
			break
		}
		if !seen[inv.InvitedBy] {
			seen[inv.InvitedBy] = true
			out = append(out, inv.InvitedBy)
		}
	}
	return out, nil
}

// readsAPIKey names API key id.
func readsAPIKey(id string) reads {
	return func(ctx context.Context, r store.Reader) { _, _ = r.APIKey(ctx, id) }
}

// readsServicePrincipals names the first page of the service principals.
func readsServicePrincipals(ctx context.Context, r store.Reader) { first(r.ServicePrincipals(ctx, "")) }

// readsInvitation names invitation id (with its inviter, which a store
// may read along).
func readsInvitation(id string) reads {
	return func(ctx context.Context, r store.Reader) { _, _ = r.Invitation(ctx, id) }
}

// readsAccept names what accepting invitation id by principal p, at
// address email, reads: the invitation and its inviter, the principal,
// the member who joined with the address, and the counts.
func (s *Service) readsAccept(id, p, email string) reads {
	return func(ctx context.Context, r store.Reader) {
		_, _ = r.Invitation(ctx, id)
		_, _ = r.Member(ctx, p)
		if addr, err := invite.NormalizeEmail(email); err == nil {
			_, _ = r.MemberByEmail(ctx, addr)
		}
		_, _ = r.Counts(ctx)
	}
}

// readsScopeRole names custom role roleID of scope resource (kind, id),
// if roleID is not "" (a built-in role is read from no store, and costs
// the batch one read that finds nothing).
func readsScopeRole(kind, id, roleID string) reads {
	if roleID == "" {
		return nil
	}
	return func(ctx context.Context, r store.Reader) { _, _ = r.ScopeRole(ctx, kind, id, roleID) }
}
