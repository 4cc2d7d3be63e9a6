package apikey_test

import (
	"bytes"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/orgauthz/orgauthz/apikey"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// assertRedacted fails if out shows the secret: any 8-character run of
// the text after the ID (the secret and its checksum), upper-cased or
// not, the whole checksum, the secret's 20 raw bytes in decimal (as fmt
// prints a byte array), hex or octal, or its hash.
func assertRedacted(t *testing.T, s apikey.Secret, out string) {
	t.Helper()
	_, _, secret, sum := parts(t, s.Reveal())
	tail := secret + sum
	for i := 0; i+8 <= len(tail); i++ {
		run := tail[i : i+8]
		if strings.Contains(out, run) || strings.Contains(out, strings.ToUpper(run)) {
			t.Fatalf("output shows the key's run %q:\n%s", run, out)
		}
	}
	if strings.Contains(out, sum) {
		t.Fatalf("output shows the checksum %q:\n%s", sum, out)
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
	h := s.Hash()
	assert.NotContains(t, out, fmt.Sprintf("%x", h[:8]), "output shows the hash")
}

type wrapper struct {
	Name   string
	Secret apikey.Secret
	Ptr    *apikey.Secret
}

type hidden struct {
	name   string
	secret apikey.Secret
}

func TestSecretRedaction(t *testing.T) {
	t.Parallel()
	s, err := apikey.NewSecret(validPrefix)
	require.NoError(t, err)
	key := s.Reveal()
	want := "acme_…" + key[len(key)-4:]
	assert.Equal(t, want, s.Display())
	assert.Equal(t, want, s.String())
	assert.Equal(t, `apikey.Secret{id: "`+s.ID()+`", display: "`+want+`", secret: REDACTED}`, s.GoString())
	assert.Equal(t, want, s.LogValue().String())

	w := wrapper{Name: "w", Secret: s, Ptr: &s}
	h := hidden{name: "h", secret: s}

	// Each case's output must not show the secret; where showsID, it must
	// show the key's ID, and where display, its display form.
	cases := []struct {
		name    string
		out     func() string
		showsID bool
		display bool
	}{
		{"%v", func() string { return format("%v", s) }, false, true},
		{"%s", func() string { return format("%s", s) }, false, true},
		{"%+v", func() string { return format("%+v", s) }, false, true},
		{"%#v", func() string { return format("%#v", s) }, true, true},
		{"%q", func() string { return format("%q", s) }, false, true},
		{"%x", func() string { return format("%x", s) }, false, false},
		{"%X", func() string { return format("%X", s) }, false, false},
		{"%d", func() string { return format("%d", s) }, false, false},
		{"%v pointer", func() string { return format("%v", &s) }, false, true},
		{"%#v pointer", func() string { return format("%#v", &s) }, true, true},
		{"Println", func() string { return fmt.Sprintln(s) }, false, true},
		{"%v slice", func() string { return format("%v", []apikey.Secret{s}) }, false, true},
		{"%#v slice", func() string { return format("%#v", []apikey.Secret{s}) }, true, true},
		{"%v map", func() string { return format("%v", map[string]apikey.Secret{"k": s}) }, false, true},
		{"%v struct", func() string { return format("%v", w) }, false, true},
		{"%+v struct", func() string { return format("%+v", w) }, false, true},
		{"%#v struct", func() string { return format("%#v", w) }, true, true},
		// fmt cannot call methods on an unexported field: it prints the
		// fields, and the secret is behind a pointer it does not follow.
		{"%+v unexported field", func() string { return format("%+v", h) }, true, false},
		{"%#v unexported field", func() string { return format("%#v", h) }, true, false},
		{"%x unexported field", func() string { return format("%x", h) }, false, false},
		{"error wrapping", func() string { return fmt.Errorf("create %v: %w", s, errors.New("boom")).Error() }, false, true},
		{"json", func() string { b, err := json.Marshal(s); require.NoError(t, err); return string(b) }, false, true},
		{"json pointer", func() string { b, err := json.Marshal(&s); require.NoError(t, err); return string(b) }, false, true},
		{"json struct", func() string { b, err := json.Marshal(w); require.NoError(t, err); return string(b) }, false, true},
		{"json map key", func() string {
			b, err := json.Marshal(map[apikey.Secret]int{s: 1})
			require.NoError(t, err)
			return string(b)
		}, false, true},
		{"json indented", func() string { b, err := json.MarshalIndent(w, "", "  "); require.NoError(t, err); return string(b) }, false, true},
		{"MarshalText", func() string { b, err := s.MarshalText(); require.NoError(t, err); return string(b) }, false, true},
		{"slog text", func() string { return logText(func(l *slog.Logger) { l.Info("made", "key", s) }) }, false, true},
		{"slog text pointer", func() string { return logText(func(l *slog.Logger) { l.Info("made", "key", &s) }) }, false, true},
		{"slog text struct", func() string { return logText(func(l *slog.Logger) { l.Info("made", "w", w) }) }, false, true},
		{"slog text unexported", func() string { return logText(func(l *slog.Logger) { l.Info("made", "h", h) }) }, true, false},
		{"slog text group", func() string {
			return logText(func(l *slog.Logger) { l.Info("made", slog.Group("apikey", slog.Any("key", s))) })
		}, false, true},
		{"slog text With", func() string { return logText(func(l *slog.Logger) { l.With("key", s).Info("made") }) }, false, true},
		{"slog text Attr", func() string {
			return logText(func(l *slog.Logger) { l.LogAttrs(t.Context(), slog.LevelInfo, "made", slog.Any("key", s)) })
		}, false, true},
		{"slog json", func() string { return logJSON(func(l *slog.Logger) { l.Info("made", "key", s) }) }, false, true},
		{"slog json pointer", func() string { return logJSON(func(l *slog.Logger) { l.Info("made", "key", &s) }) }, false, true},
		{"slog json struct", func() string { return logJSON(func(l *slog.Logger) { l.Info("made", "w", w) }) }, false, true},
		{"slog json unexported", func() string { return logJSON(func(l *slog.Logger) { l.Info("made", "h", h) }) }, false, false},
		{"slog json group", func() string {
			return logJSON(func(l *slog.Logger) { l.Info("made", slog.Group("apikey", slog.Any("key", s))) })
		}, false, true},
		{"slog json slice", func() string { return logJSON(func(l *slog.Logger) { l.Info("made", "keys", []apikey.Secret{s}) }) }, false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := c.out()
			assertRedacted(t, s, out)
			if c.showsID {
				assert.Contains(t, out, s.ID())
			}
			if c.display {
				assert.Contains(t, out, want)
			}
		})
	}
}

// format is fmt.Sprintf for one value, which vet does not check: the
// point is to try verbs that do not suit a Secret.
func format(verb string, v any) string { return fmt.Sprintf(verb, v) }

// TestSecretRedactionEveryVerb prints a key, directly and inside other
// values (where fmt may not call its methods), with every verb.
func TestSecretRedactionEveryVerb(t *testing.T) {
	t.Parallel()
	s, err := apikey.NewSecret(validPrefix)
	require.NoError(t, err)
	values := map[string]any{
		"secret":                s,
		"pointer":               &s,
		"pointer to pointer":    func() **apikey.Secret { p := &s; return &p }(),
		"exported field":        wrapper{Name: "w", Secret: s, Ptr: &s},
		"unexported field":      hidden{name: "h", secret: s},
		"pointer to unexported": &hidden{name: "h", secret: s},
		"slice":                 []apikey.Secret{s},
		"array":                 [1]apikey.Secret{s},
		"map":                   map[apikey.Secret]apikey.Secret{s: s},
		"any slice":             []any{s, &s},
		"unexported in slice":   []hidden{{name: "h", secret: s}},
	}
	verbs := []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "% x", "%d", "%b", "%o", "%O", "%c", "%U", "%t", "%e", "%g", "%p", "%T", "%10.3v", "%-60s", "%#q", "%+q"}
	for name, v := range values {
		for _, verb := range verbs {
			t.Run(name+" "+verb, func(t *testing.T) {
				assertRedacted(t, s, format(verb, v))
			})
		}
	}
}

// TestSecretRedactionParsed: a Secret from Parse redacts itself as one
// from NewSecret does.
func TestSecretRedactionParsed(t *testing.T) {
	t.Parallel()
	s := mustParse(t, validKey)
	for _, out := range []string{
		format("%v", s), format("%#v", s), format("%+v", hidden{secret: s}), format("%x", hidden{secret: s}),
		logText(func(l *slog.Logger) { l.Info("k", "key", s) }),
		logJSON(func(l *slog.Logger) { l.Info("k", "key", s) }),
	} {
		assertRedacted(t, s, out)
		assert.NotContains(t, out, validSecret[:8])
	}
	assert.Equal(t, "acme_…7ghl", fmt.Sprint(s))
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
