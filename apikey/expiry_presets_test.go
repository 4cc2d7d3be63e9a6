package apikey_test

import (
	"testing"
	"time"

	"github.com/orgauthz/orgauthz/apikey"
)

func TestExpiryConstantsMatchPresets(t *testing.T) {
	want := map[string]time.Duration{
		"1h": apikey.Expiry1h, "1d": apikey.Expiry1d, "7d": apikey.Expiry7d, "30d": apikey.Expiry30d,
		"6mo": apikey.Expiry6mo, "1y": apikey.Expiry1y, "2y": apikey.Expiry2y, "4y": apikey.Expiry4y,
	}
	names := apikey.ExpiryPresetNames()
	if len(names) != len(want) {
		t.Fatalf("%d preset names, %d constants", len(names), len(want))
	}
	for _, name := range names {
		d, err := apikey.ExpiryPreset(name)
		if err != nil {
			t.Fatalf("ExpiryPreset(%q): %v", name, err)
		}
		if c, ok := want[name]; !ok || c != d {
			t.Errorf("preset %q is %v, its constant %v", name, d, c)
		}
	}
	if apikey.Expiry1y != apikey.DefaultExpiry {
		t.Errorf("Expiry1y = %v, DefaultExpiry = %v", apikey.Expiry1y, apikey.DefaultExpiry)
	}
}
