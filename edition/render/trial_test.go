package render_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/edition/render"
)

// TestMatrixTrials: an edition's description says how long, and from
// where, it may be trialled; CSV says nothing of trials.
func TestMatrixTrials(t *testing.T) {
	t.Parallel()
	sp := edition.Wherobots().Spec()
	sp.Trials = []edition.TrialSpec{
		{Edition: "professional", MaxDuration: 36 * time.Hour},
		{Edition: "enterprise", MaxDuration: 24 * time.Hour, From: []string{"community", "professional"}},
		{Edition: "community", MaxDuration: 90 * time.Minute, From: []string{"enterprise"}},
	}
	s, err := edition.NewScheme(sp)
	require.NoError(t, err)
	var md, csv bytes.Buffer
	require.NoError(t, render.Matrix(&md, s, render.Markdown))
	for _, want := range []string{
		"- 5 seats; the default edition; may be trialled for up to 1h30m0s from Enterprise.\n",
		"- 10 seats (overridable); may be trialled for up to 36 hours from any other edition.\n",
		"- Unlimited seats; may be trialled for up to 1 day from Community or Professional.\n",
	} {
		assert.Contains(t, md.String(), want)
	}
	require.NoError(t, render.Matrix(&csv, s, render.CSV))
	assert.NotContains(t, strings.ToLower(csv.String()), "trial")
}
