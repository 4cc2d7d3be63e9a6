package policytest_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/policy"
	"github.com/orgauthz/orgauthz/policy/policytest"
)

// printTB stands in for the *testing.T of a host's test, printing the
// differing cells the helper reports (the go-cmp diff before them is left
// out here because go-cmp deliberately varies its spacing).
type printTB struct{ testing.TB }

func (printTB) Helper() {}
func (printTB) Errorf(format string, args ...any) {
	report := fmt.Sprintf(format, args...)
	_, cells, _ := strings.Cut(report, "differing cells:")
	fmt.Println("FAIL:" + cells)
}

// A host's table-driven test of the cells it cares about: every differing
// cell is reported in one failure.
func ExampleAssertCells() {
	var t testing.TB = printTB{} // in a real test: the test's *testing.T
	policytest.AssertCells(t, edition.SoterAI(), []policy.Row{
		{Capability: "members:invite", Role: "manager", Edition: "starter", Allowed: true},
		{Capability: "billing:manage", Role: "manager", Edition: "starter", Allowed: true},
		{Capability: "content:use", Role: "member", Edition: "starter", Allowed: true},
	})
	// Output:
	// FAIL:
	// 	billing:manage × manager × starter: want allowed, got denied
	// 	content:use × member × starter: want allowed, got denied
}
