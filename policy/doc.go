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
//
// # No grant outlives its authority
//
// These rules decide single questions. Over an organization's life one
// more rule closes what single questions cannot: every stored grant holds
// only while the authority and the eligibility that allowed it still hold.
// The service (package orgauthz) keeps it for each kind of grant in one of
// two ways: cascaded, in the same transaction as the change that ends the
// grant's basis, each step audited; or re-checked each time the grant is
// used, failing closed. Where both are listed, the cascade keeps the stored
// state clean (a members screen shows no dead grant) and the re-check is
// the safety net for state written any other way.
//
//   - A member's role rests on the organization's management, not on the
//     member who gave it: it stays when its giver leaves. It must stay
//     offered by the edition (a downgrade that would strand it is refused,
//     naming the count) and within the role's limits (every change checks
//     CheckChange). Whoever holds the member-removal capability can always
//     remove a member within its reach, and any external principal, in one
//     call: where the removed member is the last holder of a role its scope
//     resource must keep, the remover takes that role over (audited), so a
//     project can never lock its organization out.
//   - A scope role rests on eligibility (Eligible) by the holder's current
//     organization role and edition. Cascaded: a role change or an edition
//     change turns a scope role the member may no longer hold into the
//     kind's default role, or takes it away, and refuses the change where
//     that would leave a resource below its minimum. Re-checked: a scope
//     decision ignores an explicit scope role its holder is not eligible
//     for (ReasonNotEligible).
//   - A custom scope role rests on its definer's capabilities on the
//     resource when defined, and on the authority to grant when widened:
//     redefining a role that principals hold may add capabilities only for
//     an actor who could grant them those capabilities; narrowing is always
//     allowed. Its holders' eligibility follows the kind's default role.
//   - A pending invitation rests on its sender (InvitedBy): it holds while
//     the sender is a member whose current role, in the current edition,
//     may still invite as the invitation's role (CanInvite). Cascaded: the
//     removal, departure or demotion of the sender, and edition changes,
//     revoke the invitations it could no longer send, audited, freeing
//     their seats. Re-checked: accepting checks the sender again. Re-sending
//     makes the re-sender the sender. Superseding an invitation, pending or
//     expired, needs the authority to revoke it.
//   - A service principal rests on the edition offering service principals
//     and on the rank rule: it joins only where the edition offers them
//     (however it joins), a downgrade to an edition without them is refused
//     while any exist (naming how many), and renaming, deleting or keying
//     one needs the principal within the actor's reach.
//   - An API key rests on its owner: it can do only what its scope and its
//     owner's current role allow (re-checked at every authentication, so a
//     demotion narrows it at once and a removal ends it, and the owner's
//     removal also revokes it, audited). When made, its effective
//     capabilities must lie within its maker's: nobody mints a key that can
//     do more than it can itself.
//   - A seat override rests on the seats in use: any change of the limit,
//     clearing the override included, must leave room for every member and
//     pending invitation.
//
// # JSON
//
// A Decision marshals with encoding/json, for a host's responses and
// logs, following the convention package org describes (snake_case names,
// words for enumerations): {"allowed", "reason", "role", "target",
// "new_role", "capability", "edition", "scope_kind", "action",
// "explanation"}, the names it refers to omitted when it has none (see
// Decision). A Reason marshals as its name, e.g. "edition-gated", and
// unmarshals from it. A Decision does not unmarshal: it refers to its
// scheme, which JSON does not carry; decide again instead.
package policy
