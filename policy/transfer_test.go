package policy_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/policy"
	"github.com/orgauthz/orgauthz/role"
)

// TestCheckTransferEveryCell asks CheckTransfer every (from, to, step
// down) triple of roles of every preset, in every edition, by a member and
// by the host, and compares each answer with the rules restated from the
// specification: Wherobots has no owner; AI Engine's and SoterAI's owners
// hand over; UiPath's immutable owner only through the host.
func TestCheckTransferEveryCell(t *testing.T) {
	owners := map[string]string{"aiengine": "owner", "uipath": "owner", "soterai": "owner"}
	immutable := map[string]bool{"uipath": true}
	cells := 0
	for _, s := range presets() {
		counts := policy.Counts{Holders: map[string]int{}}
		for _, r := range s.Roles() {
			counts.Holders[r.ID] = 2
		}
		for _, e := range s.Editions() {
			for _, from := range s.Roles() {
				for _, to := range s.Roles() {
					downs := []string{"no-such-role"}
					for _, r := range s.Roles() {
						downs = append(downs, r.ID)
					}
					for _, downID := range downs {
						for _, byHost := range []bool{false, true} {
							got := policy.CheckTransfer(s, e.ID(), counts, from.ID, to.ID, downID, byHost)
							want := expectTransfer(s, e, owners[s.ID()], immutable[s.ID()], from.ID, to.ID, downID, byHost)
							cells++
							where := fmt.Sprintf("%s/%s: %s -> %s, stepping down to %s (host %v)", s.ID(), e.ID(), from.ID, to.ID, downID, byHost)
							switch {
							case want == nil && got != nil:
								t.Errorf("%s: refused: %v", where, got)
							case want != nil && !errors.Is(got, want):
								t.Errorf("%s: got %v, want an error matching %v", where, got, want)
							}
						}
					}
				}
			}
		}
	}
	t.Logf("%d cells", cells)
}

func expectTransfer(s *edition.Scheme, e *edition.Edition, owner string, immutable bool, from, to, down string, byHost bool) error {
	ri, known := s.RoleIndex(down)
	switch {
	case owner == "":
		return policy.ErrNotOffered
	case from != owner:
		return policy.ErrPermissionDenied
	case to == owner:
		return policy.ErrInvalidTransfer
	case immutable && !byHost:
		return policy.ErrImmutableRole
	case !known:
		return policy.ErrUnknownRole
	case down == owner, down == s.ExternalRole():
		return policy.ErrInvalidTransfer
	case !e.OffersRole(ri):
		return policy.ErrEditionGated
	}
	return nil
}

func TestCheckTransferKeepsTheInvariants(t *testing.T) {
	s := edition.SoterAI()
	// Nobody may leave a role below its minimum: a scheme whose creator
	// role (admin, at least one) is not its owner role.
	strict, err := edition.NewScheme(edition.Spec{
		ID: "strict",
		Roles: []role.Role{
			{ID: "owner", Rank: 3}, {ID: "admin", Rank: 3}, {ID: "user", Rank: 1},
		},
		Capabilities: []role.Def{{ID: "members:manage"}, {ID: "notes:read"}},
		Matrix: map[string][]role.Capability{
			"owner": {"members:manage", "notes:read"}, "admin": {"members:manage", "notes:read"}, "user": {"notes:read"},
		},
		Editions:    []edition.EditionSpec{{ID: "free", Seats: edition.Unlimited()}},
		CreatorRole: "admin",
		InviteRole:  "user",
		Invariants:  []edition.Invariant{{Role: "admin", Min: 1}},
		Management:  edition.Management{Invite: "members:manage", ChangeRole: "members:manage", Owner: "owner"},
	})
	if err != nil {
		t.Fatal(err)
	}
	c := policy.Counts{Holders: map[string]int{"owner": 1, "admin": 1, "user": 3}}
	err = policy.CheckTransfer(strict, "free", c, "owner", "admin", "user", false)
	if !errors.Is(err, policy.ErrMinHolders) {
		t.Errorf("the last admin becoming owner while the owner steps down to user: %v, want ErrMinHolders", err)
	}
	if err := policy.CheckTransfer(strict, "free", c, "owner", "admin", "admin", false); err != nil {
		t.Errorf("the owner stepping down to admin keeps one: %v", err)
	}
	if err := policy.CheckTransfer(nil, "enterprise", c, "owner", "manager", "manager", false); !errors.Is(err, policy.ErrUnknownScheme) {
		t.Errorf("nil scheme: %v", err)
	}
	c = policy.Counts{Holders: map[string]int{"owner": 1, "manager": 1}}
	if err := policy.CheckTransfer(s, "platinum", c, "owner", "manager", "manager", false); !errors.Is(err, policy.ErrUnknownEdition) {
		t.Errorf("unknown edition: %v", err)
	}
	if err := policy.CheckTransfer(s, "enterprise", c, "owner", "boss", "manager", false); !errors.Is(err, policy.ErrUnknownRole) {
		t.Errorf("unknown new owner's role: %v", err)
	}
}
