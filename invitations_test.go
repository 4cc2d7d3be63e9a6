package orgauthz_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/orgauthz/orgauthz"
	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/invite"
	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/store"
	"github.com/orgauthz/orgauthz/store/memstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestInviteAndAccept(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.newOrg(t, "wherobots", "professional")

	inv, tok, err := f.svc.Invite(ctx, id, "creator", "  Bob@Example.COM ", "")
	require.NoError(t, err)
	assert.Equal(t, "bob@example.com", inv.Email, "normalized")
	assert.Equal(t, "user", inv.Role, "the scheme's default invitation role")
	assert.Equal(t, invite.Pending, inv.Status)
	assert.Equal(t, f.clock.Now().Add(7*24*time.Hour), inv.ExpiresAt, "7 days by default")
	assert.Nil(t, inv.TokenHash, "the service never shows the hash")
	assert.Equal(t, inv.ID, tok.ID())

	m, _, err := f.svc.AcceptInvitation(ctx, tok.Reveal(), user("bob"), "bob@example.com")
	require.NoError(t, err)
	assert.Equal(t, "user", m.Role)
	assert.True(t, f.svc.Check(ctx, id, "bob", "job_runs:create").Allowed)

	// Accepting twice changes nothing and never makes a second membership.
	_, _, err = f.svc.AcceptInvitation(ctx, tok.Reveal(), user("bob"), "bob@example.com")
	assert.ErrorIs(t, err, orgauthz.ErrInvitationAccepted)
	_, _, err = f.svc.AcceptInvitation(ctx, tok.Reveal(), user("bob2"), "bob@example.com")
	assert.ErrorIs(t, err, orgauthz.ErrInvitationAccepted)
	assert.Equal(t, "", f.role(t, id, "bob2"))
	assert.Equal(t, 2, counts(t, f, id).Members)

	page, err := f.svc.Invitations(ctx, id, "creator", orgauthz.Page{}, false)
	require.NoError(t, err)
	require.Len(t, page.Invitations, 1)
	assert.Equal(t, invite.Accepted, page.Invitations[0].Status)
	assert.Equal(t, "bob", page.Invitations[0].AcceptedBy)
	assert.Nil(t, page.Invitations[0].TokenHash)

	// The audit trail has every step and never the token.
	events, err := f.svc.Audit(ctx, id, "creator", orgauthz.AuditQuery{})
	require.NoError(t, err)
	var actions []string
	for _, e := range events {
		actions = append(actions, e.Action)
	}
	assert.Equal(t, []string{orgauthz.AuditOrganizationCreate, orgauthz.AuditInvitationCreate, orgauthz.AuditMemberAdd, orgauthz.AuditInvitationAccept}, actions)
	var all strings.Builder
	require.NoError(t, f.svc.ExportAudit(ctx, id, "creator", orgauthz.AuditQuery{}, &all))
	secret := tok.Reveal()[strings.LastIndex(tok.Reveal(), "_")+1:]
	assert.NotContains(t, all.String(), secret)
	assert.NotContains(t, all.String(), tok.Reveal())
}

func TestInviteRules(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	so := f.newOrg(t, "soterai", "starter", "max", "manager")
	up := f.newOrg(t, "uipath", "", "ann", "administrator")
	w := f.newOrg(t, "wherobots", "community", "bob", "user")

	_, _, err := f.svc.Invite(ctx, so, "creator", "a@example.com", "")
	assert.ErrorIs(t, err, orgauthz.ErrEditionGated, "no member role outside enterprise, and no fallback")
	_, _, err = f.svc.Invite(ctx, so, "creator", "a@example.com", "member")
	assert.ErrorIs(t, err, orgauthz.ErrEditionGated)
	_, _, err = f.svc.Invite(ctx, so, "max", "a@example.com", "owner")
	assert.ErrorIs(t, err, orgauthz.ErrPermissionDenied, "managers never invite owners")
	_, _, err = f.svc.Invite(ctx, so, "max", "a@example.com", "manager")
	assert.NoError(t, err)
	_, _, err = f.svc.Invite(ctx, up, "ann", "o@example.com", "owner")
	assert.ErrorIs(t, err, orgauthz.ErrImmutableRole, "the owner role is never given")
	_, _, err = f.svc.Invite(ctx, w, "bob", "c@example.com", "user")
	assert.ErrorIs(t, err, orgauthz.ErrPermissionDenied, "users invite nobody")
	for _, bad := range []string{"", "no-at-sign", "a@b", "two@@example.com", "sp ace@example.com", "ü@example.com"} {
		_, _, err = f.svc.Invite(ctx, w, "creator", bad, "user")
		assert.ErrorIs(t, err, orgauthz.ErrInvalidEmail, "%q", bad)
	}
	_, _, err = f.svc.Invite(ctx, w, "creator", "x@example.com", "ghost")
	assert.ErrorIs(t, err, orgauthz.ErrUnknownRole)
	page, err := f.svc.Invitations(ctx, w, "creator", orgauthz.Page{}, true)
	require.NoError(t, err)
	assert.Empty(t, page.Invitations, "no refused invitation was written")
	_, err = f.svc.Invitations(ctx, w, "bob", orgauthz.Page{}, true)
	assert.ErrorIs(t, err, orgauthz.ErrPermissionDenied)
}

func TestPendingInvitationsHoldSeats(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.newOrg(t, "wherobots", "community", "u1", "user", "u2", "user", "u3", "user")
	inv, _, err := f.svc.Invite(ctx, id, "creator", "five@example.com", "user")
	require.NoError(t, err)
	_, _, err = f.svc.Invite(ctx, id, "creator", "six@example.com", "user")
	require.ErrorIs(t, err, orgauthz.ErrSeatLimit, "the pending invitation holds the fifth seat")
	_, err = f.svc.Host().Provision(ctx, id, user("u4"), "user")
	require.ErrorIs(t, err, orgauthz.ErrSeatLimit)

	// Revoking frees the seat.
	require.NoError(t, f.svc.RevokeInvitation(ctx, id, "creator", inv.ID))
	_, _, err = f.svc.Invite(ctx, id, "creator", "six@example.com", "user")
	require.NoError(t, err)
	// An expired invitation holds no seat.
	f.clock.Advance(7*24*time.Hour + time.Second)
	_, err = f.svc.Host().Provision(ctx, id, user("u4"), "user")
	require.NoError(t, err)
}

func TestInvitationLifecycle(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.newOrg(t, "wherobots", "professional")
	inv, tok, err := f.svc.Invite(ctx, id, "creator", "eve@example.com", "user")
	require.NoError(t, err)

	// Expired: refused with its own error, and nothing changes.
	f.clock.Advance(7 * 24 * time.Hour)
	_, _, err = f.svc.AcceptInvitation(ctx, tok.Reveal(), user("eve"), "eve@example.com")
	require.ErrorIs(t, err, orgauthz.ErrInvitationExpired)
	page, err := f.svc.Invitations(ctx, id, "creator", orgauthz.Page{}, true)
	require.NoError(t, err)
	require.Len(t, page.Invitations, 1)
	assert.Equal(t, invite.Expired, page.Invitations[0].Status)

	// Resend rotates the token and extends the expiry.
	again, tok2, err := f.svc.ResendInvitation(ctx, id, "creator", inv.ID)
	require.NoError(t, err)
	assert.Equal(t, inv.ID, again.ID)
	assert.Equal(t, 2, again.Sends)
	assert.Equal(t, f.clock.Now().Add(7*24*time.Hour), again.ExpiresAt)
	assert.NotEqual(t, tok.Reveal(), tok2.Reveal())
	_, _, err = f.svc.AcceptInvitation(ctx, tok.Reveal(), user("eve"), "eve@example.com")
	assert.ErrorIs(t, err, orgauthz.ErrInvalidToken, "the old token stops working")

	// Decline; then accept is refused, and so is a resend.
	require.NoError(t, f.svc.DeclineInvitation(ctx, tok2.Reveal(), org.Principal{}))
	_, _, err = f.svc.AcceptInvitation(ctx, tok2.Reveal(), user("eve"), "eve@example.com")
	assert.ErrorIs(t, err, orgauthz.ErrInvitationDeclined)
	_, _, err = f.svc.ResendInvitation(ctx, id, "creator", inv.ID)
	assert.ErrorIs(t, err, orgauthz.ErrInvitationDeclined)
	assert.ErrorIs(t, f.svc.DeclineInvitation(ctx, tok2.Reveal(), org.Principal{}), orgauthz.ErrInvitationDeclined)

	// Revoked.
	_, tok3, err := f.svc.Invite(ctx, id, "creator", "eve@example.com", "user")
	require.NoError(t, err)
	inv3, err := f.svc.Invitations(ctx, id, "creator", orgauthz.Page{}, true)
	require.NoError(t, err)
	require.Len(t, inv3.Invitations, 1)
	require.NoError(t, f.svc.RevokeInvitation(ctx, id, "creator", inv3.Invitations[0].ID))
	_, _, err = f.svc.AcceptInvitation(ctx, tok3.Reveal(), user("eve"), "eve@example.com")
	assert.ErrorIs(t, err, orgauthz.ErrInvitationRevoked)
	assert.ErrorIs(t, f.svc.RevokeInvitation(ctx, id, "creator", inv3.Invitations[0].ID), orgauthz.ErrInvitationRevoked)
	assert.ErrorIs(t, f.svc.RevokeInvitation(ctx, id, "creator", "nosuchinvitation"), orgauthz.ErrNotFound)
	assert.Equal(t, "", f.role(t, id, "eve"), "eve never joined")
}

func TestAcceptRefusals(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.newOrg(t, "wherobots", "professional", "bob", "user")
	_, tok, err := f.svc.Invite(ctx, id, "creator", "carol@example.com", "user")
	require.NoError(t, err)

	// An unknown invitation and a wrong secret fail alike.
	other, err := invite.NewToken(invite.NewID())
	require.NoError(t, err)
	wrong, err := invite.NewToken(tok.ID())
	require.NoError(t, err)
	_, _, errUnknown := f.svc.AcceptInvitation(ctx, other.Reveal(), user("carol"), "carol@example.com")
	_, _, errWrong := f.svc.AcceptInvitation(ctx, wrong.Reveal(), user("carol"), "carol@example.com")
	require.ErrorIs(t, errUnknown, orgauthz.ErrInvalidToken)
	require.ErrorIs(t, errWrong, orgauthz.ErrInvalidToken)
	assert.Equal(t, errUnknown.Error(), errWrong.Error(), "an attacker cannot tell which")
	_, _, err = f.svc.AcceptInvitation(ctx, "garbage", user("carol"), "carol@example.com")
	assert.ErrorIs(t, err, orgauthz.ErrInvalidToken)
	assert.NotContains(t, err.Error(), "garbage")

	// The verified address must be the one invited.
	_, _, err = f.svc.AcceptInvitation(ctx, tok.Reveal(), user("mallory"), "mallory@example.com")
	assert.ErrorIs(t, err, orgauthz.ErrEmailMismatch)
	// A member already is refused, and the invitation stays pending.
	_, _, err = f.svc.AcceptInvitation(ctx, tok.Reveal(), user("bob"), "carol@example.com")
	assert.ErrorIs(t, err, orgauthz.ErrAlreadyMember)
	m, _, err := f.svc.AcceptInvitation(ctx, tok.Reveal(), user("carol"), "CAROL@example.com")
	require.NoError(t, err)
	assert.Equal(t, "user", m.Role)
}

func TestAcceptAnyAddressOption(t *testing.T) {
	t.Parallel()
	st := memstore.New()
	svc, err := orgauthz.New(st, orgauthz.Options{Schemes: []*edition.Scheme{edition.Wherobots()}, AcceptAnyAddress: true, InvitationTTL: time.Hour})
	require.NoError(t, err)
	o, err := svc.CreateOrganization(ctx, user("ada"), orgauthz.NewOrganization{Name: "A", Edition: "professional"})
	require.NoError(t, err)
	inv, tok, err := svc.Invite(ctx, o.ID, "ada", "bob@example.com", "user")
	require.NoError(t, err)
	assert.Equal(t, time.Hour, inv.ExpiresAt.Sub(inv.CreatedAt))
	_, _, err = svc.AcceptInvitation(ctx, tok.Reveal(), user("bob"), "")
	assert.NoError(t, err)

	for _, ttl := range []time.Duration{time.Minute, 31 * 24 * time.Hour, -time.Hour} {
		_, err := orgauthz.New(st, orgauthz.Options{Schemes: []*edition.Scheme{edition.Wherobots()}, InvitationTTL: ttl})
		assert.ErrorIs(t, err, orgauthz.ErrInvalidArgument, "%v", ttl)
	}
}

// A second invitation to an address supersedes the pending one, when the
// actor could have made it.
func TestSecondInvitationSupersedes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.newOrg(t, "soterai", "enterprise", "max", "manager")
	first, tok1, err := f.svc.Invite(ctx, id, "max", "x@example.com", "member")
	require.NoError(t, err)
	second, tok2, err := f.svc.Invite(ctx, id, "max", "X@example.com", "manager")
	require.NoError(t, err)
	assert.NotEqual(t, first.ID, second.ID)
	_, _, err = f.svc.AcceptInvitation(ctx, tok1.Reveal(), user("x"), "x@example.com")
	assert.ErrorIs(t, err, orgauthz.ErrInvitationRevoked, "the first token is dead")
	m, _, err := f.svc.AcceptInvitation(ctx, tok2.Reveal(), user("x"), "x@example.com")
	require.NoError(t, err)
	assert.Equal(t, "manager", m.Role)

	// A manager may not replace an owner's invitation to an owner.
	_, _, err = f.svc.Invite(ctx, id, "creator", "y@example.com", "owner")
	require.NoError(t, err)
	_, _, err = f.svc.Invite(ctx, id, "max", "y@example.com", "member")
	assert.ErrorIs(t, err, orgauthz.ErrPermissionDenied)
}

func TestBulkInvite(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.newOrg(t, "wherobots", "community", "u1", "user")
	res, err := f.svc.BulkInvite(ctx, id, "creator", []string{"a@example.com", "bad", "b@example.com", "c@example.com", "d@example.com"}, "user")
	require.NoError(t, err)
	require.Len(t, res, 5)
	assert.NoError(t, res[0].Err)
	assert.ErrorIs(t, res[1].Err, orgauthz.ErrInvalidEmail)
	assert.NoError(t, res[2].Err)
	assert.NoError(t, res[3].Err)
	assert.ErrorIs(t, res[4].Err, orgauthz.ErrSeatLimit, "five seats: two members and three invitations")
	assert.False(t, res[0].Token.IsZero())
	assert.True(t, res[1].Token.IsZero())

	many := make([]string, 21)
	for i := range many {
		many[i] = fmt.Sprintf("p%d@example.com", i)
	}
	_, err = f.svc.BulkInvite(ctx, id, "creator", many, "user")
	assert.ErrorIs(t, err, orgauthz.ErrInvalidArgument)
}

// TestNoSecretIsStored scans every stored record after issuing
// invitations: no token and no secret appears in any of them.
func TestNoSecretIsStored(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.newOrg(t, "wherobots", "professional")
	var secrets []string
	for i := range 5 {
		_, tok, err := f.svc.Invite(ctx, id, "creator", fmt.Sprintf("p%d@example.com", i), "user")
		require.NoError(t, err)
		secrets = append(secrets, tok.Reveal())
		if i%2 == 0 {
			_, tok, err = f.svc.ResendInvitation(ctx, id, "creator", tok.ID())
			require.NoError(t, err)
			secrets = append(secrets, tok.Reveal())
		}
	}
	sch, _ := f.svc.Scheme("wherobots")
	var dump strings.Builder
	fmt.Fprintf(&dump, "%+v", takeSnapshot(t, f.st, sch, id, 0))
	require.NoError(t, f.st.View(ctx, id, func(ctx context.Context, r store.Reader) error {
		for inv, err := range r.Invitations(ctx, "", false) {
			if err != nil {
				return err
			}
			fmt.Fprintf(&dump, "%+v %x\n", inv, inv.TokenHash)
		}
		for e, err := range r.Audit(ctx, store.AuditFilter{}) {
			if err != nil {
				return err
			}
			fmt.Fprintf(&dump, "%+v\n", e)
		}
		return nil
	}))
	require.Greater(t, dump.Len(), 500, "the dump has the records")
	for _, s := range secrets {
		secret := s[strings.LastIndex(s, "_")+1:]
		assert.NotContains(t, dump.String(), secret)
	}
}
