package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestEndToEnd drives the API over a real listener, as the README's curl
// commands do.
func TestEndToEnd(t *testing.T) {
	svc, k, err := setup(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(handler(svc))
	defer srv.Close()

	call := func(method, path, header, value string) (int, string, http.Header) {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if header != "" {
			req.Header.Set(header, value)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body), resp.Header
	}
	bob, ada := k["bob"].Reveal(), k["ada"].Reveal()
	tests := []struct {
		name, method, path, header, value string
		status                            int
		says                              string
	}{
		{"whoami", "GET", "/v1/whoami", "X-API-Key", bob, 200, `"principal":"bob"`},
		{"create a job", "POST", "/v1/jobs", "Authorization", "Bearer " + bob, 201, `"created_by":"bob"`},
		{"billing as a user", "GET", "/v1/billing", "Authorization", "Bearer " + bob, 403, `billing:view`},
		{"billing as an admin", "GET", "/v1/billing", "Authorization", "Bearer " + ada, 200, `"plan":"professional"`},
		{"no key", "GET", "/v1/whoami", "", "", 401, `"reason":"unauthenticated"`},
		{"invalid key", "GET", "/v1/whoami", "X-API-Key", "demo_not_a_key", 401, `"reason":"invalid-key"`},
		{"wrong method", "GET", "/v1/jobs", "X-API-Key", bob, 405, ""},
	}
	for _, tt := range tests {
		status, body, header := call(tt.method, tt.path, tt.header, tt.value)
		if status != tt.status || !strings.Contains(body, tt.says) {
			t.Errorf("%s: %d %s, want %d containing %q", tt.name, status, body, tt.status, tt.says)
		}
		if status == 401 && header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: 401 without WWW-Authenticate", tt.name)
		}
		if status == 401 || status == 403 {
			var p map[string]any
			if err := json.Unmarshal([]byte(body), &p); err != nil || header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("%s: not a problem document: %v %q", tt.name, err, header.Get("Content-Type"))
			}
		}
	}
	var out strings.Builder
	usage(&out, srv.URL, k)
	if !strings.Contains(out.String(), "curl -i -X POST "+srv.URL+"/v1/jobs") {
		t.Errorf("usage lacks the curl commands:\n%s", out.String())
	}
}
