package invite_test

import (
	"errors"
	"fmt"

	"github.com/orgauthz/orgauthz/invite"
)

func ExampleNormalizeEmail() {
	addr, err := invite.NormalizeEmail("  Alice.Smith+Team@Example.COM ")
	fmt.Println(addr, err)

	_, err = invite.NormalizeEmail("alice@localhost")
	fmt.Println(errors.Is(err, invite.ErrInvalidEmail))
	fmt.Println(err)
	// Output:
	// alice.smith+team@example.com <nil>
	// true
	// invalid e-mail address: "alice@localhost" has a domain of one label (want a name such as example.com)
}

func ExampleNewToken() {
	// A new invitation takes its ID from NewID; a fixed one keeps the
	// output stable here.
	id := "k5vq3xw2mzr7ahd4"
	tok, err := invite.NewToken(id)
	if err != nil {
		panic(err)
	}
	fmt.Println(tok)      // the secret is redacted
	fmt.Println(tok.ID()) // for lookup
	fmt.Println(len(tok.Hash()))

	// The invitee presents the text that Reveal gave; it matches the
	// stored hash.
	sent, err := invite.ParseToken(tok.Reveal())
	fmt.Println(err, sent.ID() == id, sent.Matches(tok.Hash()))

	// Malformed text is refused without repeating it.
	_, err = invite.ParseToken("inv_" + id + "_tooshort")
	fmt.Println(err)
	// Output:
	// inv_k5vq3xw2mzr7ahd4_REDACTED
	// k5vq3xw2mzr7ahd4
	// 32
	// <nil> true true
	// malformed invitation token: secret part has 8 characters, want 32
}
