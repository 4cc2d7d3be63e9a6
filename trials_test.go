package orgauthz_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orgauthz/orgauthz"
	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/policy"
	"github.com/orgauthz/orgauthz/store"
)

const day = 24 * time.Hour

// trialWherobots is Wherobots with trials of professional (from community,
// up to 14 days) governed by organization/settings:manage.
func trialWherobots(t testing.TB) *edition.Scheme {
	t.Helper()
	sp := edition.Wherobots().Spec()
	sp.Trials = []edition.TrialSpec{{Edition: "professional", MaxDuration: 14 * day, From: []string{"community"}}}
	sp.Organization.Trial = "organization/settings:manage"
	s, err := edition.NewScheme(sp)
	require.NoError(t, err)
	return s
}

// trialFixture is a service over st with trialWherobots and SoterAI, its
// clock the fixture's.
func trialFixture(t testing.TB, st store.Store) (*orgauthz.Service, *clock) {
	t.Helper()
	c := &clock{now: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	svc, err := orgauthz.New(st, orgauthz.Options{Schemes: []*edition.Scheme{trialWherobots(t), edition.SoterAI()}, Clock: c.Now})
	require.NoError(t, err)
	return svc, c
}

// A trial decides with its edition while it runs, and with the base one
// from the first instant after its end, with no call made; members beyond
// the base limit stay, but no seat can be added until the organization is
// back under it; converting keeps everything.
func TestTrialLifecycle(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, env storeEnv) {
		f := env.newFixture(t)
		svc, clk := trialFixture(t, f.st)
		admin := org.Principal{ID: "creator", Kind: org.User}
		o, err := svc.CreateOrganization(ctx, admin, orgauthz.NewOrganization{Name: "Trial", Scheme: "wherobots", Edition: "community"})
		require.NoError(t, err)
		id := o.ID
		assert.Equal(t, policy.ReasonEditionGated, svc.Check(ctx, id, "creator", "job_runs:create").Reason)

		o, err = svc.StartTrial(ctx, id, "creator", "professional", 7*day)
		require.NoError(t, err)
		assert.Equal(t, "community", o.Edition, "the base edition stays")
		assert.Equal(t, "professional", o.TrialEdition)
		assert.Equal(t, clk.Now().Add(7*day), o.TrialEndsAt)
		assert.True(t, svc.Check(ctx, id, "creator", "job_runs:create").Allowed, "the trial edition decides")
		// Seats of professional (10) while it runs: 7 more members.
		for i := range 7 {
			_, err := svc.Host().Provision(ctx, id, user(fmt.Sprint("m", i)), "user")
			require.NoError(t, err, "member %d during the trial", i)
		}
		sp, err := svc.CreateServicePrincipal(ctx, id, "creator", "ci", "user")
		require.NoError(t, err, "a service principal during the trial")
		_, secret, err := svc.CreateAPIKey(ctx, id, "creator", orgauthz.NewKey{Name: "ci", Owner: sp.PrincipalID})
		require.NoError(t, err)
		_, err = svc.Authenticate(ctx, secret.Reveal())
		require.NoError(t, err, "the service principal's key during the trial")
		got, err := svc.Organization(ctx, id, "creator")
		require.NoError(t, err)
		assert.Equal(t, "professional", got.TrialEdition)

		// The trial ends at its end, exactly.
		clk.Advance(7*day - time.Microsecond)
		assert.True(t, svc.Check(ctx, id, "m0", "job_runs:create").Allowed, "a microsecond before the end")
		clk.Advance(time.Microsecond)
		d := svc.Check(ctx, id, "m0", "job_runs:create")
		assert.Equal(t, policy.ReasonEditionGated, d.Reason, "at the end: %v", d)
		assert.True(t, svc.Check(ctx, id, "m6", "cloud:use").Allowed, "members beyond the base limit stay and use what it offers")
		_, err = svc.Host().Provision(ctx, id, user("late"), "user")
		require.ErrorIs(t, err, orgauthz.ErrSeatLimit)
		assert.Contains(t, err.Error(), "5", "the error says the limit")
		// The service principal grants nothing in community, which offers
		// none.
		d = svc.CheckPrincipal(ctx, id, org.Principal{ID: sp.PrincipalID, Kind: org.ServicePrincipal}, "cloud:use")
		assert.False(t, d.Allowed, "a service principal after the trial: %v", d)
		_, err = svc.Authenticate(ctx, secret.Reveal())
		require.ErrorIs(t, err, orgauthz.ErrEditionGated, "its key after the trial")

		// No second trial of the same edition from community? It ended:
		// a new one may start, and is bounded again.
		_, err = svc.StartTrial(ctx, id, "creator", "professional", 15*day)
		require.ErrorIs(t, err, orgauthz.ErrTrial, "longer than the scheme allows")
		_, err = svc.StartTrial(ctx, id, "m0", "professional", day)
		require.ErrorIs(t, err, orgauthz.ErrPermissionDenied, "a user lacks the trial capability")
		_, err = svc.StartTrial(ctx, id, "creator", "enterprise", day)
		require.ErrorIs(t, err, orgauthz.ErrTrial, "enterprise may not be trialled")

		// Convert a running trial: everything is kept after its end.
		_, err = svc.StartTrial(ctx, id, "creator", "professional", 2*day)
		require.NoError(t, err)
		_, err = svc.StartTrial(ctx, id, "creator", "professional", day)
		require.ErrorIs(t, err, orgauthz.ErrTrial, "one trial at a time")
		o, err = svc.ExtendTrial(ctx, id, "creator", 5*day)
		require.NoError(t, err)
		assert.Equal(t, clk.Now().Add(7*day), o.TrialEndsAt)
		_, err = svc.ExtendTrial(ctx, id, "creator", 8*day)
		require.ErrorIs(t, err, orgauthz.ErrTrial, "beyond 14 days from the start")
		o, err = svc.ConvertTrial(ctx, id, "creator")
		require.NoError(t, err)
		assert.Equal(t, "professional", o.Edition)
		assert.Empty(t, o.TrialEdition)
		clk.Advance(30 * day)
		assert.True(t, svc.Check(ctx, id, "m6", "job_runs:create").Allowed, "converted: professional for good")

		events, err := svc.Host().Audit(ctx, id, orgauthz.AuditQuery{})
		require.NoError(t, err)
		var actions []string
		for _, e := range events {
			if slices.Contains([]string{orgauthz.AuditTrialStart, orgauthz.AuditTrialExtend, orgauthz.AuditTrialEnd, orgauthz.AuditTrialConvert}, e.Action) {
				actions = append(actions, e.Action)
			}
		}
		assert.Equal(t, []string{orgauthz.AuditTrialStart, orgauthz.AuditTrialEnd, orgauthz.AuditTrialStart, orgauthz.AuditTrialExtend, orgauthz.AuditTrialConvert}, actions)
	})
}

// A role the base edition does not offer stops granting anything when the
// trial ends (SoterAI's member role is enterprise only), and an early end
// does the same at once.
func TestTrialEndFailsClosed(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, env storeEnv) {
		f := env.newFixture(t)
		svc, clk := trialFixture(t, f.st)
		o, err := svc.CreateOrganization(ctx, user("owner"), orgauthz.NewOrganization{Name: "S", Scheme: "soterai", Edition: "starter"})
		require.NoError(t, err)
		id := o.ID
		ts, ok := edition.SoterAI().Trial("enterprise")
		require.True(t, ok, "SoterAI offers trials of enterprise")
		_, err = svc.StartTrial(ctx, id, "owner", "enterprise", min(ts.MaxDuration, 10*day))
		require.NoError(t, err)
		_, err = svc.Host().Provision(ctx, id, user("mem"), "member")
		require.NoError(t, err, "member is offered in enterprise")
		assert.True(t, svc.Check(ctx, id, "mem", "content:use").Allowed)
		ws, err := svc.CreateScope(ctx, id, "owner", "workspace", "W")
		require.NoError(t, err)
		_, err = svc.AddScopeMember(ctx, id, "owner", "workspace", ws.ID, user("mem"), "member")
		require.NoError(t, err)
		assert.True(t, svc.CheckScope(ctx, id, "mem", "workspace", ws.ID, "workspace:use").Allowed)
		clk.Advance(10 * day)
		d := svc.Check(ctx, id, "mem", "content:use")
		assert.False(t, d.Allowed, "after the trial: %v", d)
		assert.Equal(t, policy.ReasonRoleNotInEdition, d.Reason)
		d = svc.CheckScope(ctx, id, "mem", "workspace", ws.ID, "workspace:use")
		assert.False(t, d.Allowed, "on a workspace after the trial: %v", d)

		// The service's trial calls need a member: an empty actor is no
		// host (Host() is).
		_, err = svc.StartTrial(ctx, id, "", "enterprise", day)
		require.ErrorIs(t, err, orgauthz.ErrNotMember)
		_, err = svc.ConvertTrial(ctx, id, "")
		require.ErrorIs(t, err, orgauthz.ErrNotMember)

		// An early end.
		_, err = svc.StartTrial(ctx, id, "owner", "enterprise", day)
		require.NoError(t, err)
		assert.True(t, svc.Check(ctx, id, "mem", "content:use").Allowed)
		_, err = svc.EndTrial(ctx, id, "owner")
		require.NoError(t, err)
		assert.False(t, svc.Check(ctx, id, "mem", "content:use").Allowed)
		_, err = svc.EndTrial(ctx, id, "owner")
		require.ErrorIs(t, err, orgauthz.ErrTrial, "no trial to end")
	})
}

// The reminder listing and the sweep: the sweep writes one "trial ended"
// event per ended trial, at the trial's end, however many replicas run it
// at once, and nothing the second time.
func TestTrialsEndingAndSweep(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, env storeEnv) {
		f := env.newFixture(t)
		svc, clk := trialFixture(t, f.st)
		start := clk.Now()
		var ids []string
		for i := range 6 {
			o, err := svc.CreateOrganization(ctx, user("creator"), orgauthz.NewOrganization{Name: fmt.Sprint("T", i), Scheme: "wherobots", Edition: "community"})
			require.NoError(t, err)
			_, err = svc.StartTrial(ctx, o.ID, "creator", "professional", time.Duration(i+1)*day)
			require.NoError(t, err)
			ids = append(ids, o.ID)
		}
		var ending []string
		for o, err := range svc.TrialsEnding(ctx, start.Add(2*day), start.Add(4*day)) {
			require.NoError(t, err)
			ending = append(ending, o.ID)
		}
		assert.Equal(t, ids[1:3], ending, "trials ending on days 2 and 3 ([from, to))")

		clk.Advance(3*day + time.Hour)
		// Three replicas sweep at once.
		var wg sync.WaitGroup
		var mu sync.Mutex
		total := 0
		for range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n, err := svc.SweepTrials(ctx)
				assert.NoError(t, err)
				mu.Lock()
				total += n
				mu.Unlock()
			}()
		}
		wg.Wait()
		assert.Equal(t, 3, total, "the trials of days 1 to 3, once each")
		n, err := svc.SweepTrials(ctx)
		require.NoError(t, err)
		assert.Zero(t, n)
		for i, id := range ids {
			events, err := svc.Host().Audit(ctx, id, orgauthz.AuditQuery{})
			require.NoError(t, err)
			var ends []org.AuditEvent
			for _, e := range events {
				if e.Action == orgauthz.AuditTrialEnd {
					ends = append(ends, e)
				}
			}
			if i < 3 {
				require.Len(t, ends, 1, "organization %d", i)
				assert.Equal(t, start.Add(time.Duration(i+1)*day), ends[0].Time.UTC(), "the event is at the trial's end")
			} else {
				assert.Empty(t, ends, "organization %d: its trial runs", i)
			}
		}
	})
}
