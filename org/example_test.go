package org_test

import (
	"errors"
	"fmt"

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
