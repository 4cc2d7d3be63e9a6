package policy_test

import (
	"testing"

	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/policy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckChange(t *testing.T) {
	t.Parallel()
	w, up, so := edition.Wherobots(), edition.UiPath(), edition.SoterAI()
	holders := func(kv ...any) map[string]int {
		m := map[string]int{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1].(int)
		}
		return m
	}
	tests := []struct {
		name     string
		s        *edition.Scheme
		ed       string
		override int
		c        policy.Counts
		ch       policy.Change
		errs     []error
		says     string
	}{
		{"community: fifth seat", w, "community", 0, policy.Counts{Seats: 4, Holders: holders("admin", 1, "user", 3)}, policy.Change{Seats: 1, Gain: "user"}, nil, ""},
		{"community: sixth seat", w, "community", 0, policy.Counts{Seats: 5, Holders: holders("admin", 1, "user", 4)}, policy.Change{Seats: 1, Gain: "user"},
			[]error{policy.ErrInvariant, policy.ErrSeatLimit}, `edition "community" allows 5 seats and 5 are in use`},
		{"community: override ignored (fixed)", w, "community", 50, policy.Counts{Seats: 5}, policy.Change{Seats: 1},
			[]error{policy.ErrSeatLimit}, "allows 5 seats"},
		{"professional: default 10", w, "professional", 0, policy.Counts{Seats: 10}, policy.Change{Seats: 1},
			[]error{policy.ErrSeatLimit}, "allows 10 seats"},
		{"professional: override 12 admits the 11th", w, "professional", 12, policy.Counts{Seats: 10}, policy.Change{Seats: 1}, nil, ""},
		{"professional: override 12 refuses the 13th", w, "professional", 12, policy.Counts{Seats: 12}, policy.Change{Seats: 1},
			[]error{policy.ErrSeatLimit}, "allows 12 seats"},
		{"enterprise: unlimited", w, "enterprise", 0, policy.Counts{Seats: 100000}, policy.Change{Seats: 1, Gain: "admin"}, nil, ""},
		{"over the limit may still shrink", w, "community", 0, policy.Counts{Seats: 7, Holders: holders("admin", 2, "user", 5)}, policy.Change{Seats: -1, Lose: "user"}, nil, ""},
		{"role change takes no seat", w, "community", 0, policy.Counts{Seats: 5, Holders: holders("admin", 1, "user", 4)}, policy.Change{Lose: "user", Gain: "admin"}, nil, ""},
		{"last admin demoted", w, "community", 0, policy.Counts{Seats: 3, Holders: holders("admin", 1, "user", 2)}, policy.Change{Lose: "admin", Gain: "user"},
			[]error{policy.ErrInvariant, policy.ErrMinHolders}, `at least 1 member(s) must hold "admin", and this would leave 0`},
		{"last admin removed", w, "community", 0, policy.Counts{Seats: 1, Holders: holders("admin", 1)}, policy.Change{Seats: -1, Lose: "admin"},
			[]error{policy.ErrMinHolders}, `"admin"`},
		{"second admin demoted", w, "community", 0, policy.Counts{Seats: 2, Holders: holders("admin", 2)}, policy.Change{Lose: "admin", Gain: "user"}, nil, ""},
		{"no-op role change", w, "community", 0, policy.Counts{Seats: 1, Holders: holders("admin", 1)}, policy.Change{Lose: "admin", Gain: "admin"}, nil, ""},
		{"second owner", up, "standard", 0, policy.Counts{Seats: 2, Holders: holders("owner", 1, "user", 1)}, policy.Change{Lose: "user", Gain: "owner"},
			[]error{policy.ErrInvariant, policy.ErrMaxHolders}, `at most 1 member(s) may hold "owner", and 1 already do`},
		{"member outside enterprise", so, "starter", 0, policy.Counts{Seats: 1, Holders: holders("owner", 1)}, policy.Change{Seats: 1, Gain: "member"},
			[]error{policy.ErrInvariant, policy.ErrEditionGated}, `edition "starter" does not offer role "member"`},
		{"soterai: own seat limit", so, "professional", 3, policy.Counts{Seats: 3}, policy.Change{Seats: 1, Gain: "manager"},
			[]error{policy.ErrSeatLimit}, "allows 3 seats"},
		{"soterai: unlimited by default", so, "professional", 0, policy.Counts{Seats: 3000}, policy.Change{Seats: 1, Gain: "manager"}, nil, ""},
		{"unknown edition", w, "gold", 0, policy.Counts{}, policy.Change{Seats: 1}, []error{policy.ErrUnknownEdition}, `"gold"`},
		{"unknown lost role", w, "community", 0, policy.Counts{}, policy.Change{Lose: "root", Gain: "user"}, []error{policy.ErrUnknownRole}, `"root"`},
		{"unknown gained role", w, "community", 0, policy.Counts{}, policy.Change{Gain: "root"}, []error{policy.ErrUnknownRole}, `"root"`},
		{"unknown no-op role", w, "community", 0, policy.Counts{}, policy.Change{Lose: "root", Gain: "root"}, []error{policy.ErrUnknownRole}, `"root"`},
		{"no scheme", nil, "community", 0, policy.Counts{}, policy.Change{}, []error{policy.ErrUnknownScheme}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assertRefusal(t, policy.CheckChange(tt.s, tt.ed, tt.override, tt.c, tt.ch), tt.errs, tt.says)
		})
	}
}

// assertRefusal asserts err is nil when no sentinels are wanted, and
// otherwise that it matches every one and its message says says.
func assertRefusal(t *testing.T, err error, sentinels []error, says string) {
	t.Helper()
	if sentinels == nil {
		assert.NoError(t, err)
		return
	}
	require.Error(t, err)
	for _, want := range sentinels {
		assert.ErrorIs(t, err, want)
	}
	assert.Contains(t, err.Error(), says)
}

func TestCheckEdition(t *testing.T) {
	t.Parallel()
	w, so := edition.Wherobots(), edition.SoterAI()
	tests := []struct {
		name string
		s    *edition.Scheme
		to   string
		over int
		c    policy.Counts
		errs []error
		says string
	}{
		{"soterai downgrade with members", so, "professional", 0, policy.Counts{Seats: 6, Holders: map[string]int{"owner": 1, "manager": 2, "member": 3}},
			[]error{policy.ErrInvariant, policy.ErrEditionGated}, `edition "professional" does not offer role "member", which 3 member(s) hold`},
		{"soterai downgrade without members", so, "starter", 0, policy.Counts{Seats: 3, Holders: map[string]int{"owner": 1, "manager": 2, "member": 0}}, nil, ""},
		{"soterai downgrade below its own limit", so, "starter", 2, policy.Counts{Seats: 3, Holders: map[string]int{"owner": 1, "manager": 2}},
			[]error{policy.ErrSeatLimit}, "allows 2 seats but 3 are in use; free 1 first"},
		{"wherobots downgrade to community with 7", w, "community", 0, policy.Counts{Seats: 7, Holders: map[string]int{"admin": 2, "user": 5}},
			[]error{policy.ErrInvariant, policy.ErrSeatLimit}, `edition "community" allows 5 seats but 7 are in use; free 2 first`},
		{"wherobots downgrade to community with 5", w, "community", 0, policy.Counts{Seats: 5, Holders: map[string]int{"admin": 1, "user": 4}}, nil, ""},
		{"wherobots upgrade", w, "enterprise", 0, policy.Counts{Seats: 5, Holders: map[string]int{"admin": 1, "user": 4}}, nil, ""},
		{"unknown edition", w, "gold", 0, policy.Counts{}, []error{policy.ErrUnknownEdition}, `"gold"`},
		{"unknown role held", w, "enterprise", 0, policy.Counts{Holders: map[string]int{"root": 1}}, []error{policy.ErrUnknownRole}, `"root"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assertRefusal(t, policy.CheckEdition(tt.s, tt.to, tt.over, tt.c), tt.errs, tt.says)
		})
	}
}

func TestSeatOverrideAndLimit(t *testing.T) {
	t.Parallel()
	w, so := edition.Wherobots(), edition.SoterAI()
	assert.NoError(t, policy.CheckSeatOverride(w, "professional", 25))
	assert.NoError(t, policy.CheckSeatOverride(w, "community", 0), "clearing is always allowed")
	err := policy.CheckSeatOverride(w, "community", 8)
	assert.ErrorIs(t, err, policy.ErrSeatOverride)
	assert.ErrorContains(t, err, `edition "community" has a fixed limit (5 seats)`)
	assert.ErrorIs(t, policy.CheckSeatOverride(w, "enterprise", 8), policy.ErrSeatOverride)
	assert.ErrorIs(t, policy.CheckSeatOverride(so, "starter", -1), policy.ErrSeatOverride)
	assert.NoError(t, policy.CheckSeatOverride(so, "starter", 40))
	assert.ErrorIs(t, policy.CheckSeatOverride(w, "gold", 1), policy.ErrUnknownEdition)

	for _, tt := range []struct {
		ed        string
		override  int
		wantLimit int
	}{{"community", 0, 5}, {"community", 9, 5}, {"professional", 0, 10}, {"professional", 3, 3}, {"enterprise", 0, 0}, {"enterprise", 7, 0}} {
		got, err := policy.SeatLimit(w, tt.ed, tt.override)
		require.NoError(t, err)
		assert.Equal(t, tt.wantLimit, got, "%s override %d", tt.ed, tt.override)
	}
	_, err = policy.SeatLimit(w, "gold", 0)
	assert.ErrorIs(t, err, policy.ErrUnknownEdition)
}

func TestInviteRole(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		s    *edition.Scheme
		ed   string
		want string
		err  error
	}{
		{edition.Wherobots(), "community", "user", nil},
		{edition.AIEngine(), "standard", "viewer", nil},
		{edition.UiPath(), "standard", "user", nil},
		{edition.SoterAI(), "enterprise", "member", nil},
		{edition.SoterAI(), "starter", "", policy.ErrEditionGated},
		{edition.SoterAI(), "gold", "", policy.ErrUnknownEdition},
		{nil, "starter", "", policy.ErrUnknownScheme},
	} {
		got, err := policy.InviteRole(tt.s, tt.ed)
		assert.Equal(t, tt.want, got, tt.ed)
		if tt.err == nil {
			assert.NoError(t, err)
		} else {
			assert.ErrorIs(t, err, tt.err)
		}
	}
}

func TestCapabilities(t *testing.T) {
	t.Parallel()
	w := edition.Wherobots()
	ids := func(ed, r string) []string {
		var out []string
		for _, c := range w.Catalog().IDs(policy.Capabilities(w, ed, r)) {
			out = append(out, string(c))
		}
		return out
	}
	assert.Equal(t, []string{"cloud:use", "notebook:start", "integrations/s3:use", "api_keys:manage_own", "api_keys:authenticate", "support:contact"}, ids("community", "user"))
	assert.Equal(t, []string{"cloud:use", "notebook:start", "integrations/s3:use", "api_keys:manage_own", "api_keys:authenticate", "job_runs:create", "support:contact", "raster_inference:use"}, ids("enterprise", "user"))
	assert.Len(t, ids("enterprise", "admin"), 18)
	assert.Empty(t, ids("gold", "admin"))
	assert.Empty(t, ids("community", "root"))
	assert.True(t, policy.Capabilities(nil, "community", "admin").Empty())
	assert.True(t, policy.Capabilities(edition.SoterAI(), "starter", "member").Empty(), "a role the edition does not offer holds nothing")
}
