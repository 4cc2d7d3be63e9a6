package orgauthz

import (
	"testing"

	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/policy"
	"github.com/orgauthz/orgauthz/role"
	"github.com/orgauthz/orgauthz/store"
	"github.com/orgauthz/orgauthz/store/memstore"
)

// Service.decide answers every cell of every preset as policy.Decide does
// on the strings: on a code's first check (resolved by the strings), on
// its next ones (from the cache), with no code at all, with a code too
// large to remember, and when codes evict each other from one slot of the
// cache; unknown editions, roles, capabilities and schemes are denied
// for the reason Decide gives.
func TestDecideByCodes(t *testing.T) {
	schemes := []*edition.Scheme{edition.Wherobots(), edition.AIEngine(), edition.UiPath(), edition.SoterAI()}
	svc, err := New(memstore.New(), Options{Schemes: schemes})
	if err != nil {
		t.Fatal(err)
	}
	type triple struct{ scheme, edition, role string }
	var triples []triple
	for _, sch := range schemes {
		for _, e := range sch.Editions() {
			for ri := range sch.Matrix().NumRoles() {
				triples = append(triples, triple{sch.ID(), e.ID(), sch.Matrix().Role(ri).ID})
			}
			triples = append(triples, triple{sch.ID(), e.ID(), "no-such-role"})
		}
		triples = append(triples, triple{sch.ID(), "no-such-edition", sch.Matrix().Role(0).ID})
	}
	triples = append(triples, triple{"no-such-scheme", "e", "r"})
	// Codes for the triples: distinct, and in a second round all mapped
	// to one slot of the cache, evicting each other on every check.
	slotOf := func(c uint64) uint64 { return (c * 0x9e3779b97f4a7c15) >> (64 - codeBits) }
	var colliding []uint64
	for c := uint64(1); len(colliding) < len(triples); c++ {
		if slotOf(c) == 7 {
			colliding = append(colliding, c)
		}
	}
	codings := map[string]func(i int) uint64{
		"distinct":  func(i int) uint64 { return uint64(i + 1) },
		"colliding": func(i int) uint64 { return colliding[i] },
		"none":      func(int) uint64 { return 0 },
		"too large": func(i int) uint64 { return 1<<48 + uint64(i) },
	}
	for name, code := range codings {
		for round := range 2 {
			for i, tr := range triples {
				a := store.Access{Scheme: tr.scheme, Edition: tr.edition, Role: tr.role, Code: code(i)}
				sch, _ := svc.Scheme(tr.scheme)
				caps := []role.Capability{"no:such-capability"}
				if sch != nil {
					for _, d := range sch.Catalog().Defs() {
						caps = append(caps, d.ID)
					}
				}
				for _, c := range caps {
					got := svc.decide(&a, c)
					want := policy.Decision{Reason: policy.ReasonUnknownScheme}
					if sch != nil {
						want = policy.Decide(sch, tr.edition, tr.role, c)
					}
					if got.Allowed != want.Allowed || got.Reason != want.Reason || got.String() != want.String() {
						t.Fatalf("%s codes, round %d: decide(%+v, %s) = %v, want %v", name, round, a, c, got, want)
					}
				}
			}
		}
	}
}
