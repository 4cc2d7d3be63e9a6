package pgstore

// The statements of the lookups, for the tests of their plans.
var LookupQueries = map[string]string{
	"Memberships":       membershipsQuery,
	"InvitationsTo":     invitationsToQuery,
	"MemberByEmail":     memberByEmailQuery,
	"ServicePrincipals": servicePrincipalsQuery,
	"MemberScopes":      memberScopesQuery,
	"FindInvitation":    findInvitationQuery,
	"KeyAccess":         keyAccessQuery,
	"TrialsEnding":      trialsQuery,
}
