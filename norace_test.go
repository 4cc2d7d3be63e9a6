//go:build !race

package orgauthz_test

// raceEnabled reports whether the race detector is on: it changes what
// allocations cost.
const raceEnabled = false
