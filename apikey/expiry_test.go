package apikey_test

import (
	"strings"
	"testing"
	"time"

	"github.com/orgauthz/orgauthz/apikey"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestExpiryPreset(t *testing.T) {
	t.Parallel()
	const day = 24 * time.Hour
	cases := []struct {
		name string
		want time.Duration
	}{
		{"1h", time.Hour},
		{"1d", day},
		{"7d", 7 * day},
		{"30d", 30 * day},
		{"6mo", 183 * day},
		{"1y", 365 * day},
		{"2y", 730 * day},
		{"4y", 1460 * day},
	}
	var names []string
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := apikey.ExpiryPreset(c.name)
			require.NoError(t, err)
			assert.Equal(t, c.want, got)
		})
		names = append(names, c.name)
	}
	assert.Equal(t, names, apikey.ExpiryPresetNames(), "the names, in order of lifetime")

	d, err := apikey.ExpiryPreset("1y")
	require.NoError(t, err)
	assert.Equal(t, apikey.DefaultExpiry, d, "DefaultExpiry is the 1y preset")

	// 6mo is a fixed duration within the range of six calendar months.
	six, err := apikey.ExpiryPreset("6mo")
	require.NoError(t, err)
	shortest, longest := 1000*day, time.Duration(0)
	for m := time.January; m <= time.December; m++ {
		for _, y := range []int{2023, 2024} {
			start := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
			d := start.AddDate(0, 6, 0).Sub(start)
			shortest, longest = min(shortest, d), max(longest, d)
		}
	}
	assert.Equal(t, 181*day, shortest)
	assert.Equal(t, 184*day, longest)
	assert.True(t, shortest <= six && six <= longest)
}

func TestExpiryPresetNamesIsACopy(t *testing.T) {
	t.Parallel()
	a := apikey.ExpiryPresetNames()
	a[0] = "changed"
	assert.Equal(t, "1h", apikey.ExpiryPresetNames()[0])
}

func TestExpiryPresetUnknown(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"", " ", "1H", "1Y", " 1y", "1y ", "6m", "6M", "12mo", "1w", "2d", "365d", "3y", "0", "-1h", "1h0m0s", "forever", "never", "fortnight", "1y\x00"} {
		t.Run(name, func(t *testing.T) {
			d, err := apikey.ExpiryPreset(name)
			require.Error(t, err)
			assert.ErrorIs(t, err, apikey.ErrInvalidExpiry)
			assert.Zero(t, d)
			assert.Equal(t, "invalid API key expiry: not a preset name (want one of 1h, 1d, 7d, 30d, 6mo, 1y, 2y, 4y)", err.Error())
		})
	}
	_, err := apikey.ExpiryPreset("fortnight")
	assert.False(t, strings.Contains(err.Error(), "fortnight"), "the error repeats the name")
}
