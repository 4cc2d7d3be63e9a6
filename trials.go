package orgauthz

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/store"
)

// Edition trials.
//
// An organization may try another edition of its scheme for a while
// (edition.Spec.Trials says which, from which, and for how long at most).
// While the trial runs, every decision uses the trial edition: Check,
// scope checks, authentication, the management rules and the seat limits.
// From the first instant after its end (TrialEndsAt), the base edition
// (Edition), with no call needed: the service's clock decides, as it does
// for invitation expiry. Nothing is lost when a trial ends: members beyond
// the base edition's seat limit stay, but no seat can be added until the
// organization is back under it; roles, service principals and
// capabilities the base edition does not offer stop granting anything
// (fail closed) until an owner changes them or upgrades. ConvertTrial
// makes the trial edition the base one and keeps everything.

// Audit actions of trials.
const (
	AuditTrialStart   = "trial.start"
	AuditTrialExtend  = "trial.extend"
	AuditTrialEnd     = "trial.end" // ended early, or swept after its end
	AuditTrialConvert = "trial.convert"
)

// Errors of trials, matched with errors.Is.
var (
	// ErrTrial is the error of a trial the scheme or the organization does
	// not allow: an edition that may not be trialled, from this base, or
	// for this long; a trial while another runs; extending, ending or
	// converting none.
	ErrTrial = errors.New("orgauthz: trial not allowed")
)

// effectiveEdition returns the edition that decides for an organization
// of base edition base and trial (trial, ends) at time now.
func effectiveEdition(base, trial string, ends, now time.Time) string {
	if trial != "" && now.Before(ends) {
		return trial
	}
	return base
}

// InTrial reports whether o's trial runs at time now.
func InTrial(o org.Organization, now time.Time) bool {
	return o.TrialEdition != "" && now.Before(o.TrialEndsAt)
}

// EffectiveEdition returns the edition that decides for o at time now: its
// trial edition while the trial runs, else its base edition.
func EffectiveEdition(o org.Organization, now time.Time) string {
	return effectiveEdition(o.Edition, o.TrialEdition, o.TrialEndsAt, now)
}

// effective rewrites a's edition to the one that decides now, dropping its
// code when that is the trial's (the code stands for the base triple).
func (s *Service) effective(a *store.Access) {
	if a.TrialEdition == "" {
		return
	}
	if ed := effectiveEdition(a.Edition, a.TrialEdition, a.TrialEndsAt, s.now()); ed != a.Edition {
		a.Edition, a.Code = ed, 0
	}
}

// StartTrial starts a trial of edition ed for organization orgID, lasting
// d from now, by actor, who must hold the scheme's trial capability
// (edition.OrgCapabilities.Trial). The scheme must allow trials of ed from
// the organization's edition for that long, and no trial may run.
func (s *Service) StartTrial(ctx context.Context, orgID, actor, ed string, d time.Duration) (org.Organization, error) {
	return s.trialOp(ctx, orgID, actor, false, func(ctx context.Context, tx store.Tx, st *state) (org.Organization, error) {
		return s.startTrial(ctx, tx, st, ed, d)
	})
}

// ExtendTrial extends the running trial of organization orgID by d, by
// actor, within the scheme's longest trial counted from the trial's start.
func (s *Service) ExtendTrial(ctx context.Context, orgID, actor string, d time.Duration) (org.Organization, error) {
	return s.trialOp(ctx, orgID, actor, false, func(ctx context.Context, tx store.Tx, st *state) (org.Organization, error) {
		return s.extendTrial(ctx, tx, st, d)
	})
}

// EndTrial ends the running trial of organization orgID now, by actor: the
// base edition decides again.
func (s *Service) EndTrial(ctx context.Context, orgID, actor string) (org.Organization, error) {
	return s.trialOp(ctx, orgID, actor, false, func(ctx context.Context, tx store.Tx, st *state) (org.Organization, error) {
		return s.endTrial(ctx, tx, st, AuditTrialEnd, "ended early")
	})
}

// ConvertTrial makes the running trial's edition the base edition of
// organization orgID, by actor (who must hold the scheme's edition
// capability too): the paid upgrade, which keeps everything.
func (s *Service) ConvertTrial(ctx context.Context, orgID, actor string) (org.Organization, error) {
	return s.convertTrialBy(ctx, orgID, actor, false)
}

func (s *Service) convertTrialBy(ctx context.Context, orgID, actor string, host bool) (org.Organization, error) {
	return s.trialOp(ctx, orgID, actor, host, func(ctx context.Context, tx store.Tx, st *state) (org.Organization, error) {
		if !host {
			if err := st.decide(st.sch.OrgCapabilities().Edition); err != nil {
				return org.Organization{}, fmt.Errorf("convert the trial of %q: %w", st.o.ID, err)
			}
		}
		return s.convertTrial(ctx, tx, st)
	})
}

// trialOp runs a trial operation in an Update: of the host when host is
// set, else of actor, a member holding the scheme's trial capability (an
// empty actor is no member).
func (s *Service) trialOp(ctx context.Context, orgID, actor string, host bool, op func(ctx context.Context, tx store.Tx, st *state) (org.Organization, error)) (org.Organization, error) {
	var out org.Organization
	err := s.st.Update(ctx, orgID, func(ctx context.Context, tx store.Tx) error {
		var st *state
		var err error
		if host {
			st, err = s.loadOrg(ctx, tx, orgID, true)
		} else {
			st, err = s.load(ctx, tx, orgID, actor, true)
		}
		if err != nil {
			return err
		}
		if !host {
			if err := st.decide(st.sch.OrgCapabilities().Trial); err != nil {
				return fmt.Errorf("trial of %q: %w", orgID, err)
			}
		}
		out, err = op(ctx, tx, st)
		return err
	})
	return out, err
}

func (s *Service) startTrial(ctx context.Context, tx store.Tx, st *state, ed string, d time.Duration) (org.Organization, error) {
	o, now := st.o, s.now()
	if InTrial(o, now) {
		return org.Organization{}, fmt.Errorf("%w: organization %q is already on a trial of %q until %s", ErrTrial, o.ID, o.TrialEdition, o.TrialEndsAt.Format(time.RFC3339))
	}
	if ed == o.Edition {
		return org.Organization{}, fmt.Errorf("%w: organization %q already has edition %q", ErrTrial, o.ID, ed)
	}
	ts, ok := st.sch.Trial(ed)
	if !ok {
		return org.Organization{}, fmt.Errorf("%w: scheme %q offers no trial of edition %q", ErrTrial, st.sch.ID(), ed)
	}
	if !ts.StartsFrom(o.Edition) {
		return org.Organization{}, fmt.Errorf("%w: a trial of %q starts from %v, and organization %q has edition %q", ErrTrial, ed, ts.From, o.ID, o.Edition)
	}
	if d <= 0 || d > ts.MaxDuration {
		return org.Organization{}, fmt.Errorf("%w: a trial of %q lasts up to %v, not %v", ErrTrial, ed, ts.MaxDuration, d)
	}
	if o.TrialEdition != "" {
		// A trial that ended and was not swept yet: its end is recorded
		// first, so that the trail shows both.
		if err := s.auditTrialEnd(ctx, tx, st, o, "ended"); err != nil {
			return org.Organization{}, err
		}
	}
	o.TrialEdition, o.TrialStartedAt, o.TrialEndsAt, o.UpdatedAt = ed, now, now.Add(d), now
	if err := tx.UpdateOrganization(ctx, o); err != nil {
		return org.Organization{}, err
	}
	err := s.audit(ctx, tx, org.AuditEvent{Actor: st.actor.PrincipalID, Action: AuditTrialStart,
		Detail: fmt.Sprintf("%s -> %s until %s", o.Edition, ed, o.TrialEndsAt.Format(time.RFC3339))})
	return o, err
}

func (s *Service) extendTrial(ctx context.Context, tx store.Tx, st *state, d time.Duration) (org.Organization, error) {
	o, now := st.o, s.now()
	if !InTrial(o, now) {
		return org.Organization{}, fmt.Errorf("%w: organization %q has no trial running", ErrTrial, o.ID)
	}
	ts, ok := st.sch.Trial(o.TrialEdition)
	if !ok {
		return org.Organization{}, fmt.Errorf("%w: scheme %q offers no trial of edition %q any more", ErrTrial, st.sch.ID(), o.TrialEdition)
	}
	end := o.TrialEndsAt.Add(d)
	if d <= 0 || end.Sub(o.TrialStartedAt) > ts.MaxDuration {
		return org.Organization{}, fmt.Errorf("%w: a trial of %q lasts up to %v from its start (%s); extending it by %v would end it at %s", ErrTrial,
			o.TrialEdition, ts.MaxDuration, o.TrialStartedAt.Format(time.RFC3339), d, end.Format(time.RFC3339))
	}
	prev := o.TrialEndsAt
	o.TrialEndsAt, o.UpdatedAt = end, now
	if err := tx.UpdateOrganization(ctx, o); err != nil {
		return org.Organization{}, err
	}
	err := s.audit(ctx, tx, org.AuditEvent{Actor: st.actor.PrincipalID, Action: AuditTrialExtend,
		Detail: fmt.Sprintf("%s until %s (was %s)", o.TrialEdition, end.Format(time.RFC3339), prev.Format(time.RFC3339))})
	return o, err
}

func (s *Service) endTrial(ctx context.Context, tx store.Tx, st *state, action, why string) (org.Organization, error) {
	o, now := st.o, s.now()
	if !InTrial(o, now) {
		return org.Organization{}, fmt.Errorf("%w: organization %q has no trial running", ErrTrial, o.ID)
	}
	detail := fmt.Sprintf("%s -> %s: %s", o.TrialEdition, o.Edition, why)
	o.TrialEdition, o.TrialStartedAt, o.TrialEndsAt, o.UpdatedAt = "", time.Time{}, time.Time{}, now
	if err := tx.UpdateOrganization(ctx, o); err != nil {
		return org.Organization{}, err
	}
	return o, s.audit(ctx, tx, org.AuditEvent{Actor: st.actor.PrincipalID, Action: action, Detail: detail})
}

func (s *Service) convertTrial(ctx context.Context, tx store.Tx, st *state) (org.Organization, error) {
	o, now := st.o, s.now()
	if !InTrial(o, now) {
		return org.Organization{}, fmt.Errorf("%w: organization %q has no trial running", ErrTrial, o.ID)
	}
	e, ok := st.sch.Edition(o.TrialEdition)
	if !ok {
		return org.Organization{}, fmt.Errorf("%w %q in scheme %q", ErrUnknownEdition, o.TrialEdition, st.sch.ID())
	}
	detail := fmt.Sprintf("%s -> %s", o.Edition, o.TrialEdition)
	o.Edition, o.TrialEdition, o.TrialStartedAt, o.TrialEndsAt, o.UpdatedAt = o.TrialEdition, "", time.Time{}, time.Time{}, now
	if !e.Seats().Overridable {
		o.SeatOverride = 0
	}
	if err := tx.UpdateOrganization(ctx, o); err != nil {
		return org.Organization{}, err
	}
	return o, s.audit(ctx, tx, org.AuditEvent{Actor: st.actor.PrincipalID, Action: AuditTrialConvert, Detail: detail})
}

// auditTrialEnd writes the "trial ended" event of o's trial, which ended
// at o.TrialEndsAt, at that time.
func (s *Service) auditTrialEnd(ctx context.Context, tx store.Tx, st *state, o org.Organization, why string) error {
	_, err := tx.AppendAudit(ctx, org.AuditEvent{Time: o.TrialEndsAt, Actor: st.actor.PrincipalID, Action: AuditTrialEnd,
		Detail: fmt.Sprintf("%s -> %s: %s", o.TrialEdition, o.Edition, why)})
	return err
}

// TrialsEnding lists the organizations whose trial ends in [from, to), by
// end then ID, for reminder e-mails: from the store's index when it has
// one (store.TrialLister), else by reading every organization.
func (s *Service) TrialsEnding(ctx context.Context, from, to time.Time) iter.Seq2[org.Organization, error] {
	if tl, ok := s.st.(store.TrialLister); ok {
		return tl.TrialsEnding(ctx, from, to, store.TrialCursor{})
	}
	return func(yield func(org.Organization, error) bool) {
		var found []org.Organization
		for o, err := range s.st.Organizations(ctx, "") {
			if err != nil {
				yield(org.Organization{}, err)
				return
			}
			if o.TrialEdition != "" && !o.TrialEndsAt.Before(from) && o.TrialEndsAt.Before(to) {
				found = append(found, o)
			}
		}
		sortTrials(found)
		for _, o := range found {
			if !yield(o, nil) {
				return
			}
		}
	}
}

// SweepTrials records the end of every trial that has ended (before now)
// and not been swept: in the organization's own Update, it writes the
// AuditTrialEnd event, at the trial's end, and clears the trial. It is
// idempotent, and safe from many replicas at once: the organization's lock
// lets one of them sweep it, and the others find nothing left. It returns
// how many it swept.
func (s *Service) SweepTrials(ctx context.Context) (int, error) {
	var due []string
	// A trial ended at its end, TrialEndsAt: one ending now has ended.
	for o, err := range s.TrialsEnding(ctx, time.Time{}, s.now().Add(time.Microsecond)) {
		if err != nil {
			return 0, err
		}
		due = append(due, o.ID)
	}
	n := 0
	for _, id := range due {
		err := s.st.Update(ctx, id, func(ctx context.Context, tx store.Tx) error {
			st, err := s.loadOrg(ctx, tx, id, false)
			if err != nil {
				return err
			}
			o := st.o
			if o.TrialEdition == "" || InTrial(o, s.now()) {
				return nil // swept meanwhile, or extended
			}
			if err := s.auditTrialEnd(ctx, tx, st, o, "ended"); err != nil {
				return err
			}
			o.TrialEdition, o.TrialStartedAt, o.TrialEndsAt, o.UpdatedAt = "", time.Time{}, time.Time{}, s.now()
			if err := tx.UpdateOrganization(ctx, o); err != nil {
				return err
			}
			n++
			return nil
		})
		if err != nil && !errors.Is(err, ErrUnknownOrganization) {
			return n, err
		}
	}
	return n, nil
}

// Host trial operations: the host's own, without a capability check.

// StartTrial is Service.StartTrial on the host's authority.
func (h Host) StartTrial(ctx context.Context, orgID, ed string, d time.Duration) (org.Organization, error) {
	return h.s.trialOp(ctx, orgID, "", true, func(ctx context.Context, tx store.Tx, st *state) (org.Organization, error) {
		return h.s.startTrial(ctx, tx, st, ed, d)
	})
}

// ExtendTrial is Service.ExtendTrial on the host's authority.
func (h Host) ExtendTrial(ctx context.Context, orgID string, d time.Duration) (org.Organization, error) {
	return h.s.trialOp(ctx, orgID, "", true, func(ctx context.Context, tx store.Tx, st *state) (org.Organization, error) {
		return h.s.extendTrial(ctx, tx, st, d)
	})
}

// EndTrial is Service.EndTrial on the host's authority.
func (h Host) EndTrial(ctx context.Context, orgID string) (org.Organization, error) {
	return h.s.trialOp(ctx, orgID, "", true, func(ctx context.Context, tx store.Tx, st *state) (org.Organization, error) {
		return h.s.endTrial(ctx, tx, st, AuditTrialEnd, "ended early")
	})
}

// ConvertTrial is Service.ConvertTrial on the host's authority.
func (h Host) ConvertTrial(ctx context.Context, orgID string) (org.Organization, error) {
	return h.s.convertTrialBy(ctx, orgID, "", true)
}

// sortTrials orders os by trial end, then ID.
func sortTrials(os []org.Organization) {
	slices.SortFunc(os, func(a, b org.Organization) int {
		if c := a.TrialEndsAt.Compare(b.TrialEndsAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}
