// Command orgauthz checks, shows and compares orgauthz schemes kept as
// files (see package schemefile), and plans a change of schemes over a
// live PostgreSQL store.
//
//	go install github.com/orgauthz/orgauthz/cmd/orgauthz@latest
//
//	orgauthz validate FILE...
//	orgauthz render [-format markdown|html|csv] FILE
//	orgauthz explain FILE EDITION ROLE CAPABILITY
//	orgauthz diff [-json] [-allow-breaking] [-allow-escalation] OLD NEW
//	orgauthz plan [-database-url URL] [-json] FILE...
//
// Exit codes, for CI: 0 when all is well (files valid, the capability
// allowed, no breaking or escalating change, nothing broken); 1 when the
// command found what it checks for (an invalid file, a denial, a
// breaking or escalating change not allowed by a flag, organizations the
// schemes would break); 2 when it could not run (bad usage, an unreadable
// file, a database it cannot reach).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/orgauthz/orgauthz"
	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/edition/diff"
	"github.com/orgauthz/orgauthz/edition/render"
	"github.com/orgauthz/orgauthz/policy"
	"github.com/orgauthz/orgauthz/role"
	"github.com/orgauthz/orgauthz/schemefile"
	"github.com/orgauthz/orgauthz/store/pgstore"
)

// The exit codes.
const (
	exitOK    = 0
	exitFound = 1
	exitError = 2
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage:
  orgauthz validate FILE...
  orgauthz render [-format markdown|html|csv] FILE
  orgauthz explain FILE EDITION ROLE CAPABILITY
  orgauthz diff [-json] [-allow-breaking] [-allow-escalation] OLD NEW
  orgauthz plan [-database-url URL] [-json] FILE...
`

// run runs the command of args, writing to stdout and stderr, and returns
// its exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitError
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "validate":
		return validate(args, stdout, stderr)
	case "render":
		return renderCmd(args, stdout, stderr)
	case "explain":
		return explain(args, stdout, stderr)
	case "diff":
		return diffCmd(args, stdout, stderr)
	case "plan":
		return plan(ctx, args, stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "orgauthz: unknown command %q\n%s", cmd, usage)
	return exitError
}

// flags returns a flag set of command name that writes its errors to
// stderr.
func flags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("orgauthz "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// load loads the scheme file at path, telling a file that is not a valid
// scheme (exitFound) from one that cannot be read (exitError).
func load(path string, stderr io.Writer) (*edition.Scheme, int) {
	s, err := schemefile.Load(path)
	if err == nil {
		return s, exitOK
	}
	fmt.Fprintln(stderr, err)
	if errors.Is(err, schemefile.ErrInvalid) {
		return nil, exitFound
	}
	return nil, exitError
}

func validate(args []string, stdout, stderr io.Writer) int {
	fs := flags("validate", stderr)
	if err := fs.Parse(args); err != nil {
		return exitError
	}
	if fs.NArg() == 0 {
		fmt.Fprint(stderr, "orgauthz validate: no file\n"+usage)
		return exitError
	}
	code := exitOK
	for _, path := range fs.Args() {
		s, c := load(path, stderr)
		if c != exitOK {
			code = max(code, c)
			continue
		}
		fmt.Fprintf(stdout, "%s: scheme %q: %d role(s), %d capabilit(ies), %d edition(s), %d scope kind(s): valid\n",
			path, s.ID(), s.Matrix().NumRoles(), s.Catalog().Len(), len(s.Editions()), len(s.Scopes()))
	}
	return code
}

func renderCmd(args []string, stdout, stderr io.Writer) int {
	fs := flags("render", stderr)
	format := fs.String("format", "markdown", "the tables' format: markdown, html or csv")
	if err := fs.Parse(args); err != nil {
		return exitError
	}
	if fs.NArg() != 1 {
		fmt.Fprint(stderr, "orgauthz render: want one FILE\n"+usage)
		return exitError
	}
	f, err := render.ParseFormat(*format)
	if err != nil {
		fmt.Fprintf(stderr, "orgauthz render: %v: want markdown, html or csv\n", err)
		return exitError
	}
	s, c := load(fs.Arg(0), stderr)
	if c != exitOK {
		return c
	}
	if err := render.Matrix(stdout, s, f); err != nil {
		fmt.Fprintln(stderr, "orgauthz render:", err)
		return exitError
	}
	if len(s.Scopes()) > 0 {
		if f != render.CSV {
			fmt.Fprintln(stdout)
		}
		if err := render.Scopes(stdout, s, f); err != nil {
			fmt.Fprintln(stderr, "orgauthz render:", err)
			return exitError
		}
	}
	return exitOK
}

func explain(args []string, stdout, stderr io.Writer) int {
	fs := flags("explain", stderr)
	if err := fs.Parse(args); err != nil {
		return exitError
	}
	if fs.NArg() != 4 {
		fmt.Fprint(stderr, "orgauthz explain: want FILE EDITION ROLE CAPABILITY\n"+usage)
		return exitError
	}
	s, c := load(fs.Arg(0), stderr)
	if c != exitOK {
		return c
	}
	d := policy.Decide(s, fs.Arg(1), fs.Arg(2), role.Capability(fs.Arg(3)))
	fmt.Fprintln(stdout, d)
	if !d.Allowed {
		return exitFound
	}
	return exitOK
}

func diffCmd(args []string, stdout, stderr io.Writer) int {
	fs := flags("diff", stderr)
	asJSON := fs.Bool("json", false, "write the report as JSON")
	allowBreaking := fs.Bool("allow-breaking", false, "exit 0 even when the change restricts or removes something")
	allowEscalation := fs.Bool("allow-escalation", false, "exit 0 even when the change lets someone do more")
	if err := fs.Parse(args); err != nil {
		return exitError
	}
	if fs.NArg() != 2 {
		fmt.Fprint(stderr, "orgauthz diff: want OLD NEW\n"+usage)
		return exitError
	}
	old, c := load(fs.Arg(0), stderr)
	if c != exitOK {
		return c
	}
	nw, c := load(fs.Arg(1), stderr)
	if c != exitOK {
		return c
	}
	r := diff.Compare(old, nw)
	var err error
	if *asJSON {
		err = r.WriteJSON(stdout)
	} else {
		err = r.WriteText(stdout)
	}
	if err != nil {
		fmt.Fprintln(stderr, "orgauthz diff:", err)
		return exitError
	}
	if r.Breaking() && !*allowBreaking || r.Escalating() && !*allowEscalation {
		return exitFound
	}
	return exitOK
}

func plan(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flags("plan", stderr)
	url := fs.String("database-url", os.Getenv("DATABASE_URL"), "the PostgreSQL store's connection string (default $DATABASE_URL)")
	asJSON := fs.Bool("json", false, "write the plan as JSON")
	if err := fs.Parse(args); err != nil {
		return exitError
	}
	if fs.NArg() == 0 || *url == "" {
		fmt.Fprint(stderr, "orgauthz plan: want -database-url (or $DATABASE_URL) and at least one scheme FILE\n"+usage)
		return exitError
	}
	var schemes []*edition.Scheme
	for _, path := range fs.Args() {
		s, c := load(path, stderr)
		if c != exitOK {
			return exitError // a plan needs every scheme
		}
		schemes = append(schemes, s)
	}
	st, err := pgstore.Open(ctx, *url, pgstore.Options{DisableCache: true})
	if err != nil {
		fmt.Fprintln(stderr, "orgauthz plan:", err)
		return exitError
	}
	defer st.Close()
	p, err := orgauthz.PlanSchemes(ctx, st, schemes)
	if err != nil {
		fmt.Fprintln(stderr, "orgauthz plan:", err)
		return exitError
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(p)
	} else {
		err = p.WriteText(stdout)
	}
	if err != nil {
		fmt.Fprintln(stderr, "orgauthz plan:", err)
		return exitError
	}
	if len(p.Breaks) > 0 {
		return exitFound
	}
	return exitOK
}
