package invite_test

import (
	"bytes"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/orgauthz/orgauthz/invite"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// secretOf returns the secret part of a token's text.
func secretOf(t *testing.T, tok invite.Token) string {
	t.Helper()
	text := tok.Reveal()
	i := strings.LastIndexByte(text, '_')
	require.Positive(t, i)
	secret := text[i+1:]
	require.Len(t, secret, 32)
	return secret
}

// assertRedacted fails if out shows the secret: any 8-character run of its
// text, upper-cased or not, or its 20 raw bytes in decimal (as fmt prints a
// byte array), hex or octal, or the hash of it.
func assertRedacted(t *testing.T, tok invite.Token, out string) {
	t.Helper()
	secret := secretOf(t, tok)
	for i := 0; i+8 <= len(secret); i++ {
		run := secret[i : i+8]
		if strings.Contains(out, run) || strings.Contains(out, strings.ToUpper(run)) {
			t.Fatalf("output shows the secret's run %q:\n%s", run, out)
		}
	}
	raw, err := base32.StdEncoding.DecodeString(strings.ToUpper(secret))
	require.NoError(t, err)
	for i := 0; i+4 <= len(raw); i++ {
		w := raw[i : i+4]
		for _, form := range []string{
			strings.Trim(fmt.Sprint(w), "[]"), // 28 73 172 118
			fmt.Sprintf("%x", w),
			fmt.Sprintf("%X", w),
			strings.Trim(fmt.Sprintf("%o", w), "[]"),
		} {
			if strings.Contains(out, form) {
				t.Fatalf("output shows the secret's bytes %v as %q:\n%s", w, form, out)
			}
		}
	}
	h := fmt.Sprintf("%x", tok.Hash())
	assert.NotContains(t, out, h[:16], "output shows the hash")
}

type wrapper struct {
	Name  string
	Token invite.Token
	Ptr   *invite.Token
}

type hidden struct {
	name  string
	token invite.Token
}

func TestTokenRedaction(t *testing.T) {
	t.Parallel()
	tok, err := invite.NewToken(invite.NewID())
	require.NoError(t, err)
	want := "inv_" + tok.ID() + "_REDACTED"
	assert.Equal(t, want, tok.String())
	assert.Equal(t, `invite.Token{id: "`+tok.ID()+`", secret: REDACTED}`, tok.GoString())
	assert.Equal(t, want, tok.LogValue().String())

	w := wrapper{Name: "w", Token: tok, Ptr: &tok}
	h := hidden{name: "h", token: tok}

	// Each case's output must not show the secret; where showsID, it must
	// show the redacted form.
	cases := []struct {
		name     string
		out      func() string
		showsID  bool
		redacted bool
	}{
		{"%v", func() string { return format("%v", tok) }, true, true},
		{"%s", func() string { return format("%s", tok) }, true, true},
		{"%+v", func() string { return format("%+v", tok) }, true, true},
		{"%#v", func() string { return format("%#v", tok) }, true, false},
		{"%q", func() string { return format("%q", tok) }, true, true},
		{"%x", func() string { return format("%x", tok) }, false, false},
		{"%X", func() string { return format("%X", tok) }, false, false},
		{"%d", func() string { return format("%d", tok) }, false, false},
		{"%v pointer", func() string { return format("%v", &tok) }, true, true},
		{"%#v pointer", func() string { return format("%#v", &tok) }, true, false},
		{"Println", func() string { return fmt.Sprintln(tok) }, true, true},
		{"%v slice", func() string { return format("%v", []invite.Token{tok}) }, true, true},
		{"%#v slice", func() string { return format("%#v", []invite.Token{tok}) }, true, false},
		{"%v map", func() string { return format("%v", map[string]invite.Token{"k": tok}) }, true, true},
		{"%v struct", func() string { return format("%v", w) }, true, true},
		{"%+v struct", func() string { return format("%+v", w) }, true, true},
		{"%#v struct", func() string { return format("%#v", w) }, true, false},
		// fmt cannot call methods on an unexported field: it prints the
		// fields, and the secret is behind a pointer it does not follow.
		{"%+v unexported field", func() string { return format("%+v", h) }, true, false},
		{"%#v unexported field", func() string { return format("%#v", h) }, true, false},
		{"%x unexported field", func() string { return format("%x", h) }, false, false},
		{"error wrapping", func() string { return fmt.Errorf("accept %v: %w", tok, errors.New("boom")).Error() }, true, true},
		{"json", func() string { b, err := json.Marshal(tok); require.NoError(t, err); return string(b) }, true, true},
		{"json pointer", func() string { b, err := json.Marshal(&tok); require.NoError(t, err); return string(b) }, true, true},
		{"json struct", func() string { b, err := json.Marshal(w); require.NoError(t, err); return string(b) }, true, true},
		{"json map key", func() string {
			b, err := json.Marshal(map[invite.Token]int{tok: 1})
			require.NoError(t, err)
			return string(b)
		}, true, true},
		{"MarshalText", func() string { b, err := tok.MarshalText(); require.NoError(t, err); return string(b) }, true, true},
		{"slog text", func() string { return logText(func(l *slog.Logger) { l.Info("sent", "token", tok) }) }, true, true},
		{"slog text pointer", func() string { return logText(func(l *slog.Logger) { l.Info("sent", "token", &tok) }) }, true, true},
		{"slog text struct", func() string { return logText(func(l *slog.Logger) { l.Info("sent", "w", w) }) }, true, true},
		{"slog text unexported", func() string { return logText(func(l *slog.Logger) { l.Info("sent", "h", h) }) }, true, false},
		{"slog text group", func() string {
			return logText(func(l *slog.Logger) { l.Info("sent", slog.Group("invite", slog.Any("token", tok))) })
		}, true, true},
		{"slog text With", func() string { return logText(func(l *slog.Logger) { l.With("token", tok).Info("sent") }) }, true, true},
		{"slog json", func() string { return logJSON(func(l *slog.Logger) { l.Info("sent", "token", tok) }) }, true, true},
		{"slog json pointer", func() string { return logJSON(func(l *slog.Logger) { l.Info("sent", "token", &tok) }) }, true, true},
		{"slog json struct", func() string { return logJSON(func(l *slog.Logger) { l.Info("sent", "w", w) }) }, true, true},
		{"slog json unexported", func() string { return logJSON(func(l *slog.Logger) { l.Info("sent", "h", h) }) }, false, false},
		{"slog json group", func() string {
			return logJSON(func(l *slog.Logger) { l.Info("sent", slog.Group("invite", slog.Any("token", tok))) })
		}, true, true},
		{"slog json slice", func() string { return logJSON(func(l *slog.Logger) { l.Info("sent", "tokens", []invite.Token{tok}) }) }, true, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := c.out()
			assertRedacted(t, tok, out)
			if c.showsID {
				assert.Contains(t, out, tok.ID())
			}
			if c.redacted {
				assert.Contains(t, out, want)
			}
		})
	}
}

// format is fmt.Sprintf for one value, which vet does not check: the
// point is to try verbs that do not suit a Token.
func format(verb string, v any) string { return fmt.Sprintf(verb, v) }

// TestTokenRedactionEveryVerb prints a token, directly and inside other
// values (where fmt may not call its methods), with every verb.
func TestTokenRedactionEveryVerb(t *testing.T) {
	t.Parallel()
	tok, err := invite.NewToken(invite.NewID())
	require.NoError(t, err)
	values := map[string]any{
		"token":                 tok,
		"pointer":               &tok,
		"exported field":        wrapper{Name: "w", Token: tok, Ptr: &tok},
		"unexported field":      hidden{name: "h", token: tok},
		"pointer to unexported": &hidden{name: "h", token: tok},
		"slice":                 []invite.Token{tok},
		"array":                 [1]invite.Token{tok},
		"map":                   map[invite.Token]invite.Token{tok: tok},
		"any slice":             []any{tok, &tok},
	}
	verbs := []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "% x", "%d", "%b", "%o", "%O", "%c", "%U", "%t", "%e", "%g", "%p", "%T", "%10.3v", "%-60s", "%#q", "%+q"}
	for name, v := range values {
		for _, verb := range verbs {
			t.Run(name+" "+verb, func(t *testing.T) {
				assertRedacted(t, tok, format(verb, v))
			})
		}
	}
}

func logText(f func(*slog.Logger)) string {
	var buf bytes.Buffer
	f(slog.New(slog.NewTextHandler(&buf, nil)))
	return buf.String()
}

func logJSON(f func(*slog.Logger)) string {
	var buf bytes.Buffer
	f(slog.New(slog.NewJSONHandler(&buf, nil)))
	return buf.String()
}
