package edition_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/role"
)

const day = 24 * time.Hour

// trialTestSpec is schemeTestSpec (editions free, pro, ent) with trials of
// pro (from free) and ent (from any other edition), governed by
// org/settings:edit.
func trialTestSpec() edition.Spec {
	sp := schemeTestSpec()
	sp.Trials = []edition.TrialSpec{
		{Edition: "pro", MaxDuration: 30 * day, From: []string{"free"}},
		{Edition: "ent", MaxDuration: 14 * day},
	}
	sp.Organization.Trial = "org/settings:edit"
	return sp
}

func TestSchemeTrial(t *testing.T) {
	t.Parallel()
	s, err := edition.NewScheme(trialTestSpec())
	require.NoError(t, err)

	pro, ok := s.Trial("pro")
	require.True(t, ok)
	assert.Equal(t, edition.TrialSpec{Edition: "pro", MaxDuration: 30 * day, From: []string{"free"}}, pro)
	ent, ok := s.Trial("ent")
	require.True(t, ok)
	assert.Equal(t, 14*day, ent.MaxDuration)
	assert.Nil(t, ent.From, "empty From: any other edition")
	for _, id := range []string{"free", "gold", ""} {
		got, ok := s.Trial(id)
		assert.False(t, ok, id)
		assert.Zero(t, got, id)
	}
	assert.Equal(t, role.Capability("org/settings:edit"), s.OrgCapabilities().Trial)

	assert.True(t, pro.StartsFrom("free"))
	assert.False(t, pro.StartsFrom("ent"), "not listed in From")
	assert.False(t, pro.StartsFrom("pro"))
	assert.True(t, ent.StartsFrom("free"))
	assert.True(t, ent.StartsFrom("pro"))
	assert.False(t, ent.StartsFrom("ent"), "never from the trialled edition itself")

	// What Trial, Trials and Spec return are copies.
	pro.From[0] = "ent"
	all := s.Trials()
	require.Len(t, all, 2)
	all[0].From[0] = "ent"
	all[1].MaxDuration = time.Hour
	sp := s.Spec()
	sp.Trials[0].From[0] = "ent"
	sp.Trials[0].MaxDuration = time.Minute
	if d := cmp.Diff(trialTestSpec().Trials, s.Trials()); d != "" {
		t.Errorf("Trials changed through a copy (-want +got):\n%s", d)
	}

	// NewScheme copies the Spec's trials.
	in := trialTestSpec()
	s, err = edition.NewScheme(in)
	require.NoError(t, err)
	in.Trials[0].From[0] = "ent"
	in.Trials[1].Edition = "free"
	if d := cmp.Diff(trialTestSpec().Trials, s.Spec().Trials); d != "" {
		t.Errorf("Spec().Trials changed with the spec (-want +got):\n%s", d)
	}

	// No trials: none.
	s, err = edition.NewScheme(schemeTestSpec())
	require.NoError(t, err)
	assert.Nil(t, s.Trials())
	_, ok = s.Trial("pro")
	assert.False(t, ok)
	assert.Empty(t, s.OrgCapabilities().Trial, "only the host may")
}

func TestNewSchemeRefusesTrials(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		mut   func(sp *edition.Spec)
		is    []error
		names []string
		text  []string
	}{
		{name: "unknown edition", mut: func(sp *edition.Spec) { sp.Trials[0].Edition = "gold" },
			is: []error{edition.ErrUnknownEdition}, names: []string{"gold"}, text: []string{"Trials names edition"}},
		{name: "no edition", mut: func(sp *edition.Spec) { sp.Trials[1].Edition = "" },
			is: []error{edition.ErrUnknownEdition}, names: []string{""}},
		{name: "edition listed twice", mut: func(sp *edition.Spec) {
			sp.Trials = append(sp.Trials, edition.TrialSpec{Edition: "pro", MaxDuration: day})
		}, is: []error{role.ErrDuplicate}, names: []string{"pro"}, text: []string{"two trials"}},
		{name: "zero duration", mut: func(sp *edition.Spec) { sp.Trials[0].MaxDuration = 0 },
			names: []string{"pro"}, text: []string{"MaxDuration 0s is not positive"}},
		{name: "negative duration", mut: func(sp *edition.Spec) { sp.Trials[1].MaxDuration = -time.Hour },
			names: []string{"ent"}, text: []string{"MaxDuration -1h0m0s is not positive"}},
		{name: "duration above the maximum", mut: func(sp *edition.Spec) { sp.Trials[0].MaxDuration = edition.MaxTrialDuration + time.Second },
			names: []string{"pro"}, text: []string{"exceeds"}},
		{name: "From naming an unknown edition", mut: func(sp *edition.Spec) { sp.Trials[0].From = []string{"free", "gold"} },
			is: []error{edition.ErrUnknownEdition}, names: []string{"pro", "gold"}, text: []string{"From names edition"}},
		{name: "From naming the trialled edition", mut: func(sp *edition.Spec) { sp.Trials[0].From = []string{"pro"} },
			names: []string{"pro"}, text: []string{"itself"}},
		{name: "From listing an edition twice", mut: func(sp *edition.Spec) { sp.Trials[0].From = []string{"free", "ent", "free"} },
			is: []error{role.ErrDuplicate}, names: []string{"pro", "free"}, text: []string{"twice"}},
		{name: "no other edition to start from", mut: func(sp *edition.Spec) {
			sp.Editions = sp.Editions[:1]
			sp.CapabilityEditions, sp.RoleEditions, sp.DefaultEdition = nil, nil, ""
			sp.Trials = []edition.TrialSpec{{Edition: "free", MaxDuration: day}}
		}, names: []string{"free"}, text: []string{"no other edition"}},
		{name: "unknown trial capability", mut: func(sp *edition.Spec) { sp.Organization.Trial = "trials:manage" },
			is: []error{role.ErrUnknownCapability}, names: []string{"trials:manage"}, text: []string{"Organization.Trial"}},
		{name: "malformed trial capability", mut: func(sp *edition.Spec) { sp.Organization.Trial = "Trials" },
			is: []error{role.ErrInvalidCapability}, text: []string{"Organization.Trial"}},
		{name: "trial capability nobody holds", mut: func(sp *edition.Spec) {
			sp.Capabilities = append(sp.Capabilities, role.Def{ID: "trials:manage"})
			sp.Organization.Trial = "trials:manage"
		}, names: []string{"trials:manage"}, text: []string{"Organization.Trial", "which no role holds"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sp := trialTestSpec()
			tt.mut(&sp)
			s, err := edition.NewScheme(sp)
			require.Error(t, err)
			assert.Nil(t, s)
			assert.ErrorIs(t, err, edition.ErrInvalidScheme)
			for _, e := range tt.is {
				assert.ErrorIs(t, err, e)
			}
			msg := err.Error()
			assert.Contains(t, msg, `"acme"`, "the message names the scheme")
			for _, id := range tt.names {
				assert.Contains(t, msg, strconv.Quote(id))
			}
			for _, x := range tt.text {
				assert.Contains(t, msg, x)
			}
		})
	}
}

func TestNewSchemeAcceptsTrialBounds(t *testing.T) {
	t.Parallel()
	sp := trialTestSpec()
	sp.Trials[0].MaxDuration = edition.MaxTrialDuration
	sp.Trials[1].MaxDuration = time.Nanosecond
	sp.Trials = append(sp.Trials, edition.TrialSpec{Edition: "free", MaxDuration: day, From: []string{"ent", "pro"}})
	_, err := edition.NewScheme(sp)
	require.NoError(t, err)
}

// TestPresetTrials pins the presets' trials: SoterAI's paid editions may be
// trialled for up to 30 days from starter, governed by billing:manage; the
// other presets have none.
func TestPresetTrials(t *testing.T) {
	t.Parallel()
	s := edition.SoterAI()
	assert.Equal(t, []edition.TrialSpec{
		{Edition: "professional", MaxDuration: 30 * day, From: []string{"starter"}},
		{Edition: "enterprise", MaxDuration: 30 * day, From: []string{"starter"}},
	}, s.Trials())
	_, ok := s.Trial("starter")
	assert.False(t, ok, "the base edition is not trialled")
	ent, _ := s.Trial("enterprise")
	assert.False(t, ent.StartsFrom("professional"), "the safer reading: from starter only")
	assert.Equal(t, role.Capability("billing:manage"), s.OrgCapabilities().Trial)
	assert.Equal(t, s.OrgCapabilities().Edition, s.OrgCapabilities().Trial, "a trial reaches only what an edition change could")
	for _, o := range []*edition.Scheme{edition.Wherobots(), edition.AIEngine(), edition.UiPath()} {
		assert.Nil(t, o.Trials(), o.ID())
		assert.Empty(t, o.OrgCapabilities().Trial, o.ID())
	}
}
