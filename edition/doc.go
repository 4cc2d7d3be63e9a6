// Package edition holds editions (plans with seat limits and edition-gated
// capabilities and roles) and schemes: a product's whole role model, made of
// roles, capabilities, the matrix between them, editions, invariants,
// management rules and scopes such as projects, services and workspaces.
//
// A Scheme is built by NewScheme from a Spec, which it validates: a scheme
// that contradicts itself is refused with an error that names the fault and
// matches ErrInvalidScheme. A built Scheme is immutable and safe for
// concurrent use; its accessors return copies.
//
// The four presets of the orgauthz specification, Wherobots, AIEngine,
// UiPath and SoterAI, are functions that build their scheme; each call
// returns an equal, independent value.
package edition
