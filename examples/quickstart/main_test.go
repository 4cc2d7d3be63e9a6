package main

import (
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	var out strings.Builder
	if err := run(&out); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{
		"## wherobots (Wherobots Cloud)",
		"| Capability | Admin | User | Editions |",
		"| `job_runs:create` | ✅ | ✅ | professional, enterprise |",
		"| `members:manage` | ✅ | ❌ | all |",
		"community: 5 seats; professional: 10 seats (overridable); enterprise: unlimited seats",
		`allowed (role-holds): role "user" holds "job_runs:create" in edition "professional"`,
		`denied (edition-gated): edition "community" does not offer "job_runs:create"`,
		"## aiengine",
		"| `projects:be_member` | ✅ | ✅ | ✅ | ✅ | all |",
		"Project scope (creator gets \"owner\"):",
		`denied (not-eligible): organization role "external" may not hold project role "owner"`,
		"## uipath",
		`denied (immutable-target)`,
		"## soterai",
		`denied (outranked): role "manager" may not remove a member holding "owner"`,
		`denied (role-not-in-edition): edition "starter" does not offer role "member"`,
		// Invitations.
		"invitation for gil@example.com               pending (shown once: inv_",
		"_REDACTED)",
		"gil accepts, eight days later                refused: invitation expired",
		"gil uses the old link                        refused: invalid invitation token",
		"gil uses the new link, joining Acme as user  done",
		"the accept page shows                        Acme invites you as User (pending, sent by bob)",
		"the members screen shows                     7 of unlimited seats (6 members, 1 pending; limit from the edition)",
		`bob invites gil@example.com again            refused: invite "gil@example.com" to "wherobots-1": already a member: member "gil" joined with this address`,
		"gil's switcher lists                         Acme (user, enterprise edition)",
		"gil is invited to                            Globex as admin, from hal",
		"gil accepts it from the switcher: Globex     done",
		"xavier's projects                            Churn model",
		"ada hands ownership to eve, becoming editor  done",
		"ada hands ownership to al                    refused",
		"only the host",
		"support (the host) hands it to al            done",
		"(host)  organization.owner.transfer al administrator -> owner from ada, who stepped down to administrator",
		"ada hands ownership to max, becoming manager done",
		"invitation.resend",
		// The lives.
		"### A life on wherobots",
		`at least 1 member(s) must hold "admin", and this would leave 0`,
		`edition "community" allows 5 seats but 6 are in use; free 1 first`,
		"ada     member.role                 ada admin -> user",
		"xavier is listed as                          external (external: true)",
		`project "aiengine-2" must keep at least 1 "owner"`,
		`al demotes the owner                         refused: change role of "ada" in "uipath-1": invariant violated: immutable role`,
		`max removes ada, an owner                    refused`,
		`edition "professional" does not offer role "member", which 1 member(s) hold`,
		// The trial.
		"### A trial on wherobots (trials added by the host)",
		"base community, trial professional until 2026-12-15",
		`during the trial: job runs                   allowed (role-holds)`,
		`after its end: job runs                      denied (edition-gated)`,
		`refused: add "hal" to "trial-1": invariant violated: seat limit reached: edition "community" allows 5 seats and 7 are in use`,
		"the sweep records 1 ended trial(s)           done",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("output:\n%s", got)
	}
}
