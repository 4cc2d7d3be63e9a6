// Package storetest is the conformance suite of package store: Run asserts,
// against any store.Store, every promise of the contract written in the
// store package's documentation.
//
// Every store runs it from a test of its own:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return memstore.New() })
//	}
//
// It is a test helper: import it from _test.go files only.
package storetest

import (
	"testing"

	"github.com/orgauthz/orgauthz/store"
)

// Run asserts the store contract. newStore must return a new, empty store
// each time it is called; Run calls it once per subtest, from the
// subtest's goroutine, and closes the store when the subtest ends (a
// store that needs more cleanup registers it on the t it is given).
//
// Subtests are grouped by record or by promise and named by the rule they
// check, e.g. Rollback/OnPanic/EveryChange, so a failure says which
// promise was broken. They all run in parallel, each with its own store,
// and depend on no order.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Helper()
	for _, g := range groups() {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			for _, c := range g.tests {
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					s := newStore(t)
					t.Cleanup(func() {
						if err := s.Close(); err != nil {
							t.Errorf("Close: %v", err)
						}
					})
					c.run(t, s)
				})
			}
		})
	}
}

// group is a set of tests about one record or one promise.
type group struct {
	name  string
	tests []test
}

// test checks one rule against a fresh store.
type test struct {
	name string
	run  func(t *testing.T, s store.Store)
}

func groups() []group {
	return []group{
		{"Organization", append(organizationTests(), lookupOrganizationTests()...)},
		{"Member", append(memberTests(), lookupMemberTests()...)},
		{"Membership", membershipTests()},
		{"Scope", scopeTests()},
		{"ScopeMember", append(scopeMemberTests(), lookupScopeMemberTests()...)},
		{"ScopeRole", scopeRoleTests()},
		{"ScopeAccess", scopeAccessTests()},
		{"Counts", countsTests()},
		{"Audit", auditTests()},
		{"Invitation", append(invitationTests(), lookupInvitationTests()...)},
		{"APIKey", apiKeyTests()},
		{"Listing", append(listingTests(), lookupListingTests()...)},
		{"Transaction", transactionTests()},
		{"Prefetch", prefetchTests()},
		{"Rollback", append(rollbackTests(), lookupRollbackTests()...)},
		{"Copy", append(copyTests(), lookupCopyTests()...)},
		{"Time", append(timeTests(), lookupTimeTests()...)},
		{"Context", append(contextTests(), lookupContextTests()...)},
		{"Concurrency", append(concurrencyTests(), lookupConcurrencyTests()...)},
		{"Close", append(closeTests(), lookupCloseTests()...)},
		{"Trials", trialTests()},
	}
}
