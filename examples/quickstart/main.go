// Command quickstart prints the role model of each preset scheme that
// orgauthz ships (its role × capability matrix, with the editions that
// offer each capability, and the matrices of its scopes) and a handful of
// explained decisions, allowed and denied; then it runs an organization's
// life on each, over the in-memory store, and prints its audit trail.
//
//	go run ./examples/quickstart
package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/policy"
	"github.com/orgauthz/orgauthz/role"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// question is one decision to show.
type question func(s *edition.Scheme) policy.Decision

func decide(ed, r string, c role.Capability) question {
	return func(s *edition.Scheme) policy.Decision { return policy.Decide(s, ed, r, c) }
}

func run(w io.Writer) error {
	presets := []struct {
		scheme    *edition.Scheme
		questions []question
	}{
		{edition.Wherobots(), []question{
			decide("professional", "user", "job_runs:create"),
			decide("community", "user", "job_runs:create"),
			decide("enterprise", "user", "api_keys:revoke_others"),
			func(s *edition.Scheme) policy.Decision {
				return policy.CanChangeRole(s, "community", "admin", "user", "admin")
			},
		}},
		{edition.AIEngine(), []question{
			decide("standard", "editor", "projects:create"),
			decide("standard", "viewer", "billing:manage"),
			func(s *edition.Scheme) policy.Decision { return policy.CanInvite(s, "standard", "editor", "viewer") },
			func(s *edition.Scheme) policy.Decision {
				return policy.Eligible(s, "standard", "project", "external", "owner")
			},
		}},
		{edition.UiPath(), []question{
			decide("standard", "user", "licenses:view"),
			decide("standard", "user", "licenses:edit"),
			func(s *edition.Scheme) policy.Decision {
				return policy.CanChangeRole(s, "standard", "owner", "owner", "administrator")
			},
			func(s *edition.Scheme) policy.Decision {
				return policy.CanChangeRole(s, "standard", "administrator", "user", "administrator")
			},
		}},
		{edition.SoterAI(), []question{
			decide("enterprise", "member", "files:upload"),
			decide("starter", "member", "files:upload"),
			func(s *edition.Scheme) policy.Decision { return policy.CanRemove(s, "enterprise", "manager", "owner") },
			func(s *edition.Scheme) policy.Decision { return policy.CanInvite(s, "starter", "owner", "member") },
		}},
	}
	for _, p := range presets {
		if err := describe(w, p.scheme); err != nil {
			return err
		}
		fmt.Fprintln(w, "Decisions:")
		for _, q := range p.questions {
			fmt.Fprintln(w, "  "+q(p.scheme).String())
		}
		fmt.Fprintln(w)
		if err := life(w, p.scheme); err != nil {
			return err
		}
	}
	return trialLife(w)
}

// describe prints a scheme's editions, matrix and scopes.
func describe(w io.Writer, s *edition.Scheme) error {
	fmt.Fprintf(w, "## %s (%s)\n\n", s.ID(), s.Name())
	var eds []string
	for _, e := range s.Editions() {
		eds = append(eds, fmt.Sprintf("%s: %s", e.ID(), e.Seats()))
	}
	fmt.Fprintf(w, "Editions: %s. Creator role: %s. Invitations default to: %s.\n\n", strings.Join(eds, "; "), s.CreatorRole(), s.InviteRole())
	err := s.Matrix().Render(w, role.RenderOptions{
		Label: role.LabelID,
		Extra: []role.Column{{Title: "Editions", Cell: func(d role.Def) string { return offeredIn(s, d.ID) }}},
	})
	if err != nil {
		return err
	}
	for _, sc := range s.Scopes() {
		fmt.Fprintf(w, "\n%s scope (creator gets %q):\n\n", sc.Name(), sc.CreatorRole())
		if err := sc.Matrix().Render(w, role.RenderOptions{Label: role.LabelID}); err != nil {
			return err
		}
	}
	fmt.Fprintln(w)
	return nil
}

// offeredIn names the editions that offer capability c, or "all".
func offeredIn(s *edition.Scheme, c role.Capability) string {
	ci, _ := s.Catalog().Index(c)
	var in []string
	for _, e := range s.Editions() {
		if e.OffersCapability(ci) {
			in = append(in, e.ID())
		}
	}
	if len(in) == len(s.Editions()) {
		return "all"
	}
	return strings.Join(in, ", ")
}
