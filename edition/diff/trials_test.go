package diff_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/edition/diff"
	"github.com/orgauthz/orgauthz/policy"
)

// soterAI returns SoterAI's spec changed by mut, built.
func soterAI(t *testing.T, mut func(sp *edition.Spec)) *edition.Scheme {
	t.Helper()
	sp := edition.SoterAI().Spec()
	mut(&sp)
	s, err := edition.NewScheme(sp)
	require.NoError(t, err)
	return s
}

func noTrials(sp *edition.Spec) { sp.Trials, sp.Organization.Trial = nil, "" }

func TestCompareTrialsAdded(t *testing.T) {
	t.Parallel()
	old, new := soterAI(t, noTrials), edition.SoterAI()
	r := diff.Compare(old, new)
	assert.Equal(t, []diff.Change{
		{Op: diff.Added, ID: "professional", Fields: []diff.Field{
			{Name: "max duration", New: "30 days", Effect: neutral},
			{Name: "from", Added: []string{"starter"}, Effect: neutral},
		}},
		{Op: diff.Added, ID: "enterprise", Fields: []diff.Field{
			{Name: "max duration", New: "30 days", Effect: neutral},
			{Name: "from", Added: []string{"starter"}, Effect: neutral},
		}},
	}, r.Trials)
	assert.Equal(t, []diff.Field{{Name: "organization.trial", New: "billing:manage", Effect: neutral}}, r.Scheme)
	var ops, escs []string
	for _, op := range r.Operations {
		assert.Equal(t, "organization.trial", op.Operation)
		assert.Equal(t, denied(policy.ReasonActionNotOffered), op.Old)
		if op.Role != "owner" { // managers and members: denied still, for another reason
			assert.False(t, op.New.Allowed)
			assert.Equal(t, neutral, op.Effect)
			continue
		}
		assert.Equal(t, allowed(holds), op.New)
		ops = append(ops, op.Edition)
	}
	assert.Equal(t, []string{"starter", "professional", "enterprise"}, ops)
	for _, e := range r.Escalations {
		assert.Equal(t, diff.EscalationOperation, e.Kind, "owners may change the edition outright: the trials reach nothing new")
		escs = append(escs, e.Edition)
	}
	assert.Equal(t, ops, escs)
	assert.False(t, r.Breaking())

	var b bytes.Buffer
	require.NoError(t, r.WriteText(&b))
	assert.Contains(t, b.String(), "\nTrials\n  + professional\n      max duration: (none) → 30 days\n      from: +starter\n")

	// The other way: trials removed are breaking.
	back := diff.Compare(new, old)
	assert.Equal(t, []diff.Change{{Op: diff.Removed, ID: "professional"}, {Op: diff.Removed, ID: "enterprise"}}, back.Trials)
	assert.True(t, back.Breaking())
	assert.False(t, back.Escalating())
}

func TestCompareTrialsChanged(t *testing.T) {
	t.Parallel()
	base := edition.SoterAI()
	shorter := soterAI(t, func(sp *edition.Spec) { sp.Trials[0].MaxDuration = 14 * 24 * time.Hour })
	r := diff.Compare(base, shorter)
	assert.Equal(t, []diff.Change{{Op: diff.Changed, ID: "professional", Fields: []diff.Field{
		{Name: "max duration", Old: "30 days", New: "14 days", Effect: restricts},
	}}}, r.Trials)
	assert.True(t, r.Breaking())
	assert.False(t, r.Escalating())

	r = diff.Compare(shorter, base)
	assert.Equal(t, relaxes, r.Trials[0].Fields[0].Effect)
	assert.False(t, r.Breaking())
	assert.False(t, r.Escalating(), "a longer trial reaches no new edition")

	wider := soterAI(t, func(sp *edition.Spec) { sp.Trials[1].From = nil }) // enterprise from any other edition
	r = diff.Compare(base, wider)
	assert.Equal(t, []diff.Change{{Op: diff.Changed, ID: "enterprise", Fields: []diff.Field{
		{Name: "from", Added: []string{"professional"}, Effect: relaxes},
	}}}, r.Trials)
	assert.False(t, r.Breaking())
	assert.False(t, r.Escalating(), "owners, who start trials, may change the edition anyway")
	r = diff.Compare(wider, base)
	assert.Equal(t, restricts, r.Trials[0].Fields[0].Effect)
	assert.True(t, r.Breaking())

	hours := soterAI(t, func(sp *edition.Spec) { sp.Trials[0].MaxDuration = 36 * time.Hour })
	assert.Equal(t, "36h0m0s", diff.Compare(base, hours).Trials[0].Fields[0].New)
}

// TestCompareTrialEscalation: a trial that lets a role reach an edition it
// may not change the organization to is an escalation.
func TestCompareTrialEscalation(t *testing.T) {
	t.Parallel()
	// Managers hold billing:view, not billing:manage (the edition).
	old := soterAI(t, func(sp *edition.Spec) { sp.Trials, sp.Organization.Trial = nil, "billing:view" })
	new := soterAI(t, func(sp *edition.Spec) { sp.Trials = sp.Trials[:1]; sp.Organization.Trial = "billing:view" })
	r := diff.Compare(old, new)
	assert.Empty(t, r.Operations, "who may start trials is unchanged")
	require.Len(t, r.Escalations, 1)
	e := r.Escalations[0]
	assert.Equal(t, diff.Escalation{Kind: diff.EscalationTrial, Edition: "starter", Role: "manager", Trial: "professional", Detail: e.Detail}, e)
	assert.Equal(t, `role "manager" may now start a trial of edition "professional" in edition "starter", to which it may not change the edition`, e.Detail)
	assert.False(t, r.Breaking())

	var b bytes.Buffer
	require.NoError(t, r.WriteText(&b))
	assert.Contains(t, b.String(), "!! trial: role \"manager\" may now start a trial")
}
