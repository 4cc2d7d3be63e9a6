package policy_test

import "github.com/orgauthz/orgauthz/role"

type (
	roleT = role.Role
	defT  = role.Def
	capT  = role.Capability
)

func roleCap(s string) role.Capability { return role.Capability(s) }
