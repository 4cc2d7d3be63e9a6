package pgstore

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestCoalesce checks which queued inserts coalesce: those of one table,
// across statements that touch neither it nor the organization's row, and
// never across one that does.
func TestCoalesce(t *testing.T) {
	member := func(id string) queued {
		return queued{sql: insertMemberSQL, want: 1, args: []any{"o", id, int16(1), "", "r", false, "", tsIn(time.Now())}}
	}
	audit := func(seq int64) queued {
		return queued{sql: insertAuditSQL, want: 1, args: []any{"o", seq, tsIn(time.Now()), "", "a", "", "", "", ""}}
	}
	other := func(sql string) queued { return queued{sql: sql, want: 1} }
	shape := func(q []queued) string {
		var parts []string
		for _, w := range coalesce(q) {
			switch {
			case strings.Contains(w.sql, "unnest") && strings.Contains(w.sql, "orgauthz.members"):
				parts = append(parts, "members×"+strconv.FormatInt(w.want, 10))
			case strings.Contains(w.sql, "unnest") && strings.Contains(w.sql, "orgauthz.audit"):
				parts = append(parts, "audit×"+strconv.FormatInt(w.want, 10))
			case w.sql == insertMemberSQL:
				parts = append(parts, "member")
			case w.sql == insertAuditSQL:
				parts = append(parts, "audit")
			default:
				parts = append(parts, "other")
			}
		}
		return strings.Join(parts, " ")
	}
	for _, c := range []struct {
		name string
		q    []queued
		want string
	}{
		{"alone", []queued{member("a")}, "member"},
		{"interleaved with audit", []queued{member("a"), audit(1), member("b"), audit(2)}, "members×2 audit×2"},
		{"across an unrelated write", []queued{member("a"), other(updateOrgSQL), member("b")}, "members×2 other"},
		{"not across a member's update", []queued{member("a"), other(updateMemberSQL), member("b")}, "member other member"},
		{"not across the organization's deletion", []queued{member("a"), audit(1), other(deleteOrgSQL), other(insertOrgSQL), member("b"), audit(1)}, "member audit other other member audit"},
		{"a read closes nothing of others", []queued{audit(1), {sql: "SELECT id FROM orgauthz.invitations WHERE org_id = $1", read: func(pgx.Rows) error { return nil }}, audit(2)}, "audit×2 other"},
	} {
		if got := shape(c.q); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
}
