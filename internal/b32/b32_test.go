package b32

import (
	"bytes"
	"crypto/rand"
	"strings"
	"testing"
)

func TestEncodeDecodeRoundTrip(t *testing.T) {
	for _, n := range []int{5, 10, 20} {
		for range 100 {
			b := make([]byte, n)
			rand.Read(b)
			s := Encode(b)
			if len(s) != n*8/5 || s != strings.ToLower(s) {
				t.Fatalf("Encode(%x) = %q", b, s)
			}
			if msg := CheckPart("part", s, 0, len(s), "keys"); msg != "" {
				t.Fatalf("CheckPart(%q) = %q", s, msg)
			}
			got := make([]byte, n)
			Decode(got, s)
			if !bytes.Equal(got, b) {
				t.Fatalf("Decode(Encode(%x)) = %x", b, got)
			}
		}
	}
}

func TestCheckPart(t *testing.T) {
	for _, tt := range []struct{ part, want string }{
		{"abcd", ""},
		{"abCd", "x has an upper-case letter at offset 12 (keys are lower case)"},
		{"ab1d", "x has a character outside the base32 alphabet (a-z, 2-7) at offset 12"},
		{"abc", "x has 3 characters, want 4"},
	} {
		if got := CheckPart("x", tt.part, 10, 4, "keys"); got != tt.want {
			t.Errorf("CheckPart(%q) = %q, want %q", tt.part, got, tt.want)
		}
	}
	if !IsSpace('\t') || IsSpace('a') {
		t.Error("IsSpace")
	}
}
