package invite_test

import (
	"testing"
	"time"

	"github.com/orgauthz/orgauthz/invite"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStatusString(t *testing.T) {
	t.Parallel()
	cases := []struct {
		s    invite.Status
		want string
	}{
		{invite.Pending, "pending"},
		{invite.Accepted, "accepted"},
		{invite.Revoked, "revoked"},
		{invite.Declined, "declined"},
		{invite.Expired, "expired"},
		{0, "Status(0)"},
		{6, "Status(6)"},
		{255, "Status(255)"},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, c.s.String())
	}
}

func TestStatusAt(t *testing.T) {
	t.Parallel()
	expires := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	before := expires.Add(-time.Nanosecond)
	after := expires.Add(time.Hour)
	cases := []struct {
		name   string
		status invite.Status
		now    time.Time
		want   invite.Status
	}{
		{"pending before expiry", invite.Pending, before, invite.Pending},
		{"pending long before expiry", invite.Pending, expires.AddDate(0, 0, -7), invite.Pending},
		{"pending at expiry", invite.Pending, expires, invite.Expired},
		{"pending at expiry in another zone", invite.Pending, expires.In(time.FixedZone("UTC+2", 2*3600)), invite.Expired},
		{"pending after expiry", invite.Pending, after, invite.Expired},
		{"accepted before expiry", invite.Accepted, before, invite.Accepted},
		{"accepted after expiry", invite.Accepted, after, invite.Accepted},
		{"revoked before expiry", invite.Revoked, before, invite.Revoked},
		{"revoked after expiry", invite.Revoked, after, invite.Revoked},
		{"declined at expiry", invite.Declined, expires, invite.Declined},
		{"declined after expiry", invite.Declined, after, invite.Declined},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			inv := invite.Invitation{ID: invite.NewID(), Status: c.status, ExpiresAt: expires}
			assert.Equal(t, c.want, inv.StatusAt(c.now))
			assert.Equal(t, c.status, inv.Status, "StatusAt changed the record")
		})
	}
}

func TestClone(t *testing.T) {
	t.Parallel()
	tok, err := invite.NewToken(invite.NewID())
	require.NoError(t, err)
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	inv := invite.Invitation{
		ID: tok.ID(), Email: "alice@example.com", Role: "admin", Status: invite.Pending,
		TokenHash: tok.Hash(), InvitedBy: "bob", CreatedAt: now, ExpiresAt: now.Add(72 * time.Hour),
		UpdatedAt: now, Sends: 1,
	}
	c := inv.Clone()
	assert.Equal(t, inv, c)
	c.TokenHash[0] ^= 0xff
	assert.True(t, tok.Matches(inv.TokenHash), "the clone shares the original's TokenHash")
	assert.NotEqual(t, inv.TokenHash, c.TokenHash)

	inv.TokenHash[1] ^= 0xff
	assert.NotEqual(t, inv.TokenHash[1], c.TokenHash[1], "the original shares the clone's TokenHash")

	var empty invite.Invitation
	assert.Empty(t, empty.Clone().TokenHash)
}
