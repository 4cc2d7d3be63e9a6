package orgauthz_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/orgauthz/orgauthz"
	"github.com/orgauthz/orgauthz/invite"
	"github.com/orgauthz/orgauthz/org"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata from the current output")

// TestWireFormOfTheServiceRecords holds the JSON of the service's own
// records (the invitation preview, the seat count, the pages) to golden
// files in testdata; -update rewrites them.
func TestWireFormOfTheServiceRecords(t *testing.T) {
	at := time.Date(2026, 12, 1, 9, 30, 0, 123456000, time.UTC)
	preview := orgauthz.InvitationPreview{
		ID: "k3mzq7xw2v4pd6ab", OrgID: "acme", OrgName: "Acme", Email: "gil@example.com", Role: "manager", RoleName: "Manager",
		InvitedBy: "hal", CreatedAt: at, ExpiresAt: at.Add(7 * 24 * time.Hour), Status: invite.Expired,
	}
	for name, v := range map[string]any{
		"invitation_preview":      preview,
		"invitation_preview_page": orgauthz.InvitationPreviewPage{Invitations: []orgauthz.InvitationPreview{preview}, Next: "k3mzq7xw2v4pd6ab"},
		"seats":                   orgauthz.Seats{Members: 3, Pending: 1, InUse: 4, Limit: 5, Source: orgauthz.SeatsFromOverride, Edition: "professional"},
		"seats_unlimited":         orgauthz.Seats{Members: 30, InUse: 30, Unlimited: true, Source: orgauthz.SeatsFromEdition, Edition: "enterprise"},
		"membership_page": orgauthz.MembershipPage{Memberships: []org.Membership{{
			OrgID: "acme", OrgName: "Acme", Scheme: "soterai", Edition: "enterprise", Role: "manager", JoinedAt: at,
		}}, Next: "acme"},
		"invitation_page": orgauthz.InvitationPage{Invitations: []invite.Invitation{{
			ID: "k3mzq7xw2v4pd6ab", Email: "gil@example.com", Role: "manager", Status: invite.Pending, TokenHash: bytes.Repeat([]byte{0xab}, 32),
			InvitedBy: "hal", CreatedAt: at, ExpiresAt: at, UpdatedAt: at, Sends: 1,
		}}},
	} {
		got, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got = append(got, '\n')
		path := filepath.Join("testdata", name+".json")
		if *updateGolden {
			if err := os.MkdirAll("testdata", 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%s: %v (run with -update to write it)", name, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: JSON differs from %s:\n%s", name, path, got)
		}
		for _, secret := range []string{"abababab", "q6urq6ur", "hash", "token"} {
			if bytes.Contains(bytes.ToLower(got), []byte(secret)) {
				t.Errorf("%s: JSON holds %q:\n%s", name, secret, got)
			}
		}
	}
}
