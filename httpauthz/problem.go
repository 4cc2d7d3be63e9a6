package httpauthz

import (
	"encoding/json"
	"net/http"
)

// Problem is an RFC 9457 problem details body, as the Guard and the
// management API answer a refusal (Content-Type application/problem+json).
// Reason is a stable word a client can switch on ("edition-gated",
// "not-member", "wrong-organization", "invalid-key", ...); Capability,
// Role and Editions say what was missing when a check refused.
//
// JSON: {"type", "title", "status", "detail", "reason", "capability",
// "role", "editions"}.
type Problem struct {
	Type       string   `json:"type"`
	Title      string   `json:"title"`
	Status     int      `json:"status"`
	Detail     string   `json:"detail"`
	Reason     string   `json:"reason"`
	Capability string   `json:"capability,omitempty"`
	Role       string   `json:"role,omitempty"`
	Editions   []string `json:"editions,omitempty"`
}

// writeProblem writes p, filling its type and title.
func writeProblem(w http.ResponseWriter, p Problem) {
	if p.Type == "" {
		p.Type = "about:blank"
	}
	if p.Title == "" {
		p.Title = http.StatusText(p.Status)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(p)
}
