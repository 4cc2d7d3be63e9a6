package apikey_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/orgauthz/orgauthz/apikey"
	"github.com/orgauthz/orgauthz/role"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata from the current output")

// checkGolden compares v's JSON, indented by two spaces and ended by a
// newline, with testdata/name.json, or rewrites that file under -update.
func checkGolden(t *testing.T, name string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	require.NoError(t, err)
	got = append(got, '\n')
	path := filepath.Join("testdata", name+".json")
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to write the golden file")
	if !bytes.Equal(got, want) {
		t.Errorf("%s: JSON differs from the golden file (go test -update rewrites it)\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

var (
	t0 = time.Date(2025, 5, 1, 9, 30, 0, 0, time.UTC)
	t1 = time.Date(2025, 7, 14, 8, 15, 30, 250000000, time.UTC)
	t2 = time.Date(2026, 5, 1, 9, 30, 0, 0, time.UTC)
)

// fullKey sets every field, the hash a fixed pattern so that the golden
// file does not change (TestJSONHoldsNoHash uses a real one).
func fullKey() apikey.Key {
	return apikey.Key{
		ID: "c4n7qx2mzvb7nt4h", Name: "deploy laptop", OwnerID: "ci-bot",
		Scope:     []role.Capability{"job_runs:create", "api_keys:authenticate"},
		Hash:      bytes.Repeat([]byte{0xab, 0xcd}, 16),
		Display:   "acme_\u2026x7qa",
		CreatedBy: "ada", CreatedAt: t0, ExpiresAt: t2, RevokedAt: t1, LastUsedAt: t1,
	}
}

func TestJSONGolden(t *testing.T) {
	t.Parallel()
	checkGolden(t, "key", fullKey())
	checkGolden(t, "key_zero", apikey.Key{})
	checkGolden(t, "key_active", apikey.Key{
		ID: "c4n7qx2mzvb7nt4h", Name: "my key", OwnerID: "ada", Display: "acme_\u2026x7qa",
		CreatedBy: "ada", CreatedAt: t0, ExpiresAt: t2,
	})
}

func TestJSONRoundTrip(t *testing.T) {
	t.Parallel()
	for _, k := range []apikey.Key{fullKey(), {}, {ID: "x", Scope: []role.Capability{"a:b"}}} {
		b, err := json.Marshal(k)
		require.NoError(t, err)
		var back apikey.Key
		require.NoError(t, json.Unmarshal(b, &back), "%s", b)
		k.Hash = nil // never marshaled
		assert.Equal(t, k, back, "round trip of %s", b)
	}
	// The hash is not read from JSON either, under any spelling.
	var k apikey.Key
	require.NoError(t, json.Unmarshal([]byte(`{"id":"x","Hash":"q80=","hash":"q80=","HASH":"q80="}`), &k))
	assert.Nil(t, k.Hash)
	assert.Equal(t, "x", k.ID)
}

func TestStatusText(t *testing.T) {
	t.Parallel()
	words := map[apikey.Status]string{0: "", apikey.Active: "active", apikey.Revoked: "revoked", apikey.Expired: "expired"}
	for s := range 256 {
		st := apikey.Status(s)
		word, known := words[st]
		b, err := st.MarshalText()
		if !known {
			assert.ErrorIs(t, err, apikey.ErrUnknownStatus, "status %d", s)
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, word, string(b))
		if st != 0 {
			assert.Equal(t, st.String(), word, "String and MarshalText agree")
		}
		back := apikey.Status(99)
		require.NoError(t, back.UnmarshalText(b))
		assert.Equal(t, st, back)
	}
	for _, word := range []string{"Active", "ACTIVE", " active", "active\n", "Status(1)", "1", "disabled", strings.Repeat("x", 1000)} {
		st := apikey.Revoked
		err := st.UnmarshalText([]byte(word))
		require.ErrorIs(t, err, apikey.ErrUnknownStatus, "%q", word)
		assert.Equal(t, apikey.Revoked, st, "a failed UnmarshalText leaves the status as it was")
		assert.Less(t, len(err.Error()), 100, "the error does not repeat long text")
	}
	// A host that shows a key's status marshals it beside the key.
	type row struct {
		apikey.Key
		Status apikey.Status `json:"status"`
	}
	k := fullKey()
	b, err := json.Marshal(row{k, k.StatusAt(t0)})
	require.NoError(t, err)
	assert.Contains(t, string(b), `"status":"revoked"`)
	var back row
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, apikey.Revoked, back.Status)
	assert.ErrorIs(t, json.Unmarshal([]byte(`{"status":"lost"}`), &back), apikey.ErrUnknownStatus)
	_, err = json.Marshal(row{Status: 4})
	assert.ErrorIs(t, err, apikey.ErrUnknownStatus)
}

// TestJSONHoldsNoHash marshals a key holding a real secret's hash, in
// every way a host might, and checks that neither the hash (in hex, base64
// or as numbers) nor the key string nor the words for them appear.
func TestJSONHoldsNoHash(t *testing.T) {
	t.Parallel()
	s, err := apikey.NewSecret("acme")
	require.NoError(t, err)
	h := s.Hash()
	k := fullKey()
	k.ID, k.Hash, k.Display = s.ID(), h[:], s.Display()

	outs := map[string]func() ([]byte, error){
		"value":    func() ([]byte, error) { return json.Marshal(k) },
		"pointer":  func() ([]byte, error) { return json.Marshal(&k) },
		"indented": func() ([]byte, error) { return json.MarshalIndent(k, "", "  ") },
		"slice":    func() ([]byte, error) { return json.Marshal([]apikey.Key{k, k.Clone()}) },
		"map":      func() ([]byte, error) { return json.Marshal(map[string]any{"key": k}) },
		"embedded": func() ([]byte, error) {
			return json.Marshal(struct {
				apikey.Key
				Status apikey.Status `json:"status"`
			}{k, k.StatusAt(t0)})
		},
	}
	for name, marshal := range outs {
		b, err := marshal()
		require.NoError(t, err, name)
		assertNoHash(t, name, k.Hash, string(b))
		assertRedacted(t, s, string(b))
		assert.NotContains(t, string(b), s.Reveal(), name)
	}
}

// assertNoHash fails if out shows hash: any 8 bytes of it in hex (either
// case), base64 (standard or URL, padded or not, as encoding/json writes a
// []byte), or as a list of numbers; or the words "hash", "secret" and
// "token_hash" in any case.
func assertNoHash(t *testing.T, name string, hash []byte, out string) {
	t.Helper()
	lower := strings.ToLower(out)
	for _, word := range []string{"hash", "secret", "token_hash", "tokenhash"} {
		assert.NotContains(t, lower, word, "%s: the JSON names %q:\n%s", name, word, out)
	}
	var forms []string
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		forms = append(forms, enc.EncodeToString(hash))
		for i := 0; i+6 <= len(hash); i += 3 {
			forms = append(forms, enc.EncodeToString(hash[i:i+6]))
		}
	}
	for i := 0; i+8 <= len(hash); i++ {
		w := hash[i : i+8]
		forms = append(forms, fmt.Sprintf("%x", w), fmt.Sprintf("%X", w))
	}
	nums := make([]string, 4)
	for i := range nums {
		nums[i] = fmt.Sprint(hash[i])
	}
	forms = append(forms, strings.Join(nums, ","), strings.Join(nums, " "))
	for _, f := range forms {
		if strings.Contains(out, f) {
			t.Fatalf("%s: the JSON shows the hash as %q:\n%s", name, f, out)
		}
	}
}
