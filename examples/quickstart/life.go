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
		_, err = svc.Host().Provision(ctx, id, person("bob"), "user")
		step("provision bob as user", err)
		_, err = svc.ChangeRole(ctx, id, "ada", "ada", "user")
		step("ada steps down to user", err)
		_, err = svc.ChangeRole(ctx, id, "ada", "bob", "admin")
		step("ada makes bob admin", err)
		_, err = svc.ChangeRole(ctx, id, "ada", "ada", "user")
		step("ada steps down to user", err)
		for _, p := range []string{"cy", "di", "ed", "flo"} {
			_, err = svc.Host().Provision(ctx, id, person(p), "user")
			step("provision "+p+" as user", err)
		}
		step("bob downgrades to community (5 seats)", svc.ChangeEdition(ctx, id, "bob", "community"))
		step("ada (a user) upgrades nothing", svc.ChangeEdition(ctx, id, "ada", "professional"))

		inv, tok, err := svc.Invite(ctx, id, "bob", "Gil@Example.com", "")
		step("bob invites Gil@Example.com", err)
		fmt.Fprintf(w, "  %-44s %s (shown once: %v)\n", "invitation for "+inv.Email, inv.Status, tok)
		if p, err := svc.PreviewInvitation(ctx, tok.Reveal()); err == nil {
			fmt.Fprintf(w, "  %-44s %s invites you as %s (%s, sent by %s)\n", "the accept page shows", p.OrgName, p.RoleName, p.Status, p.InvitedBy)
		}
		if seats, err := svc.Seats(ctx, id, "bob"); err == nil {
			limit := fmt.Sprintf("of %d", seats.Limit)
			if seats.Unlimited {
				limit = "of unlimited"
			}
			fmt.Fprintf(w, "  %-44s %d %s seats (%d members, %d pending; limit from the %s)\n", "the members screen shows", seats.InUse, limit, seats.Members, seats.Pending, seats.Source)
		}
		now = now.Add(8 * 24 * time.Hour) // a week and a day pass
		_, _, err = svc.AcceptInvitation(ctx, tok.Reveal(), person("gil"), "gil@example.com")
		step("gil accepts, eight days later", err)
		_, tok2, err := svc.ResendInvitation(ctx, id, "bob", inv.ID)
		step("bob resends the invitation", err)
		_, _, err = svc.AcceptInvitation(ctx, tok.Reveal(), person("gil"), "gil@example.com")
		step("gil uses the old link", err)
		m, joined, err := svc.AcceptInvitation(ctx, tok2.Reveal(), person("gil"), "gil@example.com")
		step("gil uses the new link, joining "+joined.Name+" as "+m.Role, err)
		_, _, err = svc.Invite(ctx, id, "bob", "gil@example.com", "")
		step("bob invites gil@example.com again", err)

		// The organization switcher: gil's organizations, and the
		// invitations waiting for gil's address elsewhere.
		other, err := svc.CreateOrganization(ctx, person("hal"), orgauthz.NewOrganization{Name: "Globex", Edition: "professional"})
		if err != nil {
			return err
		}
		_, _, err = svc.Invite(ctx, other.ID, "hal", "gil@example.com", "admin")
		step("hal invites gil to Globex as admin", err)
		if ms, err := svc.Memberships(ctx, "gil", orgauthz.Page{}); err == nil {
			for _, m := range ms.Memberships {
				fmt.Fprintf(w, "  %-44s %s (%s, %s edition)\n", "gil's switcher lists", m.OrgName, m.Role, m.Edition)
			}
		}
		if waiting, err := svc.InvitationsFor(ctx, "gil@example.com", orgauthz.Page{}); err == nil {
			for _, p := range waiting.Invitations {
				fmt.Fprintf(w, "  %-44s %s as %s, from %s\n", "gil is invited to", p.OrgName, p.Role, p.InvitedBy)
				_, o, err := svc.AcceptInvitationByID(ctx, p.ID, person("gil"), "gil@example.com")
				step("gil accepts it from the switcher: "+o.Name, err)
			}
		}
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
		if mine, err := svc.Scopes(ctx, id, "xavier", edition.ScopeProject, orgauthz.Page{}); err == nil {
			for _, p := range mine.Scopes {
				fmt.Fprintf(w, "  %-44s %s\n", "xavier's projects", p.Name)
			}
		}
		step("eve leaves the organization", svc.Leave(ctx, id, "eve"))
		step("ada hands ownership to eve, becoming editor", svc.TransferOwnership(ctx, id, "ada", "eve", "editor"))
	case "uipath":
		_, err = svc.Host().Provision(ctx, id, person("al"), "administrator")
		step("provision al as administrator", err)
		_, err = svc.Host().Provision(ctx, id, person("uma"), "user")
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
		step("ada hands ownership to al", svc.TransferOwnership(ctx, id, "ada", "al", "administrator"))
		step("support (the host) hands it to al", svc.Host().TransferOwnership(ctx, id, "ada", "al", "administrator"))
	case "soterai":
		_, err = svc.Host().Provision(ctx, id, person("max"), "manager")
		step("provision max as manager", err)
		_, err = svc.Host().Provision(ctx, id, person("meg"), "member")
		step("provision meg as member", err)
		step("max removes ada, an owner", svc.RemoveMember(ctx, id, "max", "ada"))
		_, err = svc.ChangeRole(ctx, id, "ada", "ada", "manager")
		step("ada steps down to manager", err)
		step("ada downgrades to professional", svc.ChangeEdition(ctx, id, "ada", "professional"))
		step("ada hands ownership to max, becoming manager", svc.TransferOwnership(ctx, id, "ada", "max", "manager"))
	}

	fmt.Fprintln(w, "\n  audit trail:")
	events, err := svc.Host().Audit(ctx, id, orgauthz.AuditQuery{}) // the support desk's view
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
		fmt.Fprintf(w, "  %2d %s %-7s %-27s %s%s %s\n", e.Seq, e.Time.Format("15:04:05"), actor, e.Action, e.Target, change, e.Detail)
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

// trialLife runs a trial on the Wherobots preset with trials added by the
// host (a scheme of its own, built from the preset's Spec): a community
// organization tries professional for 14 days, grows past community's 5
// seats, and the trial ends with no call made; then the refusal that
// follows, and the upgrade that lifts it.
func trialLife(w io.Writer) error {
	ctx := context.Background()
	spec := edition.Wherobots().Spec()
	spec.Trials = []edition.TrialSpec{{Edition: "professional", MaxDuration: 14 * 24 * time.Hour, From: []string{"community"}}}
	spec.Organization.Trial = "organization/settings:manage"
	s, err := edition.NewScheme(spec)
	if err != nil {
		return err
	}
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	n := 0
	svc, err := orgauthz.New(memstore.New(), orgauthz.Options{
		Schemes: []*edition.Scheme{s},
		Clock:   func() time.Time { return now },
		NewID:   func() string { n++; return fmt.Sprintf("trial-%d", n) },
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
	fmt.Fprintf(w, "### A trial on wherobots (trials added by the host)\n\n")
	o, err := svc.CreateOrganization(ctx, person("ada"), orgauthz.NewOrganization{Name: "Trialco", Edition: "community"})
	if err != nil {
		return err
	}
	id := o.ID
	fmt.Fprintf(w, "  %-44s %v\n", "before: ada's job runs", svc.Check(ctx, id, "ada", "job_runs:create"))
	o, err = svc.StartTrial(ctx, id, "ada", "professional", 14*24*time.Hour)
	step("ada starts a 14-day professional trial", err)
	fmt.Fprintf(w, "  %-44s base %s, trial %s until %s\n", "the organization", o.Edition, o.TrialEdition, o.TrialEndsAt.Format(time.DateOnly))
	for _, p := range []string{"bob", "cy", "di", "ed", "flo", "gil"} {
		_, err = svc.Host().Provision(ctx, id, person(p), "user")
		step("provision "+p+" as user", err)
	}
	fmt.Fprintf(w, "  %-44s %v\n", "during the trial: job runs", svc.Check(ctx, id, "bob", "job_runs:create"))
	now = now.Add(14 * 24 * time.Hour) // the trial's end: no call is made
	fmt.Fprintf(w, "  %-44s %v\n", "after its end: job runs", svc.Check(ctx, id, "bob", "job_runs:create"))
	fmt.Fprintf(w, "  %-44s %v\n", "gil, the 7th member, still works", svc.Check(ctx, id, "gil", "cloud:use"))
	_, err = svc.Host().Provision(ctx, id, person("hal"), "user")
	step("provision hal as user", err)
	swept, err := svc.SweepTrials(ctx)
	step(fmt.Sprintf("the sweep records %d ended trial(s)", swept), err)
	step("ada upgrades to professional", svc.ChangeEdition(ctx, id, "ada", "professional"))
	_, err = svc.Host().Provision(ctx, id, person("hal"), "user")
	step("provision hal as user", err)
	fmt.Fprintln(w)
	return nil
}
