module github.com/orgauthz/orgauthz

go 1.24
