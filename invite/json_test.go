package invite_test

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

	"github.com/orgauthz/orgauthz/invite"
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
	t1 = time.Date(2025, 5, 3, 12, 0, 0, 0, time.UTC)
	t2 = time.Date(2025, 5, 8, 9, 30, 0, 0, time.UTC)
)

// fullInvitation sets every field, the token hash a fixed pattern so that
// the golden file does not change (TestJSONHoldsNoHash uses a real one).
func fullInvitation() invite.Invitation {
	return invite.Invitation{
		ID: "k5xq2mzvb7nt4hwa", Email: "grace@example.com", Role: "admin", Status: invite.Accepted,
		TokenHash: bytes.Repeat([]byte{0xab, 0xcd}, 16),
		InvitedBy: "ada", CreatedAt: t0, ExpiresAt: t2, UpdatedAt: t1,
		AcceptedBy: "grace", DeclinedBy: "grace-old", Sends: 2,
	}
}

func TestJSONGolden(t *testing.T) {
	t.Parallel()
	checkGolden(t, "invitation", fullInvitation())
	checkGolden(t, "invitation_zero", invite.Invitation{})
	checkGolden(t, "invitation_pending", invite.Invitation{
		ID: "k5xq2mzvb7nt4hwa", Email: "grace@example.com", Role: "user", Status: invite.Pending,
		InvitedBy: "ada", CreatedAt: t0, ExpiresAt: t2, UpdatedAt: t0, Sends: 1,
	})
}

func TestJSONRoundTrip(t *testing.T) {
	t.Parallel()
	for _, inv := range []invite.Invitation{fullInvitation(), {}, {Status: invite.Expired, Email: "a@b.example"}} {
		b, err := json.Marshal(inv)
		require.NoError(t, err)
		var back invite.Invitation
		require.NoError(t, json.Unmarshal(b, &back), "%s", b)
		inv.TokenHash = nil // never marshaled
		assert.Equal(t, inv, back, "round trip of %s", b)
	}
	// The hash is not read from JSON either, under any spelling.
	var inv invite.Invitation
	require.NoError(t, json.Unmarshal([]byte(`{"id":"x","TokenHash":"q80=","token_hash":"q80=","tokenhash":"q80=","hash":"q80="}`), &inv))
	assert.Nil(t, inv.TokenHash)
	assert.Equal(t, "x", inv.ID)
}

func TestStatusText(t *testing.T) {
	t.Parallel()
	words := map[invite.Status]string{0: "", invite.Pending: "pending", invite.Accepted: "accepted",
		invite.Revoked: "revoked", invite.Declined: "declined", invite.Expired: "expired"}
	for s := range 256 {
		st := invite.Status(s)
		word, known := words[st]
		b, err := st.MarshalText()
		if !known {
			assert.ErrorIs(t, err, invite.ErrUnknownStatus, "status %d", s)
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, word, string(b))
		if st != 0 {
			assert.Equal(t, st.String(), word, "String and MarshalText agree")
		}
		back := invite.Status(99)
		require.NoError(t, back.UnmarshalText(b))
		assert.Equal(t, st, back)
	}
	for _, word := range []string{"Pending", "PENDING", " pending", "pending\n", "Status(1)", "1", "canceled", strings.Repeat("x", 1000)} {
		st := invite.Revoked
		err := st.UnmarshalText([]byte(word))
		require.ErrorIs(t, err, invite.ErrUnknownStatus, "%q", word)
		assert.Equal(t, invite.Revoked, st, "a failed UnmarshalText leaves the status as it was")
		assert.Less(t, len(err.Error()), 100, "the error does not repeat long text")
	}
	var inv invite.Invitation
	assert.ErrorIs(t, json.Unmarshal([]byte(`{"status":"lost"}`), &inv), invite.ErrUnknownStatus)
	_, err := json.Marshal(invite.Invitation{Status: 6})
	assert.ErrorIs(t, err, invite.ErrUnknownStatus)
}

// TestJSONHoldsNoHash marshals an invitation holding a real token's hash,
// in every way a host might, and checks that neither the hash (in hex,
// base64 or as numbers) nor the token nor the words for them appear.
func TestJSONHoldsNoHash(t *testing.T) {
	t.Parallel()
	tok, err := invite.NewToken(invite.NewID())
	require.NoError(t, err)
	inv := fullInvitation()
	inv.ID = tok.ID()
	inv.TokenHash = tok.Hash()
	require.Len(t, inv.TokenHash, 32)

	outs := map[string]func() ([]byte, error){
		"value":    func() ([]byte, error) { return json.Marshal(inv) },
		"pointer":  func() ([]byte, error) { return json.Marshal(&inv) },
		"indented": func() ([]byte, error) { return json.MarshalIndent(inv, "", "  ") },
		"slice":    func() ([]byte, error) { return json.Marshal([]invite.Invitation{inv, inv.Clone()}) },
		"map":      func() ([]byte, error) { return json.Marshal(map[string]any{"invitation": inv}) },
		"embedded": func() ([]byte, error) {
			return json.Marshal(struct {
				invite.Invitation
				Link string `json:"link"`
			}{inv, "https://example.com/accept"})
		},
	}
	for name, marshal := range outs {
		b, err := marshal()
		require.NoError(t, err, name)
		assertNoHash(t, name, inv.TokenHash, string(b))
		assertRedacted(t, tok, string(b))
		assert.NotContains(t, string(b), tok.Reveal(), name)
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
