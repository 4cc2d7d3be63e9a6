package apikey_test

import (
	"testing"
	"time"

	"github.com/orgauthz/orgauthz/apikey"
	"github.com/orgauthz/orgauthz/role"
	"github.com/stretchr/testify/assert"
)

func TestStatusString(t *testing.T) {
	t.Parallel()
	cases := []struct {
		s    apikey.Status
		want string
	}{
		{apikey.Active, "active"},
		{apikey.Revoked, "revoked"},
		{apikey.Expired, "expired"},
		{0, "Status(0)"},
		{4, "Status(4)"},
		{255, "Status(255)"},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, c.s.String())
	}
}

func TestKeyStatusAt(t *testing.T) {
	t.Parallel()
	created := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	expires := created.Add(apikey.DefaultExpiry)
	revoked := created.Add(time.Hour)
	cases := []struct {
		name    string
		expires time.Time
		revoked time.Time
		now     time.Time
		want    apikey.Status
	}{
		{"at creation", expires, time.Time{}, created, apikey.Active},
		{"before creation", expires, time.Time{}, created.Add(-time.Hour), apikey.Active},
		{"a nanosecond before expiry", expires, time.Time{}, expires.Add(-1), apikey.Active},
		{"exactly at expiry", expires, time.Time{}, expires, apikey.Expired},
		{"exactly at expiry, in another zone", expires, time.Time{}, expires.In(time.FixedZone("X", 5*3600)), apikey.Expired},
		{"after expiry", expires, time.Time{}, expires.Add(time.Hour), apikey.Expired},
		{"no expiry set fails closed", time.Time{}, time.Time{}, created, apikey.Expired},
		{"revoked", expires, revoked, revoked.Add(time.Minute), apikey.Revoked},
		{"revoked, at the revocation", expires, revoked, revoked, apikey.Revoked},
		{"revoked wins over expired", expires, revoked, expires.Add(time.Hour), apikey.Revoked},
		{"revoked wins at exactly expiry", expires, revoked, expires, apikey.Revoked},
		{"revoked and no expiry", time.Time{}, revoked, created, apikey.Revoked},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			k := apikey.Key{ID: "k", CreatedAt: created, ExpiresAt: c.expires, RevokedAt: c.revoked}
			assert.Equal(t, c.want, k.StatusAt(c.now))
		})
	}
}

func TestKeyClone(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	k := apikey.Key{
		ID:        "abcdefghijklmnop",
		Name:      "ci",
		OwnerID:   "sp_1",
		Scope:     []role.Capability{"jobs:read", "jobs:create"},
		Hash:      []byte{1, 2, 3},
		Display:   "acme_…x7qa",
		CreatedBy: "u_1",
		CreatedAt: now,
		ExpiresAt: now.Add(apikey.DefaultExpiry),
	}
	c := k.Clone()
	assert.Equal(t, k, c)
	c.Scope[0] = "jobs:delete"
	c.Hash[0] = 9
	c.Scope = append(c.Scope, "x:y")
	assert.Equal(t, []role.Capability{"jobs:read", "jobs:create"}, k.Scope, "the clone shares the scope")
	assert.Equal(t, []byte{1, 2, 3}, k.Hash, "the clone shares the hash")

	var zero apikey.Key
	assert.Equal(t, zero, zero.Clone(), "nil stays nil")
	empty := apikey.Key{Scope: []role.Capability{}, Hash: []byte{}}
	assert.Equal(t, empty, empty.Clone(), "empty stays empty, not nil")
}
