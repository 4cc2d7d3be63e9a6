// Package policy holds every rule of orgauthz as a pure function over small
// inputs: capability decisions (role + edition + capability → Decision),
// management rules (may this actor invite, add, remove or re-role that
// member, and give that role), invariant checks over head counts (minimum
// and maximum holders of a role, seat limits, edition changes) and scope
// rules.
//
// Nothing here does I/O or keeps state, so every rule can be tested
// exhaustively without a store. Every refusal is explained: a Decision
// names the rule that decided, and Decision.Err and the invariant checks
// return errors that match this package's sentinels with errors.Is.
//
// Deny by default: an unknown scheme, edition, role or capability is denied,
// and the decision says which was unknown.
package policy
