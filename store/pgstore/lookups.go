package pgstore

import (
	"context"
	"errors"
	"fmt"
	"iter"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/store"
)

// The lookups across organizations: a principal's organizations, and the
// invitations to an address. Each page is one statement on the pool, which
// reads what was last committed (and waits for no Update); like every
// listing, a page holds up to 256 rows, so that a caller taking a page of
// fewer costs one statement.

// poolList is listing over the pool, for the listings of Store, described
// by what ("listing organizations").
func poolList[T any](ctx context.Context, s *Store, what string, scan pgx.RowToFunc[T], query string, after func(last *T) []any) iter.Seq2[T, error] {
	check := func(ctx context.Context) error {
		if s.closed.Load() {
			return errClosed("%s", what)
		}
		return ctx.Err()
	}
	return listing(ctx, check, func() querier { return readQuerier{s} }, scan,
		func(err error) error { return s.fail(ctx, err, "%s", what) }, query, after)
}

// membershipColumns are the columns of an org.Membership: the
// organization's ID (the member's org_id, which the listing orders by),
// name, scheme, edition and archived, then the member's role, external and
// joined_at.
const membershipColumns = `m.org_id, o.name, o.scheme, o.edition, o.archived, m.role, m.external, m.joined_at`

// membershipsQuery lists a principal's memberships, by organization ID:
// index members_principal (principal_id, org_id) gives them in order, and
// each finds its organization by primary key, so that a page costs the
// same however many organizations and members there are. It selects only
// the columns of an org.Membership (membershipColumns, in its order), not
// the organizations' settings nor the members' other columns.
var membershipsQuery = `SELECT ` + membershipColumns + `
	FROM orgauthz.members m
	JOIN orgauthz.organizations o ON o.id = m.org_id
	WHERE m.principal_id = $1 AND m.org_id > $2
	ORDER BY m.org_id LIMIT 256`

func scanMembership(row pgx.CollectableRow) (org.Membership, error) {
	var m org.Membership
	var joined pgtype.Timestamptz
	err := row.Scan(&m.OrgID, &m.OrgName, &m.Scheme, &m.Edition, &m.Archived, &m.Role, &m.External, &joined)
	m.JoinedAt = tsOut(joined)
	return m, err
}

// Memberships lists the organizations principal principalID belongs to,
// with its standing in each, ordered by organization ID, as last
// committed; see store.Store. Each page is read in a statement of its own.
func (s *Store) Memberships(ctx context.Context, principalID, after string) iter.Seq2[org.Membership, error] {
	return poolList(ctx, s, fmt.Sprintf("listing the memberships of %q", principalID), scanMembership, membershipsQuery,
		func(last *org.Membership) []any {
			if last != nil {
				after = last.OrgID
			}
			return []any{principalID, after}
		})
}

// invitationsToQuery lists the Pending (status 1, invite.Pending)
// invitations to an address with their organizations, by invitation ID,
// through index invitations_pending_to (email, id) WHERE status = 1, whose
// predicate it repeats as a literal so that a generic plan of the prepared
// statement uses it too.
var invitationsToQuery = `SELECT ` + qualify("o", orgColumns) + `, ` + qualify("i", invitationColumns) + `
	FROM orgauthz.invitations i
	JOIN orgauthz.organizations o ON o.id = i.org_id
	WHERE i.email = $1 AND i.status = 1 AND i.id > $2
	ORDER BY i.id LIMIT 256`

func scanAddressedInvitation(row pgx.CollectableRow) (store.AddressedInvitation, error) {
	var o orgRow
	var inv invitationRow
	err := row.Scan(append(o.dest(), inv.dest()...)...)
	return store.AddressedInvitation{Organization: o.value(), Invitation: inv.value()}, err
}

// InvitationsTo lists the Pending invitations to address email (compared
// byte for byte), across organizations, with their organizations, ordered
// by invitation ID, as last committed; see store.Store. Each page is read
// in a statement of its own.
func (s *Store) InvitationsTo(ctx context.Context, email, after string) iter.Seq2[store.AddressedInvitation, error] {
	return poolList(ctx, s, fmt.Sprintf("listing the invitations to %q", email), scanAddressedInvitation, invitationsToQuery,
		func(last *store.AddressedInvitation) []any {
			if last != nil {
				after = last.Invitation.ID
			}
			return []any{email, after}
		})
}

// findInvitationQuery reads an invitation with its organization, by the
// invitation's ID alone (index invitations_id, unique across the store).
var findInvitationQuery = `SELECT ` + qualify("o", orgColumns) + `, ` + qualify("i", invitationColumns) + `
	FROM orgauthz.invitations i
	JOIN orgauthz.organizations o ON o.id = i.org_id
	WHERE i.id = $1`

// FindInvitation returns invitation id with its organization, as last
// committed, in one statement; see store.InvitationFinder.
func (s *Store) FindInvitation(ctx context.Context, id string) (store.AddressedInvitation, error) {
	if s.closed.Load() {
		return store.AddressedInvitation{}, errClosed("invitation %q", id)
	}
	rows, _ := readQuerier{s}.Query(ctx, findInvitationQuery, id)
	ai, err := pgx.CollectExactlyOneRow(rows, scanAddressedInvitation)
	if errors.Is(err, pgx.ErrNoRows) && s.replicas != nil {
		// A standby may not have replayed an invitation another Store
		// just made: absence is the primary's to say.
		rows, _ := s.pool.Query(ctx, findInvitationQuery, id)
		ai, err = pgx.CollectExactlyOneRow(rows, scanAddressedInvitation)
	}
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return store.AddressedInvitation{}, fmt.Errorf("pgstore: invitation %q: %w", id, store.ErrNotFound)
	case err != nil:
		return store.AddressedInvitation{}, s.fail(ctx, err, "invitation %q", id)
	}
	return ai, nil
}

var _ store.InvitationFinder = (*Store)(nil)
