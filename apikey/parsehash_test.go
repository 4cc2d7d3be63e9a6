package apikey_test

import (
	"testing"

	"github.com/orgauthz/orgauthz/apikey"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseHashAgreesWithParse(t *testing.T) {
	t.Parallel()
	for range 50 {
		s, err := apikey.NewSecret("acme")
		require.NoError(t, err)
		id, hash, err := apikey.ParseHash("acme", s.Reveal())
		require.NoError(t, err)
		assert.Equal(t, s.ID(), id)
		assert.Equal(t, s.Hash(), hash)
		assert.True(t, s.Matches(hash))
	}
	valid, err := apikey.NewSecret("acme")
	require.NoError(t, err)
	key := valid.Reveal()
	for _, bad := range []string{"", "acme_", "ACME" + key[4:], key[:len(key)-1], key + "a", "acme_" + key[5:10] + "_" + key[11:], "x" + key, key[:20] + "1" + key[21:]} {
		_, perr := apikey.Parse("acme", bad)
		_, _, herr := apikey.ParseHash("acme", bad)
		require.Error(t, perr, "%q", bad)
		assert.ErrorIs(t, herr, apikey.ErrMalformedKey)
		assert.Equal(t, perr.Error(), herr.Error(), "the same refusal, word for word")
	}
	_, _, err = apikey.ParseHash("A", key)
	assert.ErrorIs(t, err, apikey.ErrInvalidPrefix)
}

func TestParseHashDoesNotAllocate(t *testing.T) {
	s, err := apikey.NewSecret("acme")
	require.NoError(t, err)
	key := s.Reveal()
	n := testing.AllocsPerRun(100, func() {
		if _, _, err := apikey.ParseHash("acme", key); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, n)
}
