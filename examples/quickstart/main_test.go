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
		"gil uses the new link, joining as user       done",
		"invitation.resend",
		// The lives.
		"### A life on wherobots",
		`at least 1 member(s) must hold "admin", and this would leave 0`,
		`edition "community" allows 5 seats but 6 are in use; free 1 first`,
		"ada     member.role          ada admin -> user",
		"xavier is listed as                          external (external: true)",
		`project "aiengine-2" must keep at least 1 "owner"`,
		`al demotes the owner                         refused: change role of "ada" in "uipath-1": invariant violated: immutable role`,
		`max removes ada, an owner                    refused`,
		`edition "professional" does not offer role "member", which 1 member(s) hold`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("output:\n%s", got)
	}
}
