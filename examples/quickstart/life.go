package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/orgauthz/orgauthz"
	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/store/memstore"
)

// life runs one organization's life on scheme s: created, members added,
// roles changed, a refused last-admin demotion and a refused downgrade,
// then the audit trail. It uses a fixed clock and IDs, so its output does
// not change from run to run, but for invitation IDs, which are random.
func life(w io.Writer, s *edition.Scheme) error {
	ctx := context.Background()
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	n := 0
	svc, err := orgauthz.New(memstore.New(), orgauthz.Options{
		Schemes: []*edition.Scheme{s},
		Clock:   func() time.Time { now = now.Add(time.Second); return now },
		NewID:   func() string { n++; return fmt.Sprintf("%s-%d", s.ID(), n) },
	})
	if err != nil {
		return err
	}
	step := func(what string, err error) {
		if err != nil {
			fmt.Fprintf(w, "  %-44s refused: %v\n", what, err)
		} else {
			fmt.Fprintf(w, "  %-44s done\n", what)
		}
	}
	person := func(id string) org.Principal { return org.Principal{ID: id, Kind: org.User} }
	fmt.Fprintf(w, "### A life on %s\n\n", s.ID())

	top := s.Editions()[len(s.Editions())-1].ID() // the largest edition
	o, err := svc.CreateOrganization(ctx, person("ada"), orgauthz.NewOrganization{Name: "Acme", Edition: top})
	if err != nil {
		return err
	}
	id := o.ID
	fmt.Fprintf(w, "  ada creates %q (%s edition) and becomes %s\n", id, o.Edition, s.CreatorRole())

	switch s.ID() {
	case "wherobots":
		_, err = svc.Provision(ctx, id, person("bob"), "user")
		step("provision bob as user", err)
		_, err = svc.ChangeRole(ctx, id, "ada", "ada", "user")
		step("ada steps down to user", err)
		_, err = svc.ChangeRole(ctx, id, "ada", "bob", "admin")
		step("ada makes bob admin", err)
		_, err = svc.ChangeRole(ctx, id, "ada", "ada", "user")
		step("ada steps down to user", err)
		for _, p := range []string{"cy", "di", "ed", "flo"} {
			_, err = svc.Provision(ctx, id, person(p), "user")
			step("provision "+p+" as user", err)
		}
		step("bob downgrades to community (5 seats)", svc.ChangeEdition(ctx, id, "bob", "community"))
		step("ada (a user) upgrades nothing", svc.ChangeEdition(ctx, id, "ada", "professional"))

		inv, tok, err := svc.Invite(ctx, id, "bob", "Gil@Example.com", "")
		step("bob invites Gil@Example.com", err)
		fmt.Fprintf(w, "  %-44s %s (shown once: %v)\n", "invitation for "+inv.Email, inv.Status, tok)
		now = now.Add(8 * 24 * time.Hour) // a week and a day pass
		_, err = svc.AcceptInvitation(ctx, tok.Reveal(), person("gil"), "gil@example.com")
		step("gil accepts, eight days later", err)
		_, tok2, err := svc.ResendInvitation(ctx, id, "bob", inv.ID)
		step("bob resends the invitation", err)
		_, err = svc.AcceptInvitation(ctx, tok.Reveal(), person("gil"), "gil@example.com")
		step("gil uses the old link", err)
		m, err := svc.AcceptInvitation(ctx, tok2.Reveal(), person("gil"), "gil@example.com")
		step("gil uses the new link, joining as "+m.Role, err)
	case "aiengine":
		_, err = svc.AddMember(ctx, id, "ada", person("eve"), "editor")
		step("ada creates an account for eve, editor", err)
		_, err = svc.AddMember(ctx, id, "eve", person("vic"), "viewer")
		step("eve adds vic", err)
		p, err := svc.CreateScope(ctx, id, "eve", "project", "Churn model")
		step("eve creates project \"Churn model\"", err)
		_, err = svc.AddScopeMember(ctx, id, "eve", "project", p.ID, person("xavier"), "editor")
		step("eve adds outsider xavier as project editor", err)
		m, _ := svc.Member(ctx, id, "ada", "xavier")
		fmt.Fprintf(w, "  %-44s %s (external: %v)\n", "xavier is listed as", m.Role, m.External)
		_, err = svc.ChangeRole(ctx, id, "ada", "ada", "editor")
		step("ada steps down to editor", err)
		step("eve leaves the organization", svc.Leave(ctx, id, "eve"))
	case "uipath":
		_, err = svc.Provision(ctx, id, person("al"), "administrator")
		step("provision al as administrator", err)
		_, err = svc.Provision(ctx, id, person("uma"), "user")
		step("provision uma as user", err)
		svcRes, err := svc.CreateScope(ctx, id, "al", "service", "Orchestrator")
		step("al creates service \"Orchestrator\"", err)
		fmt.Fprintf(w, "  %-44s %v\n", "uma may access it?", svc.CheckScope(ctx, id, "uma", "service", svcRes.ID, "service:access").Allowed)
		_, err = svc.AddScopeMember(ctx, id, "al", "service", svcRes.ID, person("uma"), "")
		step("al grants uma access", err)
		_, err = svc.ChangeRole(ctx, id, "al", "ada", "administrator")
		step("al demotes the owner", err)
		_, err = svc.ChangeRole(ctx, id, "ada", "ada", "administrator")
		step("ada demotes herself", err)
	case "soterai":
		_, err = svc.Provision(ctx, id, person("max"), "manager")
		step("provision max as manager", err)
		_, err = svc.Provision(ctx, id, person("meg"), "member")
		step("provision meg as member", err)
		step("max removes ada, an owner", svc.RemoveMember(ctx, id, "max", "ada"))
		_, err = svc.ChangeRole(ctx, id, "ada", "ada", "manager")
		step("ada steps down to manager", err)
		step("ada downgrades to professional", svc.ChangeEdition(ctx, id, "ada", "professional"))
	}

	fmt.Fprintln(w, "\n  audit trail:")
	events, err := svc.Audit(ctx, id, "ada", orgauthz.AuditQuery{})
	if err != nil {
		events, err = svc.Audit(ctx, id, "bob", orgauthz.AuditQuery{}) // Wherobots: ada stepped down
	}
	if err != nil {
		return err
	}
	for _, e := range events {
		actor := e.Actor
		if actor == "" {
			actor = "(host)"
		}
		change := ""
		if e.RoleBefore != "" || e.RoleAfter != "" {
			change = fmt.Sprintf(" %s -> %s", dash(e.RoleBefore), dash(e.RoleAfter))
		}
		fmt.Fprintf(w, "  %2d %s %-7s %-20s %s%s %s\n", e.Seq, e.Time.Format("15:04:05"), actor, e.Action, e.Target, change, e.Detail)
	}
	fmt.Fprintln(w)
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
