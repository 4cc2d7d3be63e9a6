package apikey_test

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/orgauthz/orgauthz/apikey"
)

func ExampleNewSecret() {
	// A host chooses its prefix once.
	if err := apikey.ValidatePrefix("acme"); err != nil {
		panic(err)
	}

	// Making a key: show s.Reveal() to its owner once, store the rest.
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	s, err := apikey.NewSecret("acme")
	if err != nil {
		panic(err)
	}
	h := s.Hash()
	k := apikey.Key{
		ID:        s.ID(),
		Name:      "ci",
		Hash:      h[:],
		Display:   s.Display(),
		CreatedAt: now,
		ExpiresAt: now.Add(apikey.DefaultExpiry),
	}
	fmt.Println(len(s.Reveal()), strings.HasPrefix(k.Display, "acme_…"), utf8.RuneCountInString(k.Display))

	// Using it: parse what the caller presented, find the Key by ID and
	// compare the secret with the stored hash.
	presented, err := apikey.Parse("acme", s.Reveal())
	fmt.Println(err, presented.ID() == k.ID, presented.Matches([32]byte(k.Hash)), k.StatusAt(now))

	// A year later it has expired.
	fmt.Println(k.StatusAt(now.Add(365 * 24 * time.Hour)))
	// Output:
	// 61 true 10
	// <nil> true true active
	// expired
}

func ExampleParse() {
	const key = "acme_k5vq3xw2mzr7ahd4_mz4q7tkw2xr5vnb3hd6jsl3pyc7fg2uadnsc5fy"
	s, err := apikey.Parse("acme", key)
	fmt.Println(err)
	fmt.Println(s.ID()) // for lookup
	fmt.Println(s)      // the display form: the secret is redacted
	fmt.Printf("%#v\n", s)
	fmt.Println(s.Reveal() == key)

	// A typo is caught by the checksum, without asking the store, and the
	// error does not repeat the key.
	_, err = apikey.Parse("acme", strings.Replace(key, "mz4q", "mz4g", 1))
	fmt.Println(errors.Is(err, apikey.ErrMalformedKey))
	fmt.Println(err)
	_, err = apikey.Parse("acme", "acme_k5vq3xw2mzr7ahd4_tooshort")
	fmt.Println(err)
	_, err = apikey.Parse("acme", "other_k5vq3xw2mzr7ahd4_mz4q7tkw2xr5vnb3hd6jsl3pyc7fg2uadnsc5fy")
	fmt.Println(err)
	// Output:
	// <nil>
	// k5vq3xw2mzr7ahd4
	// acme_…c5fy
	// apikey.Secret{id: "k5vq3xw2mzr7ahd4", display: "acme_…c5fy", secret: REDACTED}
	// true
	// true
	// malformed API key: checksum does not match
	// malformed API key: secret part has 8 characters, want 39
	// malformed API key: key does not start with "acme_"
}

func ExampleValidatePrefix() {
	fmt.Println(apikey.ValidatePrefix("acme"))
	fmt.Println(apikey.ValidatePrefix("Acme"))
	fmt.Println(apikey.ValidatePrefix("acme_"))
	// Output:
	// <nil>
	// invalid API key prefix: prefix has an upper-case letter at offset 0 (prefixes are lower case)
	// invalid API key prefix: prefix has a character other than a-z and 0-9 at offset 4
}

func ExampleExpiryPreset() {
	d, err := apikey.ExpiryPreset("6mo")
	fmt.Println(d, err)
	fmt.Println(d.Hours()/24, "days")

	_, err = apikey.ExpiryPreset("3d")
	fmt.Println(err)
	// Output:
	// 4392h0m0s <nil>
	// 183 days
	// invalid API key expiry: not a preset name (want one of 1h, 1d, 7d, 30d, 6mo, 1y, 2y, 4y)
}
