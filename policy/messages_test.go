package policy_test

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/policy"
)

func presets() []*edition.Scheme {
	return []*edition.Scheme{edition.Wherobots(), edition.AIEngine(), edition.UiPath(), edition.SoterAI()}
}

func roleIDs(s *edition.Scheme) []string {
	var out []string
	for _, r := range s.Roles() {
		out = append(out, r.ID)
	}
	return out
}

// TestImmutableRoleNamesTheNewRole asks CanAssign and CanManage (invite,
// add and change-role, every target) every (actor, new role) question of
// every preset, and checks that each refusal for an immutable role names
// the role to give as the immutable one, never the actor's or the
// target's.
func TestImmutableRoleNamesTheNewRole(t *testing.T) {
	t.Parallel()
	seen := 0
	for _, s := range presets() {
		roles := roleIDs(s)
		for _, e := range s.Editions() {
			for _, actor := range roles {
				for _, newRole := range roles {
					ds := []policy.Decision{
						policy.CanAssign(s, e.ID(), actor, newRole),
						policy.CanInvite(s, e.ID(), actor, newRole),
						policy.CanAdd(s, e.ID(), actor, newRole),
					}
					for _, target := range roles {
						ds = append(ds, policy.CanChangeRole(s, e.ID(), actor, target, newRole))
					}
					for _, d := range ds {
						if d.Reason != policy.ReasonImmutableRole {
							continue
						}
						seen++
						want := fmt.Sprintf("denied (immutable-role): role %q is immutable: never given, taken or removed", newRole)
						assert.Equal(t, want, d.String(), "%s %s: %s gives %s", s.ID(), e.ID(), actor, newRole)
						assert.Equal(t, newRole, d.NewRole())
						ni, _ := s.RoleIndex(newRole)
						assert.True(t, s.Immutable(ni))
					}
				}
			}
		}
	}
	// UiPath: CanAssign 3 actors, CanInvite 2 holders (CanAdd is not
	// offered), CanChangeRole 2 holders × 2 targets they may manage.
	assert.Equal(t, 3+2+2*2, seen, "UiPath's owner role is refused to every actor that gets that far")
}

// TestManagementMessagesNameTheRightRoles checks, for every question of
// every preset that CanManage and CanAssign answer, that the message names
// the right role for its reason: the actor's where the actor is at fault,
// the target's where the target is, the role to give where it is. Which
// role is at fault is worked out here from the scheme's facts (which role
// is immutable, external, not offered), not from the decision.
func TestManagementMessagesNameTheRightRoles(t *testing.T) {
	t.Parallel()
	q := strconv.Quote
	asked := map[policy.Reason]int{}
	for _, s := range presets() {
		roles := roleIDs(s)
		for _, e := range s.Editions() {
			offered := func(r string) bool { i, _ := s.RoleIndex(r); return e.OffersRole(i) }
			immutable := func(r string) bool { i, _ := s.RoleIndex(r); return s.Immutable(i) }
			external := func(r string) bool { return r != "" && r == s.ExternalRole() }
			check := func(d policy.Decision, a edition.Action, actor, target, newRole string) {
				t.Helper()
				asked[d.Reason]++
				c := q(string(d.Capability()))
				var want string
				switch d.Reason {
				case policy.ReasonMayManage:
					switch a {
					case 0:
						want = fmt.Sprintf("role %s may give role %s", q(actor), q(newRole))
					case edition.ActionInvite:
						want = fmt.Sprintf("role %s may invite a member as %s", q(actor), q(newRole))
					case edition.ActionAdd:
						want = fmt.Sprintf("role %s may add a member as %s", q(actor), q(newRole))
					case edition.ActionRemove:
						want = fmt.Sprintf("role %s may remove a member holding %s", q(actor), q(target))
					case edition.ActionChangeRole:
						want = fmt.Sprintf("role %s may change a member's role from %s to %s", q(actor), q(target), q(newRole))
					}
				case policy.ReasonRoleLacks:
					ci, _ := s.ActionCapability(a)
					require.Equal(t, s.Catalog().Def(ci).ID, d.Capability())
					want = fmt.Sprintf("role %s lacks %s", q(actor), c)
				case policy.ReasonEditionGated:
					want = fmt.Sprintf("edition %s does not offer %s", q(e.ID()), c)
				case policy.ReasonRoleNotInEdition:
					who := newRole
					if !offered(actor) {
						who = actor
					}
					require.False(t, offered(who))
					want = fmt.Sprintf("edition %s does not offer role %s", q(e.ID()), q(who))
				case policy.ReasonActionNotOffered:
					want = fmt.Sprintf("the scheme offers no %s action", a)
				case policy.ReasonOutranked:
					verb := "remove"
					if a == edition.ActionChangeRole {
						verb = "change the role of"
					}
					want = fmt.Sprintf("role %s may not %s a member holding %s", q(actor), verb, q(target))
				case policy.ReasonMayNotAssign:
					want = fmt.Sprintf("role %s may not give role %s", q(actor), q(newRole))
				case policy.ReasonEscalation:
					want = fmt.Sprintf("role %s may not give role %s, which holds capabilities it lacks", q(actor), q(newRole))
				case policy.ReasonImmutableRole:
					require.True(t, immutable(newRole))
					want = fmt.Sprintf("role %s is immutable: never given, taken or removed", q(newRole))
				case policy.ReasonImmutableTarget:
					require.True(t, immutable(target))
					want = fmt.Sprintf("role %s is immutable: its holder can be neither removed nor re-roled", q(target))
				case policy.ReasonExternalRole:
					switch {
					case external(actor):
						want = fmt.Sprintf("role %s is the external standing, which never manages the organization or its members", q(actor))
					case external(target):
						want = fmt.Sprintf("role %s is the external standing, not a member's role: it is neither removed nor re-roled as one", q(target))
					default:
						require.True(t, external(newRole))
						want = fmt.Sprintf("role %s is the external standing, which is never given", q(newRole))
					}
				default:
					t.Fatalf("unexpected reason %v", d)
				}
				verdict := "denied"
				if d.Allowed {
					verdict = "allowed"
				}
				assert.Equal(t, verdict+" ("+d.Reason.String()+"): "+want, d.String(), "%s %s: %s %v target=%q new=%q", s.ID(), e.ID(), actor, a, target, newRole)
			}
			for _, actor := range roles {
				for _, newRole := range roles {
					check(policy.CanAssign(s, e.ID(), actor, newRole), 0, actor, "", newRole)
					check(policy.CanInvite(s, e.ID(), actor, newRole), edition.ActionInvite, actor, "", newRole)
					check(policy.CanAdd(s, e.ID(), actor, newRole), edition.ActionAdd, actor, "", newRole)
					for _, target := range roles {
						check(policy.CanChangeRole(s, e.ID(), actor, target, newRole), edition.ActionChangeRole, actor, target, newRole)
					}
				}
				for _, target := range roles {
					check(policy.CanRemove(s, e.ID(), actor, target), edition.ActionRemove, actor, target, "")
				}
			}
		}
	}
	// Every reason of management is met somewhere in the presets, but
	// escalation, which NewScheme rules out of any scheme a role can give
	// from.
	for _, r := range []policy.Reason{policy.ReasonMayManage, policy.ReasonRoleLacks, policy.ReasonRoleNotInEdition,
		policy.ReasonActionNotOffered, policy.ReasonOutranked, policy.ReasonMayNotAssign, policy.ReasonImmutableRole,
		policy.ReasonImmutableTarget, policy.ReasonExternalRole} {
		assert.Positive(t, asked[r], "no question was answered %v", r)
	}
}

// TestEligibleDoesNotAllocate asks Eligible every (edition, organization
// role, scope kind, scope role) question of every preset, allowed or not,
// and counts allocations: the service asks it on its hot path.
func TestEligibleDoesNotAllocate(t *testing.T) {
	asked, allowed := 0, 0
	for _, s := range presets() {
		for _, e := range s.Editions() {
			for _, org := range roleIDs(s) {
				for _, sc := range s.Scopes() {
					for _, sr := range sc.Matrix().Roles() {
						// Inputs built at run time, as a service reads them.
						ed, o, k, r := string([]byte(e.ID())), string([]byte(org)), string([]byte(sc.Kind())), string([]byte(sr.ID))
						d := policy.Eligible(s, ed, k, o, r)
						require.Contains(t, []policy.Reason{policy.ReasonEligible, policy.ReasonNotEligible, policy.ReasonRoleNotInEdition}, d.Reason, "%v", d)
						asked++
						if d.Allowed {
							allowed++
						}
						if n := testing.AllocsPerRun(20, func() { policy.Eligible(s, ed, k, o, r) }); n != 0 {
							t.Errorf("Eligible(%s, %s, %s, %s, %s): %v allocations, want 0 (%v)", s.ID(), ed, k, o, r, n, d)
						}
					}
				}
			}
		}
	}
	assert.Positive(t, allowed)
	assert.Greater(t, asked, allowed, "some are denied")
}
