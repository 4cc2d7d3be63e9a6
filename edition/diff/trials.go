package diff

import (
	"time"

	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/policy"
)

// durationText renders a trial's MaxDuration: whole days as "30 days",
// else as time.Duration does.
func durationText(d time.Duration) string {
	const day = 24 * time.Hour
	switch {
	case d == day:
		return "1 day"
	case d > 0 && d%day == 0:
		return itoa(int(d/day)) + " days"
	}
	return d.String()
}

// startsFrom returns the editions of s (of those in both schemes, or, with
// all, every edition of s) that trial t may start from.
func (p *pair) startsFrom(s *edition.Scheme, all bool, t edition.TrialSpec) []string {
	return p.offeredIn(s, all, func(e *edition.Edition) bool { return t.StartsFrom(e.ID()) })
}

// trialChanges lists the trials added, removed or changed, by the edition
// trialled: its maximum duration (lowered restricts, raised relaxes) and
// the base editions it may start from (those of both schemes; one gained
// relaxes, one lost restricts). An added trial lists every base edition
// of the new scheme.
func (p *pair) trialChanges() []Change {
	var out []Change
	o, n := p.o, p.n
	for _, t := range o.Trials() {
		if _, ok := n.Trial(t.Edition); !ok {
			out = append(out, Change{Op: Removed, ID: t.Edition})
		}
	}
	for _, t := range n.Trials() {
		var fs fields
		ot, ok := o.Trial(t.Edition)
		if !ok {
			fs.value("max duration", "", durationText(t.MaxDuration), Neutral)
			fs.set("from", nil, p.startsFrom(n, true, t), Neutral)
			out = append(out, Change{Op: Added, ID: t.Edition, Fields: fs})
			continue
		}
		fs.value("max duration", durationText(ot.MaxDuration), durationText(t.MaxDuration),
			effectOf(boolInt(t.MaxDuration > ot.MaxDuration), boolInt(t.MaxDuration < ot.MaxDuration)))
		fs.set("from", p.startsFrom(o, false, ot), p.startsFrom(n, false, t))
		if len(fs) > 0 {
			out = append(out, Change{Op: Changed, ID: t.Edition, Fields: fs})
		}
	}
	return out
}

// reachesByTrial reports whether a member holding role r, in an
// organization of base edition ed, may start a trial of edition to under
// s.
func reachesByTrial(s *edition.Scheme, ed, r, to string) bool {
	t, ok := s.Trial(to)
	if !ok || !t.StartsFrom(ed) {
		return false
	}
	c := s.OrgCapabilities().Trial
	return c != "" && policy.Decide(s, ed, r, c).Allowed
}

// mayChangeEdition reports whether a member holding role r may change the
// edition of an organization of edition ed under s.
func mayChangeEdition(s *edition.Scheme, ed, r string) bool {
	c := s.OrgCapabilities().Edition
	return c != "" && policy.Decide(s, ed, r, c).Allowed
}

// trialEscalations lists the trials that let a member reach an edition it
// could not reach before: a role that may now start, from base edition
// ed, a trial of edition to (both editions in both schemes), which it
// could not start under the old scheme, and which may change the edition
// under neither scheme. A trial is an escalation only then: whoever may
// change the edition outright may already move the organization there
// for good, which a trial, bounded in time, does not exceed (and a role
// newly allowed to change the edition is an operation escalation of its
// own). A longer maximum duration relaxes but reaches no new edition.
func (p *pair) trialEscalations() []Escalation {
	var out []Escalation
	if len(p.n.Trials()) == 0 {
		return nil
	}
	for _, ed := range p.eds {
		for _, r := range p.roles {
			if mayChangeEdition(p.o, ed, r) || mayChangeEdition(p.n, ed, r) {
				continue
			}
			for _, to := range p.eds {
				if reachesByTrial(p.n, ed, r, to) && !reachesByTrial(p.o, ed, r, to) {
					out = append(out, Escalation{Kind: EscalationTrial, Edition: ed, Role: r, Trial: to})
				}
			}
		}
	}
	return out
}
