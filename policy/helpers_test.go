package policy_test

import "github.com/orgauthz/orgauthz/role"

func roleCap(s string) role.Capability { return role.Capability(s) }
