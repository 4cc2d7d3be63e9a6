// Package role is orgauthz's vocabulary: capability IDs, roles with ranks,
// capability sets as bitsets, and the role × capability matrix with its
// rendering as a Markdown table.
//
// A capability ID has the form resource:action, in lower case, where the
// resource may be nested with "/" (organization/settings:manage). IDs are
// persisted in stores, API-key scopes and audit events, so they never change
// once released.
//
// Everything in this package is pure: no I/O, no package-level state. Values
// built by its constructors are immutable and safe for concurrent use.
package role
