package strindex

import (
	"fmt"
	"strings"
	"testing"
)

func TestLookup(t *testing.T) {
	t.Parallel()
	var keys []string
	// Short, exactly-8, 9..16 and long keys, including long keys that share
	// their first and last eight bytes (so only the full comparison tells
	// them apart).
	for i := range 300 {
		switch i % 4 {
		case 0:
			keys = append(keys, fmt.Sprintf("r%d", i))
		case 1:
			keys = append(keys, fmt.Sprintf("cap:%04d", i))
		case 2:
			keys = append(keys, fmt.Sprintf("res/x:act%05d", i))
		default:
			keys = append(keys, "prefix__"+fmt.Sprintf("%06d", i)+strings.Repeat("m", i%7)+"__suffix")
		}
	}
	keys = append(keys, "")
	ix := New(keys)
	for want, k := range keys {
		got, ok := ix.Lookup(k)
		if !ok || got != want {
			t.Errorf("Lookup(%q) = %d, %v; want %d, true", k, got, ok, want)
		}
	}
	for _, k := range []string{"r1", "cap:0000", "res/x:act99999", "prefix__000003__suffix", "x", "job_runs:create", strings.Repeat("z", 40)} {
		if pos, ok := ix.Lookup(k); ok && keys[pos] != k {
			t.Errorf("Lookup(%q) = %d (%q), true; want the key itself or false", k, pos, keys[pos])
		} else if ok {
			continue
		} else if contains(keys, k) {
			t.Errorf("Lookup(%q) = false for a key that is present", k)
		}
	}
}

func TestEmptyAndDuplicates(t *testing.T) {
	t.Parallel()
	if _, ok := New(nil).Lookup("a"); ok {
		t.Error("empty index found a key")
	}
	if _, ok := (&Index{}).Lookup("a"); ok {
		t.Error("zero index found a key")
	}
	ix := New([]string{"a", "b", "a"})
	if pos, ok := ix.Lookup("a"); !ok || pos != 0 {
		t.Errorf("duplicate key: Lookup = %d, %v; want 0, true", pos, ok)
	}
}

func contains(keys []string, k string) bool {
	for _, x := range keys {
		if x == k {
			return true
		}
	}
	return false
}

var sink int

func BenchmarkLookup(b *testing.B) {
	keys := []string{"cloud:use", "notebook:start", "organization:create", "organization/settings:manage", "integrations/s3:create", "integrations/s3:use", "members:manage", "roles:modify", "service_principals:create", "service_principals/api_keys:add", "api_keys:revoke_others", "api_keys:manage_own", "api_keys:authenticate", "job_runs:create", "support:contact", "raster_inference:use", "billing:view", "audit_logs:view"}
	ix := New(keys)
	k := string([]byte("job_runs:create"))
	for b.Loop() {
		p, _ := ix.Lookup(k)
		sink += p
	}
}

func TestSmall(t *testing.T) {
	t.Parallel()
	keys := []string{"owner", "administrator", "user", "a", "ab", "abc", "abcd", "a-very-long-role-identifier-x"}
	ix := New(keys)
	for want, k := range keys {
		if got, ok := ix.Lookup(k); !ok || got != want {
			t.Errorf("Lookup(%q) = %d, %v; want %d, true", k, got, ok, want)
		}
	}
	for _, k := range []string{"", "owners", "Owner", "abce", "a-very-long-role-identifier-y", "b"} {
		if got, ok := ix.Lookup(k); ok {
			t.Errorf("Lookup(%q) = %d, true; want false", k, got)
		}
	}
}

func BenchmarkLookupSmall(b *testing.B) {
	ix := New([]string{"owner", "administrator", "user"})
	k := string([]byte("user"))
	for b.Loop() {
		p, _ := ix.Lookup(k)
		sink += p
	}
}
