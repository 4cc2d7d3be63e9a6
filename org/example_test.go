package org_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/orgauthz/orgauthz/org"
)

func ExampleValidateName() {
	fmt.Println(org.ValidateName("organization", "Acme Robotics"))
	err := org.ValidateName("organization", " Acme")
	fmt.Println(errors.Is(err, org.ErrInvalidName), err)
	// A right-to-left override would show this name as "payrollexe.jpg".
	fmt.Println(org.ValidateName("project", "payroll\u202egpj.exe"))
	// Output:
	// <nil>
	// true invalid name: organization name " Acme" has leading or trailing space
	// invalid name: project name "payroll\u202egpj.exe" has format character U+202E
}

func ExamplePrincipal_Validate() {
	fmt.Println(org.Principal{ID: "ci-bot", Kind: org.ServicePrincipal}.Validate())
	fmt.Println(org.Principal{ID: "has space", Kind: org.User}.Validate())
	// Output:
	// <nil>
	// invalid ID: principal ID "has space" has byte 0x20 at 3 (printable ASCII only, no space)
}

// Records marshal to stable snake_case JSON, kinds as words, times in
// RFC 3339, zero times and optional fields omitted.
func ExampleMember_json() {
	m := org.Member{PrincipalID: "ci-bot", Kind: org.ServicePrincipal, Name: "deploy bot", Role: "member",
		JoinedAt: time.Date(2025, 5, 1, 9, 30, 0, 0, time.UTC)}
	b, err := json.Marshal(m)
	fmt.Println(string(b), err)
	// Output:
	// {"principal_id":"ci-bot","kind":"service_principal","name":"deploy bot","role":"member","external":false,"joined_at":"2025-05-01T09:30:00Z"} <nil>
}
