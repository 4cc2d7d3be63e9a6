package orgauthz_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/orgauthz/orgauthz"
	"github.com/orgauthz/orgauthz/invite"
	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/store"
	"github.com/orgauthz/orgauthz/store/pgstore"
	"github.com/orgauthz/orgauthz/store/pgstore/pgtest"
	"github.com/stretchr/testify/require"
)

// TestDurabilityAcrossACrash stops the server hard (pg_ctl stop -m
// immediate) in the middle of a workload, restarts it, and checks that
// every acknowledged change is there and that no change is half written;
// then runs more of the workload and crashes again, for several cycles.
//
// Each worker changes an organization of its own, one operation at a time,
// and each operation writes several records in one transaction (a member
// and its audit event; an invitation and its event; on acceptance a
// member, the invitation and two events). So the only operation of a
// worker whose outcome is unknown is the one in flight at the crash, and
// the audit trail decides it: the events of every acknowledged operation
// must be there, in order, and those of the operation in doubt either all
// or none; the members, the invitations and the head counts must then be
// exactly what the operations found in the trail produce, nothing more.
//
// The store the workload runs on lives through every crash: after each
// restart its pool must reconnect and its read cache must answer from the
// recovered state. A fresh store, opened after each restart, reads what
// the database kept.
func TestDurabilityAcrossACrash(t *testing.T) {
	t.Parallel()
	const (
		workers = 4
		cycles  = 3
		// recoveryWait bounds the polls for recovery: generous, on a
		// noisy machine; never a measure of speed.
		recoveryWait = time.Minute
	)
	c := pgtest.StartPrivate(t, pgtest.Options{Durable: true})
	conn, err := c.CreateDatabase(ctx, "durability", "")
	require.NoError(t, err)
	pool, err := pgxpool.New(ctx, conn)
	require.NoError(t, err)
	err = pgstore.Migrate(ctx, pool)
	pool.Close()
	require.NoError(t, err)

	// The workload's store: it is never reopened.
	live := openPGOn(t, conn, pgstore.Options{})
	f := newFixtureOn(t, live, "d-")
	sch, _ := f.svc.Scheme("wherobots")

	ws := make([]*durabilityWorker, workers)
	for i := range ws {
		o, err := f.svc.CreateOrganization(ctx, user("creator"), orgauthz.NewOrganization{
			Name: fmt.Sprintf("Durable %d", i), Scheme: "wherobots", Edition: "enterprise", // no seat limit
		})
		require.NoError(t, err)
		ws[i] = &durabilityWorker{t: t, n: i, svc: f.svc, o: newDurableOrg(o.ID, f.clock.Now())}
	}

	total := 0
	for cycle := 1; cycle <= cycles; cycle++ {
		// Run the workload until enough operations were acknowledged
		// (more each cycle, so that the crash falls at different points),
		// then crash the server under the running workers.
		target := int64(30 + 25*cycle)
		cs := &durableCycle{target: target, reached: make(chan struct{})}
		wctx, cancel := context.WithCancel(ctx)
		results := make([]durableResult, workers)
		var wg sync.WaitGroup
		for i, w := range ws {
			wg.Go(func() { results[i] = w.run(wctx, cs) })
		}
		select {
		case <-cs.reached:
		case <-time.After(recoveryWait):
			cancel()
			wg.Wait()
			t.Fatalf("cycle %d: only %d of %d operations acknowledged in %v", cycle, cs.acked.Load(), target, recoveryWait)
		}
		cs.crashing.Store(true)
		if err := c.Stop("immediate"); err != nil {
			cancel()
			wg.Wait()
			t.Fatalf("cycle %d: %v", cycle, err)
		}
		cs.stopped.Store(true)
		// With the server down, every worker fails its next operation and
		// stops; the context is only a backstop against a hung call.
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(recoveryWait):
			t.Errorf("cycle %d: workers still running %v after the crash; cancelling them", cycle, recoveryWait)
			cancel()
			<-done
		}
		cancel()
		var sum durableResult
		for _, r := range results {
			sum.acked += r.acked
			sum.inDoubt += r.inDoubt
			sum.early += r.early
		}

		restarted := time.Now()
		if err := c.Restart(); err != nil {
			t.Fatalf("cycle %d: restart after the crash: %v\nserver log:\n%s", cycle, err, c.Log())
		}

		// The store that lived through the crash recovers: its pool
		// reconnects and a check through it works again.
		durablePoll(t, recoveryWait, fmt.Sprintf("cycle %d: a check through the store that lived through the crash", cycle), func() error {
			for _, w := range ws {
				if d := f.svc.Check(ctx, w.o.id, "creator", "members:manage"); !d.Allowed {
					return fmt.Errorf("check of the creator in %s: %v", w.o.id, d)
				}
			}
			return nil
		})
		recovered := time.Since(restarted)

		// A new store reads what the database kept.
		fresh, err := pgstore.Open(ctx, conn, pgstore.Options{})
		require.NoError(t, err, "cycle %d: opening a new store after the restart", cycle)
		t.Cleanup(func() { fresh.Close() }) // if a check below fails
		var applied, notApplied int
		for _, w := range ws {
			a, n := w.o.verify(t, fresh, sch.ID())
			applied += a
			notApplied += n
			checkInvariants(t, sch, takeSnapshot(t, fresh, sch, w.o.id, 0), "creator")
			w.o.checkAccess(t, fresh, "the new store")
			w.o.checkAccess(t, live, "the store that lived through the crash")
			var listed orgauthz.MemberPage
			durablePoll(t, recoveryWait, fmt.Sprintf("cycle %d: a read of %s through the store that lived through the crash", cycle, w.o.id), func() error {
				var err error
				listed, err = f.svc.Members(ctx, w.o.id, "creator", orgauthz.Page{Limit: 1000})
				return err
			})
			require.Len(t, listed.Members, len(w.o.members), "cycle %d: %s: the members listed through the store that lived through the crash", cycle, w.o.id)
		}
		require.NoError(t, fresh.Close())
		total += sum.acked
		t.Logf("cycle %d: crashed after %d acknowledged operations (%d in all so far); %d in doubt: %d found written whole, %d not at all (%d of them failed before the crash); the old store answered again %v after the restart began",
			cycle, sum.acked, total, sum.inDoubt, applied, notApplied, sum.early, recovered.Round(time.Millisecond))
		require.Equal(t, sum.inDoubt, applied+notApplied)
		if t.Failed() {
			t.FailNow()
		}
	}
}

// poll calls fn until it returns nil, failing the test if it has not
// within wait.
func durablePoll(t *testing.T, wait time.Duration, what string, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still failing after %v: %v", what, wait, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// durableCycle is shared by the workers of one cycle and the test.
type durableCycle struct {
	target   int64         // acknowledged operations before the crash
	acked    atomic.Int64  // acknowledged operations of the cycle
	reached  chan struct{} // closed when acked reaches target
	crashing atomic.Bool   // set just before the server is stopped
	stopped  atomic.Bool   // set once it is
}

type durableResult struct {
	acked, inDoubt int
	early          int // in doubt, but failed before the crash began
}

// durableEvent is an audit event an operation writes. A detail ending in
// "*" is a prefix.
type durableEvent struct {
	actor, action, target, before, after, detail string
}

func (e durableEvent) matches(got org.AuditEvent) bool {
	detailOK := got.Detail == e.detail
	if prefix, ok := strings.CutSuffix(e.detail, "*"); ok {
		detailOK = strings.HasPrefix(got.Detail, prefix)
	}
	return got.Actor == e.actor && got.Action == e.action && got.Target == e.target &&
		got.RoleBefore == e.before && got.RoleAfter == e.after && detailOK
}

func (e durableEvent) String() string {
	return fmt.Sprintf("{%s %s by %q: %q -> %q, %q}", e.action, e.target, e.actor, e.before, e.after, e.detail)
}

// durableOp is an operation of the workload: the events it writes, and
// what it does to the model, given those events as found in the trail.
type durableOp struct {
	name   string
	acked  bool
	events []durableEvent
	apply  func(o *durableOrg, found []org.AuditEvent)
}

// durableInvitation is what the model expects of an invitation.
type durableInvitation struct {
	id         string // "" until known
	status     invite.Status
	acceptedBy string
}

// durableOrg is the model of one organization: its state as of the last
// verification, and the operations run since, acknowledged or in doubt.
type durableOrg struct {
	id          string
	when        time.Time // every event's time: the fixture's clock stands still
	members     map[string]string
	removed     map[string]bool
	invitations map[string]durableInvitation // by address
	seq         int                          // events verified
	log         []*durableOp
}

func newDurableOrg(id string, now time.Time) *durableOrg {
	o := &durableOrg{id: id, when: now.UTC(), members: map[string]string{}, removed: map[string]bool{}, invitations: map[string]durableInvitation{}}
	o.log = []*durableOp{{
		name:   "create",
		acked:  true,
		events: []durableEvent{{actor: "creator", action: orgauthz.AuditOrganizationCreate, target: "creator", after: "admin", detail: "edition enterprise"}},
		apply:  func(o *durableOrg, _ []org.AuditEvent) { o.members["creator"] = "admin" },
	}}
	return o
}

// verify reads the organization through st and checks it against the
// model and the operations logged since the last verification, which it
// then folds into the model. It returns how many operations in doubt were
// found written, and how many not.
func (o *durableOrg) verify(t *testing.T, st store.Store, scheme string) (applied, notApplied int) {
	t.Helper()
	var (
		events  []org.AuditEvent
		members = map[string]org.Member{}
		invs    = map[string]invite.Invitation{}
		counts  store.Counts
		rec     org.Organization
	)
	err := st.View(ctx, o.id, func(ctx context.Context, r store.Reader) error {
		var err error
		if rec, err = r.Organization(ctx); err != nil {
			return err
		}
		if counts, err = r.Counts(ctx); err != nil {
			return err
		}
		for m, err := range r.Members(ctx, "") {
			if err != nil {
				return err
			}
			members[m.PrincipalID] = m
		}
		for inv, err := range r.Invitations(ctx, "", false) {
			if err != nil {
				return err
			}
			if prev, dup := invs[inv.Email]; dup {
				return fmt.Errorf("two invitations to %s: %s and %s", inv.Email, prev.ID, inv.ID)
			}
			invs[inv.Email] = inv
		}
		for e, err := range r.Audit(ctx, store.AuditFilter{}) {
			if err != nil {
				return err
			}
			events = append(events, e)
		}
		return nil
	})
	require.NoError(t, err, "reading %s", o.id)
	require.Equal(t, scheme, rec.Scheme)
	require.Equal(t, "enterprise", rec.Edition)

	// The trail is numbered 1..n without gaps, and is no shorter than
	// what earlier verifications found.
	for i, e := range events {
		if e.Seq != int64(i+1) || e.OrgID != o.id || !e.Time.Equal(o.when) {
			t.Fatalf("%s: audit event %d of %d is %+v: want seq %d, organization %s, time %v", o.id, i+1, len(events), e, i+1, o.id, o.when)
		}
	}
	require.GreaterOrEqual(t, len(events), o.seq, "%s: the audit trail shrank", o.id)

	// Each operation logged is found in the trail, in order, whole, or
	// (only if in doubt) not at all.
	rest := events[o.seq:]
	for _, op := range o.log {
		found := len(rest) >= len(op.events)
		for i := 0; found && i < len(op.events); i++ {
			found = op.events[i].matches(rest[i])
		}
		switch {
		case found:
			op.apply(o, rest[:len(op.events)])
			rest = rest[len(op.events):]
			if !op.acked {
				applied++
				t.Logf("%s: %s, in doubt, was written whole", o.id, op.name)
			}
		case op.acked:
			next := "the end of the trail"
			if len(rest) > 0 {
				next = fmt.Sprintf("%+v", rest[0])
			}
			t.Fatalf("%s: the acknowledged operation %s is lost: want the events %v, found %s", o.id, op.name, op.events, next)
		default:
			notApplied++
			// Written in part? Its first event alone would show here.
			if len(rest) > 0 && len(op.events) > 0 && op.events[0].matches(rest[0]) {
				t.Fatalf("%s: the operation in doubt %s is half written: want %v, found %+v", o.id, op.name, op.events, rest)
			}
		}
	}
	if len(rest) > 0 {
		t.Fatalf("%s: %d audit events that no operation wrote, from %+v", o.id, len(rest), rest[0])
	}
	o.seq = len(events)
	o.log = nil

	// The records are exactly what those operations make.
	got := map[string]string{}
	for id, m := range members {
		if m.Kind != org.User || m.External {
			t.Errorf("%s: member %+v: want a user, not external", o.id, m)
		}
		got[id] = m.Role
	}
	require.Equal(t, o.members, got, "%s: the members are not those the audit trail says", o.id)
	holders := map[string]int{}
	for _, r := range o.members {
		holders[r]++
	}
	require.Equal(t, len(o.members), counts.Members, "%s: counts %+v", o.id, counts)
	require.Zero(t, counts.External, "%s: counts %+v", o.id, counts)
	require.Equal(t, holders, nonZero(counts.Roles), "%s: the counts of roles disagree with the members", o.id)

	require.Len(t, invs, len(o.invitations), "%s: invitations %v, want those of %v", o.id, durableInvitationList(invs), o.invitations)
	for addr, want := range o.invitations {
		inv, ok := invs[addr]
		if !ok {
			t.Fatalf("%s: the invitation to %s is missing", o.id, addr)
		}
		if inv.ID != want.id || inv.Status != want.status || inv.AcceptedBy != want.acceptedBy || inv.Role != "user" || inv.InvitedBy != "creator" {
			t.Fatalf("%s: invitation %+v, want %+v", o.id, inv, want)
		}
	}
	return applied, notApplied
}

func durableInvitationList(m map[string]invite.Invitation) []string {
	var out []string
	for addr, inv := range m {
		out = append(out, addr+"="+inv.ID+":"+inv.Status.String())
	}
	return out
}

// checkAccess checks that st's Access, the hot path, answers what the
// verified model says for every member and former member.
func (o *durableOrg) checkAccess(t *testing.T, st store.Store, which string) {
	t.Helper()
	for id, r := range o.members {
		a, err := st.Access(ctx, o.id, id)
		if err != nil || a.Role != r || a.Edition != "enterprise" || a.Archived {
			t.Fatalf("%s: access of %s through %s: %+v, %v; want role %q", o.id, id, which, a, err, r)
		}
	}
	for id := range o.removed {
		if _, err := st.Access(ctx, o.id, id); !errors.Is(err, store.ErrMemberNotFound) {
			t.Fatalf("%s: access of the removed %s through %s: %v, want %v", o.id, id, which, err, store.ErrMemberNotFound)
		}
	}
}

// durabilityWorker runs the workload of one organization: a script of
// operations per round k, on principals and an address of round k alone.
// After a failure it starts a new round, so the operations of a round
// never depend on one whose outcome is unknown.
type durabilityWorker struct {
	t     *testing.T
	n     int
	svc   *orgauthz.Service
	o     *durableOrg
	k     int
	stage int
	// The invitation of round k, once acknowledged.
	invID, token string
}

func (w *durabilityWorker) next() {
	w.stage++
	if w.stage == 6 {
		w.abandon()
	}
}

func (w *durabilityWorker) abandon() {
	w.k++
	w.stage, w.invID, w.token = 0, "", ""
}

// run performs operations until one fails once the crash has begun.
func (w *durabilityWorker) run(ctx context.Context, cs *durableCycle) (res durableResult) {
	t := w.t
	for ctx.Err() == nil {
		afterStop := cs.stopped.Load()
		op, err := w.do(ctx)
		if err == nil {
			if afterStop {
				t.Errorf("worker %d: %s succeeded, though it began after the server was stopped", w.n, op.name)
			}
			op.acked = true
			w.o.log = append(w.o.log, op)
			w.next()
			res.acked++
			if cs.acked.Add(1) == cs.target {
				close(cs.reached)
			}
			continue
		}
		if !errors.Is(err, pgstore.ErrDatabase) && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("worker %d: %s failed with neither a database nor a context error: %v", w.n, op.name, err)
		}
		w.o.log = append(w.o.log, op) // in doubt
		res.inDoubt++
		w.abandon()
		if !cs.crashing.Load() {
			res.early++
			t.Logf("worker %d: %s failed before the crash; in doubt: %v", w.n, op.name, err)
			continue
		}
		return res
	}
	return res
}

// do performs the next operation of the script and returns it with its
// error. A panic fails the test and is the operation's error.
func (w *durabilityWorker) do(ctx context.Context) (op *durableOp, err error) {
	t, svc, id := w.t, w.svc, w.o.id
	defer func() {
		if r := recover(); r != nil {
			if op == nil {
				op = &durableOp{name: fmt.Sprintf("stage %d of round %d", w.stage, w.k), apply: func(*durableOrg, []org.AuditEvent) {}}
			}
			t.Errorf("worker %d: %s panicked: %v", w.n, op.name, r)
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	p := fmt.Sprintf("w%d-p%d", w.n, w.k) // provisioned
	q := fmt.Sprintf("w%d-q%d", w.n, w.k) // joins by invitation
	addr := fmt.Sprintf("w%d-%d@example.com", w.n, w.k)
	changeRole := func(who, before, after string) (*durableOp, error) {
		op := &durableOp{
			name:   fmt.Sprintf("change-role %s %s->%s", who, before, after),
			events: []durableEvent{{actor: "creator", action: orgauthz.AuditMemberRole, target: who, before: before, after: after}},
			apply:  func(o *durableOrg, _ []org.AuditEvent) { o.members[who] = after },
		}
		m, err := svc.ChangeRole(ctx, id, "creator", who, after)
		if err == nil && (m.PrincipalID != who || m.Role != after) {
			t.Errorf("worker %d: %s returned %+v", w.n, op.name, m)
		}
		return op, err
	}
	switch w.stage {
	case 0:
		op = &durableOp{
			name:   "provision " + p,
			events: []durableEvent{{action: orgauthz.AuditMemberAdd, target: p, after: "user", detail: "provisioned"}},
			apply:  func(o *durableOrg, _ []org.AuditEvent) { o.members[p] = "user" },
		}
		var m org.Member
		m, err = svc.Host().Provision(ctx, id, user(p), "user")
		if err == nil && (m.PrincipalID != p || m.Role != "user") {
			t.Errorf("worker %d: %s returned %+v", w.n, op.name, m)
		}
	case 1:
		op, err = changeRole(p, "user", "admin")
	case 2:
		op = &durableOp{
			name:   "invite " + addr,
			events: []durableEvent{{actor: "creator", action: orgauthz.AuditInvitationCreate, target: addr, after: "user", detail: "invitation *"}},
		}
		var inv invite.Invitation
		var tok invite.Token
		inv, tok, err = svc.Invite(ctx, id, "creator", addr, "user")
		if err == nil {
			if inv.Email != addr || inv.Status != invite.Pending || inv.ID == "" {
				t.Errorf("worker %d: %s returned %+v", w.n, op.name, inv)
			}
			w.invID, w.token = inv.ID, tok.Reveal()
			op.events[0].detail = "invitation " + inv.ID + ", *"
		}
		invID := w.invID
		op.apply = func(o *durableOrg, found []org.AuditEvent) {
			known := invID
			if known == "" { // in doubt: the trail names it
				known, _, _ = strings.Cut(strings.TrimPrefix(found[0].Detail, "invitation "), ",")
			}
			o.invitations[addr] = durableInvitation{id: known, status: invite.Pending}
		}
	case 3:
		invID := w.invID
		detail := "invitation " + invID
		op = &durableOp{
			name: "accept " + invID + " as " + q,
			events: []durableEvent{
				{actor: q, action: orgauthz.AuditMemberAdd, target: q, after: "user", detail: detail},
				{actor: q, action: orgauthz.AuditInvitationAccept, target: addr, after: "user", detail: detail},
			},
			apply: func(o *durableOrg, _ []org.AuditEvent) {
				o.members[q] = "user"
				o.invitations[addr] = durableInvitation{id: invID, status: invite.Accepted, acceptedBy: q}
			},
		}
		var m org.Member
		m, _, err = svc.AcceptInvitation(ctx, w.token, user(q), addr)
		if err == nil && (m.PrincipalID != q || m.Role != "user") {
			t.Errorf("worker %d: %s returned %+v", w.n, op.name, m)
		}
	case 4:
		op, err = changeRole(p, "admin", "user")
	case 5:
		if w.k%2 == 1 {
			op, err = changeRole(q, "user", "admin")
			break
		}
		op = &durableOp{
			name:   "remove " + p,
			events: []durableEvent{{actor: "creator", action: orgauthz.AuditMemberRemove, target: p, before: "user"}},
			apply: func(o *durableOrg, _ []org.AuditEvent) {
				delete(o.members, p)
				o.removed[p] = true
			},
		}
		err = svc.RemoveMember(ctx, id, "creator", p)
	}
	return op, err
}
