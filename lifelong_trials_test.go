package orgauthz_test

// Edition trials in TestLifelongAuthority (lifelong_test.go): the oracle's
// model of a trial, the trial operations of the walk, the clock reaching a
// trial's end, and SweepTrials.
//
// The oracle keeps the trial as the store does (edition, start, end) and
// decides every step by the effective edition at the walk's clock: the
// trial's while now < its end, else the base edition. When a trial ends
// (by the clock, early, or swept), nothing is deleted, and the state it
// leaves may break what the base edition allows: members beyond the seat
// limit, roles the edition does not offer, service principals where it
// offers none, scope roles no longer eligible, invitations their inviter
// could no longer send. The invariants tolerate that residue (llOrg.residue)
// until the organization is clean again, provided no step adds a seat while
// over the limit, and the checks verify that it grants nothing (Check,
// CheckScope and Authenticate fail closed).

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/orgauthz/orgauthz"
	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/store"
)

// llTrialSpec is a trial as the oracle knows it: the longest it may last
// from its start, and the base editions it may start from (nil: any other).
type llTrialSpec struct {
	max  time.Duration
	from llSet
}

func (t llTrialSpec) startsFrom(trial, base string) bool {
	return base != trial && (t.from == nil || t.from[base])
}

// llWherobotsTrials is Wherobots with trials, so that they meet seat
// limits, gated capabilities and service principals: professional from
// community for up to 14 days, enterprise from community or professional
// for up to 30, governed by organization/settings:manage.
func llWherobotsTrials() *edition.Scheme {
	sp := edition.Wherobots().Spec()
	sp.Trials = []edition.TrialSpec{
		{Edition: "professional", MaxDuration: 14 * 24 * time.Hour, From: []string{"community"}},
		{Edition: "enterprise", MaxDuration: 30 * 24 * time.Hour, From: []string{"community", "professional"}},
	}
	sp.Organization.Trial = "organization/settings:manage"
	s, err := edition.NewScheme(sp)
	if err != nil {
		panic(err)
	}
	return s
}

// inTrial reports whether m's trial runs at now.
func (m llModel) inTrial(now time.Time) bool { return m.Trial != "" && now.Before(m.TrialEnd) }

// ed is the edition that decides for m at now.
func (m llModel) ed(now time.Time) string {
	if m.inTrial(now) {
		return m.Trial
	}
	return m.Edition
}

func (m llModel) edLabel(now time.Time) string {
	switch {
	case m.inTrial(now):
		return fmt.Sprintf("%s, on trial of %s until %s", m.Edition, m.Trial, m.TrialEnd.Format(time.RFC3339Nano))
	case m.Trial != "":
		return fmt.Sprintf("%s, its trial of %s ended %s", m.Edition, m.Trial, m.TrialEnd.Format(time.RFC3339Nano))
	}
	return m.Edition
}

func (m *llModel) clearTrial() { m.Trial, m.TrialStart, m.TrialEnd = "", time.Time{}, time.Time{} }

func (w *llWalk) pickTrialDuration(extend bool) time.Duration {
	const day = 24 * time.Hour
	if extend {
		return []time.Duration{time.Hour, day, day, 3 * day, 7 * day, 14 * day, 30 * day, 0}[w.rng.IntN(8)]
	}
	return []time.Duration{time.Hour, day, day, 3 * day, 3 * day, 7 * day, 7 * day, 14 * day, 15 * day, 30 * day, 31 * day, 0, -time.Hour}[w.rng.IntN(13)]
}

// opAdvanceClock advances the walk's clock: by a random duration, or, now
// and then, to the end of a trial (the first instant it no longer
// applies), a microsecond before or after it.
func (w *llWalk) opAdvanceClock(s *llStep) {
	d := w.pickDuration()
	s.detail = "by " + d.String()
	if w.rng.IntN(4) == 0 {
		now := w.clock.Now()
		var ends []time.Time
		for _, lo := range w.orgs {
			if m := lo.last; !lo.deleted && m.inTrial(now) && m.TrialEnd.Sub(now) <= 4*24*time.Hour {
				ends = append(ends, m.TrialEnd)
			}
		}
		if len(ends) > 0 {
			slices.SortFunc(ends, time.Time.Compare)
			off := []time.Duration{-time.Microsecond, 0, 0, time.Microsecond}[w.rng.IntN(4)]
			if e := ends[w.rng.IntN(len(ends))].Add(off); e.After(now) {
				d = e.Sub(now)
				s.detail = fmt.Sprintf("by %v, to a trial's end %+v", d, off)
				s.note(fmt.Sprintf("clock to a trial's end %+v", off))
			}
		}
	}
	w.clock.Advance(d)
	s.alts = []llExpect{llYes(s.bm.clone(), "")}
}

// opTrial starts, extends, ends or converts a trial, by a random actor or
// by the host.
func (w *llWalk) opTrial(s *llStep) {
	o, lo, bm := s.lo.o, s.lo, s.bm
	host := w.rng.IntN(4) == 0
	if !host {
		s.actor = w.pickActor(s, o.trialCap)
	}
	by := "by the host (Host())"
	if !host {
		by = fmt.Sprintf("by %q", s.actor)
	}
	var ed string
	var d time.Duration
	switch s.op {
	case "start-trial":
		switch r := w.rng.IntN(10); {
		case r < 8 && len(o.trials) > 0:
			var eds []string // mostly one it may start from its base
			for _, e := range o.editions {
				if ts, ok := o.trials[e]; ok && (ts.startsFrom(e, bm.Edition) || r == 0) {
					eds = append(eds, e)
				}
			}
			ed = w.pick(eds)
		case r < 9:
			ed = w.pick(o.editions)
		default:
			ed = "ghost"
		}
		d = w.pickTrialDuration(false)
		s.target, s.detail = ed, fmt.Sprintf("for %v %s", d, by)
		if host {
			_, s.err = w.svc.Host().StartTrial(ctx, lo.id, ed, d)
		} else {
			_, s.err = w.svc.StartTrial(ctx, lo.id, s.actor, ed, d)
		}
	case "extend-trial":
		d = w.pickTrialDuration(true)
		if s.boost {
			d = time.Hour
		}
		s.target, s.detail = bm.Trial, fmt.Sprintf("by %v %s", d, by)
		if host {
			_, s.err = w.svc.Host().ExtendTrial(ctx, lo.id, d)
		} else {
			_, s.err = w.svc.ExtendTrial(ctx, lo.id, s.actor, d)
		}
	case "end-trial":
		s.target, s.detail = bm.Trial, by
		if host {
			_, s.err = w.svc.Host().EndTrial(ctx, lo.id)
		} else {
			_, s.err = w.svc.EndTrial(ctx, lo.id, s.actor)
		}
	case "convert-trial":
		s.target, s.detail = bm.Trial, by
		if host {
			_, s.err = w.svc.Host().ConvertTrial(ctx, lo.id)
		} else {
			_, s.err = w.svc.ConvertTrial(ctx, lo.id, s.actor)
		}
	}
	s.detail += " (" + bm.edLabel(s.now) + ")"
	no := func(err error, format string, args ...any) {
		s.alts = []llExpect{{why: fmt.Sprintf(format, args...), err: err}}
	}
	// Who may: the host, or a member holding the trial capability (and,
	// to convert, the edition capability) in the effective edition.
	eff := bm.ed(s.now)
	if bm.Archived {
		no(orgauthz.ErrArchived, "the organization is archived")
		return
	}
	if !host {
		a, ok := bm.Members[s.actor]
		switch {
		case !ok:
			no(orgauthz.ErrNotMember, "actor %q is not a member", s.actor)
			return
		case o.trialCap == "":
			no(orgauthz.ErrPermissionDenied, "the scheme's trials are the host's alone")
			return
		case !o.holds(eff, a.Role, o.trialCap):
			no(orgauthz.ErrPermissionDenied, "role %q lacks %q in edition %q", a.Role, o.trialCap, eff)
			return
		case s.op == "convert-trial" && !o.holds(eff, a.Role, o.editionCap):
			no(orgauthz.ErrPermissionDenied, "role %q lacks %q in edition %q, which converting needs", a.Role, o.editionCap, eff)
			return
		}
	}
	running := bm.inTrial(s.now)
	x := llYes(bm.clone(), "")
	switch s.op {
	case "start-trial":
		ts, ok := o.trials[ed]
		switch {
		case running:
			no(orgauthz.ErrTrial, "a trial of %q runs until %s", bm.Trial, bm.TrialEnd)
		case ed == bm.Edition:
			no(orgauthz.ErrTrial, "the organization has edition %q already", ed)
		case !ok:
			no(orgauthz.ErrTrial, "the scheme offers no trial of %q", ed)
		case !ts.startsFrom(ed, bm.Edition):
			no(orgauthz.ErrTrial, "a trial of %q does not start from %q", ed, bm.Edition)
		case d <= 0 || d > ts.max:
			no(orgauthz.ErrTrial, "a trial of %q lasts up to %v, not %v", ed, ts.max, d)
		default:
			if bm.Trial != "" {
				s.note("a trial starts where an ended one was not swept")
			}
			x.m.Trial, x.m.TrialStart, x.m.TrialEnd = ed, s.now, s.now.Add(d)
			s.alts = []llExpect{x}
		}
	case "extend-trial":
		switch end := bm.TrialEnd.Add(d); {
		case !running:
			no(orgauthz.ErrTrial, "no trial runs")
		case d <= 0 || end.Sub(bm.TrialStart) > o.trials[bm.Trial].max:
			no(orgauthz.ErrTrial, "extending by %v would end the trial %v after its start, at most %v", d, end.Sub(bm.TrialStart), o.trials[bm.Trial].max)
		default:
			x.m.TrialEnd = end
			s.alts = []llExpect{x}
		}
	case "end-trial":
		if !running {
			no(orgauthz.ErrTrial, "no trial runs")
			return
		}
		x.m.clearTrial()
		s.alts = []llExpect{x}
	case "convert-trial":
		if !running {
			no(orgauthz.ErrTrial, "no trial runs")
			return
		}
		x.m.Edition = bm.Trial
		if !o.seats[bm.Trial].overridable {
			x.m.Override = 0
		}
		x.m.clearTrial()
		s.alts = []llExpect{x}
	}
}

// opSweepTrials sweeps every organization's ended trial: each one whose
// trial has ended (and only those) has it cleared, nothing else changed,
// and the count returned is theirs; a second sweep finds nothing.
func (w *llWalk) opSweepTrials(s *llStep) {
	now := w.clock.Now()
	read := func() map[string]org.Organization {
		out := map[string]org.Organization{}
		for _, lo := range w.orgs {
			if lo.deleted {
				continue
			}
			err := w.st.View(ctx, lo.id, func(ctx context.Context, r store.Reader) error {
				o, err := r.Organization(ctx)
				out[lo.id] = o
				return err
			})
			if err != nil {
				s.fail("sweep", "read organization %q: %v", lo.id, err)
			}
		}
		return out
	}
	before := read()
	var due []string
	for id, o := range before {
		if o.TrialEdition != "" && !now.Before(o.TrialEndsAt) {
			due = append(due, id)
		}
	}
	slices.Sort(due)
	n, err := w.svc.SweepTrials(ctx)
	s.err = err
	s.detail = fmt.Sprintf("(%d due: %v)", len(due), due)
	if err == nil && n != len(due) {
		s.fail("sweep", "swept %d organizations, but %d had an ended trial: %v", n, len(due), due)
	}
	for id, a := range read() {
		b := before[id]
		want := b
		if slices.Contains(due, id) {
			want.TrialEdition, want.TrialStartedAt, want.TrialEndsAt = "", time.Time{}, time.Time{}
		}
		if a.Edition != want.Edition || a.SeatOverride != want.SeatOverride || a.Archived != want.Archived || a.Name != want.Name ||
			a.TrialEdition != want.TrialEdition || !a.TrialStartedAt.Equal(want.TrialStartedAt) || !a.TrialEndsAt.Equal(want.TrialEndsAt) {
			s.fail("sweep", "organization %q after the sweep: edition %q, trial %q %s..%s, want edition %q, trial %q %s..%s",
				id, a.Edition, a.TrialEdition, a.TrialStartedAt, a.TrialEndsAt, want.Edition, want.TrialEdition, want.TrialStartedAt, want.TrialEndsAt)
		}
	}
	if err == nil && w.rng.IntN(4) == 0 {
		if n, err := w.svc.SweepTrials(ctx); err != nil || n != 0 {
			s.fail("sweep", "a second sweep swept %d (%v), want 0", n, err)
		}
	}
	if len(due) > 0 {
		s.note("sweep with ended trials")
	}
	x := llYes(s.bm.clone(), "")
	if x.m.Trial != "" && !x.m.inTrial(s.now) {
		x.m.clearTrial()
	}
	s.alts = []llExpect{x}
}

// pickTrialOrg picks, now and then, an organization whose trial runs and an
// operation on that trial: trials run for a few of its steps only.
func (w *llWalk) pickTrialOrg() (*llOrg, string) {
	var on []*llOrg
	for _, lo := range w.orgs {
		if !lo.deleted && !lo.archived && lo.inTrial {
			on = append(on, lo)
		}
	}
	if len(on) == 0 {
		return nil, ""
	}
	return on[w.rng.IntN(len(on))], w.pick([]string{"extend-trial", "extend-trial", "end-trial", "convert-trial"})
}
