package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/orgauthz/orgauthz/store"
	"github.com/orgauthz/orgauthz/store/memstore"
	"github.com/orgauthz/orgauthz/store/pgstore/pgtest"
)

// The PostgreSQL test runs against a private server (see pgtest).
func TestMain(m *testing.M) { pgtest.Main(m) }

// TestREADME replays README.md's session, line by line, against the
// handler over the memory store, and checks every answer it shows.
func TestREADME(t *testing.T) {
	t.Parallel()
	replayREADME(t, memstore.New())
}

// TestREADMEOnPostgreSQL replays it over PostgreSQL, as with DATABASE_URL
// set: openStore migrates an empty database, then opens the store.
func TestREADMEOnPostgreSQL(t *testing.T) {
	t.Parallel()
	st, closeStore, err := openStore(t.Context(), pgtest.NewDatabase(t, ""))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeStore)
	replayREADME(t, st)
}

func newTestServer(t *testing.T, st store.Store) *httptest.Server {
	t.Helper()
	svc, err := newService(st)
	if err != nil {
		t.Fatal(err)
	}
	h, err := newHandler(svc, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// readmeHost is the address the README's calls name.
const readmeHost = "localhost:8080"

func replayREADME(t *testing.T, st store.Store) {
	srv := newTestServer(t, st)
	steps := readmeSteps(t)
	if len(steps) < 15 {
		t.Fatalf("README.md has %d calls; has it lost its session?", len(steps))
	}
	sh := &shell{t: t, base: srv.URL, client: srv.Client(), jars: map[string][]*http.Cookie{}, vars: map[string]string{}}
	for _, s := range steps {
		sh.run(s)
	}
}

// A readmeStep is one call of the README and the answer it shows.
type readmeStep struct {
	line   int
	cmd    string
	status int
	body   string // the answer's body, "…" where parts are left out
}

var answerLine = regexp.MustCompile(`^# → (\d{3})(?: (.*))?$`)

// readmeSteps reads the calls of README.md's sh blocks: each curl line,
// or VAR=$(curl ... | jq -r .path) line, followed by a "# → status body"
// line. The start-up lines (go run) are the only others allowed.
func readmeSteps(t *testing.T) []readmeStep {
	t.Helper()
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	var steps []readmeStep
	var inSh bool
	var pending *readmeStep
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case line == "```sh":
			inSh = true
			continue
		case strings.HasPrefix(line, "```"):
			if pending != nil {
				t.Fatalf("README.md:%d: %q has no answer line", pending.line, pending.cmd)
			}
			inSh = false
			continue
		case !inSh:
			continue
		}
		if pending != nil {
			m := answerLine.FindStringSubmatch(line)
			if m == nil {
				t.Fatalf("README.md:%d: %q is followed by %q, want \"# → <status> <body>\"", pending.line, pending.cmd, line)
			}
			pending.status, _ = strconv.Atoi(m[1])
			pending.body = m[2]
			steps = append(steps, *pending)
			pending = nil
			continue
		}
		switch {
		case strings.HasPrefix(line, "curl ") || captureLine.MatchString(line):
			pending = &readmeStep{line: n, cmd: line}
		case strings.HasPrefix(line, "go run ") || strings.HasPrefix(line, "DATABASE_URL="):
			// Starting the server.
		case strings.HasPrefix(line, "#"), strings.TrimSpace(line) == "":
		default:
			t.Fatalf("README.md:%d: %q is neither a call the test replays nor its answer", n, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return steps
}

// captureLine is VAR=$(curl ... | jq -r .path).
var captureLine = regexp.MustCompile(`^([A-Z][A-Z0-9_]*)=\$\((curl .+) \| jq -r ((?:\.[a-z_]+)+)\)$`)

// shell runs the README's calls as sh and curl would, for the few flags
// the README uses: -s, -c and -b (cookie jars), -X, -H and --json.
type shell struct {
	t      *testing.T
	base   string
	client *http.Client
	jars   map[string][]*http.Cookie
	vars   map[string]string
}

func (sh *shell) run(s readmeStep) {
	t := sh.t
	t.Helper()
	cmd, capture, path := s.cmd, "", ""
	if m := captureLine.FindStringSubmatch(cmd); m != nil {
		capture, cmd, path = m[1], m[2], m[3]
	}
	args, err := shellWords(cmd, sh.vars)
	if err != nil {
		t.Fatalf("README.md:%d: %v", s.line, err)
	}
	status, body := sh.curl(s.line, args[1:])
	if status != s.status || !containsInOrder(body, s.body) {
		t.Errorf("README.md:%d: %s\n  answered %d %s\n  README says %d %s", s.line, s.cmd, status, strings.TrimSpace(body), s.status, s.body)
	}
	if capture != "" {
		v, err := jqRaw(body, path)
		if err != nil {
			t.Fatalf("README.md:%d: jq -r %s: %v in %s", s.line, path, err, body)
		}
		sh.vars[capture] = v
	}
}

// curl sends the request that curl would for args.
func (sh *shell) curl(line int, args []string) (int, string) {
	t := sh.t
	t.Helper()
	method, target, readJar, writeJar := "", "", "", ""
	var body io.Reader
	header := http.Header{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		next := func() string {
			if i+1 >= len(args) {
				t.Fatalf("README.md:%d: %s wants a value", line, a)
			}
			i++
			return args[i]
		}
		switch a {
		case "-s":
		case "-X":
			method = next()
		case "-H":
			k, v, ok := strings.Cut(next(), ":")
			if !ok {
				t.Fatalf("README.md:%d: -H %q is not a header", line, args[i])
			}
			header.Add(k, strings.TrimSpace(v))
		case "-b":
			readJar = next()
		case "-c":
			writeJar = next()
		case "--json":
			body = strings.NewReader(next())
			header.Set("Content-Type", "application/json")
			header.Set("Accept", "application/json")
			if method == "" {
				method = "POST"
			}
		default:
			if strings.HasPrefix(a, "-") || target != "" {
				t.Fatalf("README.md:%d: the test's curl does not know %q", line, a)
			}
			target = a
		}
	}
	path, ok := strings.CutPrefix(target, readmeHost)
	if !ok || !strings.HasPrefix(path, "/") {
		t.Fatalf("README.md:%d: the URL %q is not on %s", line, target, readmeHost)
	}
	if method == "" {
		method = "GET"
	}
	req, err := http.NewRequestWithContext(t.Context(), method, sh.base+path, body)
	if err != nil {
		t.Fatalf("README.md:%d: %v", line, err)
	}
	req.Header = header
	if readJar != "" {
		jar, ok := sh.jars[readJar]
		if !ok {
			t.Fatalf("README.md:%d: -b %s before any -c %s", line, readJar, readJar)
		}
		for _, c := range jar {
			req.AddCookie(c)
		}
	}
	resp, err := sh.client.Do(req)
	if err != nil {
		t.Fatalf("README.md:%d: %v", line, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("README.md:%d: %v", line, err)
	}
	if writeJar != "" {
		jar := sh.jars[writeJar]
		for _, c := range resp.Cookies() {
			jar = slices.DeleteFunc(jar, func(old *http.Cookie) bool { return old.Name == c.Name })
			jar = append(jar, &http.Cookie{Name: c.Name, Value: c.Value})
		}
		sh.jars[writeJar] = jar
	}
	return resp.StatusCode, string(b)
}

// containsInOrder reports whether body holds the parts of want that "…"
// separates, in order.
func containsInOrder(body, want string) bool {
	for part := range strings.SplitSeq(want, "…") {
		i := strings.Index(body, part)
		if i < 0 {
			return false
		}
		body = body[i+len(part):]
	}
	return true
}

// jqRaw is jq -r path for a path of object keys, whose value is a string.
func jqRaw(body, path string) (string, error) {
	var v any
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		return "", err
	}
	for key := range strings.SplitSeq(strings.TrimPrefix(path, "."), ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return "", fmt.Errorf("%q: not an object", key)
		}
		if v, ok = m[key]; !ok {
			return "", fmt.Errorf("no %q", key)
		}
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s is not a string", path)
	}
	return s, nil
}

// shellWords splits a command line as sh does, for what the README uses:
// 'single' and "double" quotes (with \" \\ \$ inside), and $VAR or
// ${VAR} outside single quotes. An unset variable is an error.
func shellWords(s string, vars map[string]string) ([]string, error) {
	var words []string
	var w strings.Builder
	inWord := false
	expand := func(i int) (int, error) { // s[i] == '$'
		j, name := i+1, ""
		if j < len(s) && s[j] == '{' {
			k := strings.IndexByte(s[j:], '}')
			if k < 0 {
				return 0, errors.New("unclosed ${")
			}
			name, j = s[j+1:j+k], j+k+1
		} else {
			for j < len(s) && (s[j] == '_' || 'A' <= s[j] && s[j] <= 'Z' || 'a' <= s[j] && s[j] <= 'z' || '0' <= s[j] && s[j] <= '9') {
				j++
			}
			name = s[i+1 : j]
		}
		v, ok := vars[name]
		if !ok {
			return 0, fmt.Errorf("$%s is not set (yet)", name)
		}
		w.WriteString(v)
		return j, nil
	}
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == ' ' || c == '\t':
			if inWord {
				words, inWord = append(words, w.String()), false
				w.Reset()
			}
			i++
		case c == '\'':
			k := strings.IndexByte(s[i+1:], '\'')
			if k < 0 {
				return nil, errors.New("unclosed '")
			}
			w.WriteString(s[i+1 : i+1+k])
			i, inWord = i+k+2, true
		case c == '"':
			inWord = true
			for i++; ; {
				if i >= len(s) {
					return nil, errors.New(`unclosed "`)
				}
				if s[i] == '"' {
					i++
					break
				}
				switch {
				case s[i] == '\\' && i+1 < len(s) && strings.IndexByte(`"\$`, s[i+1]) >= 0:
					w.WriteByte(s[i+1])
					i += 2
				case s[i] == '$':
					var err error
					if i, err = expand(i); err != nil {
						return nil, err
					}
				default:
					w.WriteByte(s[i])
					i++
				}
			}
		case c == '$':
			var err error
			if i, err = expand(i); err != nil {
				return nil, err
			}
			inWord = true
		case c == '\\' || c == '|' || c == ';' || c == '&' || c == '<' || c == '>' || c == '`' || c == '(' || c == ')':
			return nil, fmt.Errorf("%q is more shell than the test knows", c)
		default:
			w.WriteByte(c)
			i, inWord = i+1, true
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	return words, nil
}

func TestShellWords(t *testing.T) {
	t.Parallel()
	vars := map[string]string{"TOKEN": "inv_a_b", "SP": "sp-1"}
	for in, want := range map[string][]string{
		`curl -s -b a.jar --json '{"a":"b c"}' localhost:8080/x`: {"curl", "-s", "-b", "a.jar", "--json", `{"a":"b c"}`, "localhost:8080/x"},
		`curl --json "{\"token\":\"$TOKEN\"}"`:                   {"curl", "--json", `{"token":"inv_a_b"}`},
		`curl "localhost:8080/k?owner=$SP" ${SP}x '$SP'`:         {"curl", "localhost:8080/k?owner=sp-1", "sp-1x", "$SP"},
	} {
		got, err := shellWords(in, vars)
		if err != nil || strings.Join(got, "\x00") != strings.Join(want, "\x00") {
			t.Errorf("shellWords(%s) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{`curl $NOPE`, `curl 'open`, `curl a | jq`, `curl "open`} {
		if _, err := shellWords(in, vars); err == nil {
			t.Errorf("shellWords(%s) did not fail", in)
		}
	}
	if !containsInOrder(`{"a":1,"b":2,"c":3}`, `{"a":1,…,"c":3}`) || containsInOrder(`{"a":1,"b":2}`, `"b":2…"a":1`) {
		t.Error("containsInOrder")
	}
}

// TestSignIn checks the stub sign-in and the session's edges, which the
// README does not show.
func TestSignIn(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, memstore.New())
	post := func(path, body string, h ...string) *http.Response {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), "POST", srv.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		for i := 0; i+1 < len(h); i += 2 {
			req.Header.Set(h[i], h[i+1])
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	resp := post("/signin", `{"principal":"ada","email":"ada@example.com"}`)
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie {
			cookie = c
		}
	}
	if resp.StatusCode != 200 || cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || len(cookie.Value) < 26 {
		t.Fatalf("sign-in: %d, cookie %+v", resp.StatusCode, cookie)
	}
	for _, tt := range []struct {
		path, body string
		header     []string
		status     int
	}{
		{"/signin", `{"principal":"ada","admin":true}`, nil, 400},
		{"/signin", `{"principal":""}`, nil, 400},
		{"/signin", `{"principal":"a b"}`, nil, 400},
		{"/signin", `{"principal":"eve"}`, []string{"Sec-Fetch-Site", "cross-site"}, 403},
		{"/orgs/acme/jobs", ``, []string{"Cookie", sessionCookie + "=" + cookie.Value, "Origin", "https://evil.example"}, 403},
		{"/api/orgs", `{"name":"X","scheme":"wherobots"}`, []string{"Cookie", sessionCookie + "=" + cookie.Value, "Sec-Fetch-Site", "cross-site"}, 403},
		{"/api/orgs", `{"name":"X","scheme":"wherobots"}`, []string{"Cookie", sessionCookie + "=forged"}, 401},
		{"/orgs/acme/jobs", ``, []string{"Cookie", sessionCookie + "=forged"}, 401},
		{"/orgs/acme/jobs", ``, []string{"Cookie", sessionCookie + "=" + cookie.Value}, 403},
		{"/api/orgs", `{"name":"X","scheme":"wherobots"}`, []string{"Cookie", sessionCookie + "=" + cookie.Value}, 201},
	} {
		resp := post(tt.path, tt.body, tt.header...)
		if resp.StatusCode != tt.status {
			t.Errorf("POST %s %s %q: %d, want %d", tt.path, tt.body, tt.header, resp.StatusCode, tt.status)
		}
		if ct := resp.Header.Get("Content-Type"); tt.status >= 400 && ct != "application/problem+json" {
			t.Errorf("POST %s %s %q: %d with Content-Type %q, want a problem", tt.path, tt.body, tt.header, resp.StatusCode, ct)
		}
	}
}

// TestServe serves on a real listener and shuts down when the context is
// done.
func TestServe(t *testing.T) {
	t.Parallel()
	svc, err := newService(memstore.New())
	if err != nil {
		t.Fatal(err)
	}
	h, err := newHandler(svc, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, ln, h) }()
	resp, err := http.Post("http://"+ln.Addr().String()+"/signin", "application/json", strings.NewReader(`{"principal":"ada"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("sign-in: %d", resp.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve: %v", err)
	}
}
