package orgauthz

import (
	"context"
	"errors"
	"fmt"

	"github.com/orgauthz/orgauthz/invite"
	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/policy"
	"github.com/orgauthz/orgauthz/store"
)

// This file holds the bulk operations: many members or invitations in one
// transaction, the head counts read once and kept as the changes go (a
// tally), the invitations created together at the end.

// tally is the head counts of a bulk operation, as its changes so far left
// them.
type tally struct {
	rule seatRule
	c    policy.Counts
}

// newTally reads the counts once, by rule.
func (s *Service) newTally(ctx context.Context, r store.Reader, rule seatRule) (*tally, error) {
	c, err := s.counts(ctx, r, rule)
	if err != nil {
		return nil, err
	}
	if c.Holders == nil {
		c.Holders = map[string]int{}
	}
	return &tally{rule: rule, c: c}, nil
}

// apply counts change ch.
func (t *tally) apply(ch policy.Change) {
	t.c.Seats += ch.Seats
	if ch.Lose != "" {
		t.c.Holders[ch.Lose]--
	}
	if ch.Gain != "" {
		t.c.Holders[ch.Gain]++
	}
}

// bulkInvites collects the invitations a bulk operation creates, to
// create them together (store.CreateInvitations).
type bulkInvites struct {
	invs  []invite.Invitation
	addrs map[string]bool
}

// add collects inv.
func (b *bulkInvites) add(inv invite.Invitation) {
	if b.addrs == nil {
		b.addrs = map[string]bool{}
	}
	b.invs = append(b.invs, inv)
	b.addrs[inv.Email] = true
}

// flush creates the invitations collected so far.
func (b *bulkInvites) flush(ctx context.Context, tx store.Tx) error {
	if len(b.invs) == 0 {
		return nil
	}
	err := store.CreateInvitations(ctx, tx, b.invs)
	b.invs, b.addrs = b.invs[:0], nil
	return err
}

// refusal reports whether err refuses one entry of a bulk operation (the
// others go on), rather than failing it whole.
func refusal(err error) bool {
	for _, target := range [...]error{ErrPermissionDenied, ErrInvariant, ErrAlreadyMember, ErrInvalidEmail,
		ErrUnknownRole, ErrInvalidArgument, ErrNotOffered, ErrEditionGated} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// BulkInvite invites each address with role r, as Invite does, and returns
// a result per address in order: some may be refused (a malformed
// address, no free seat left, an address a member joined with) while the
// others are invited, as if each had been invited in turn. It runs in one
// transaction, which reads the head counts once and checks each address
// on the totals of those before it, and creates the invitations together:
// a thousand addresses cost about what one does in round trips to a
// database. What refuses the actor itself (not a member, an archived
// organization) refuses every address, with that error; a store failure
// fails the call, and invites no one. More addresses than the service's bulk limit
// (Options.MaxBulkInvite, 20 by default) are refused whole with
// ErrInvalidArgument.
func (s *Service) BulkInvite(ctx context.Context, orgID, actor string, emails []string, r string) ([]InviteResult, error) {
	if len(emails) > s.maxBulk {
		return nil, fmt.Errorf("%w: %d addresses, at most %d at once", ErrInvalidArgument, len(emails), s.maxBulk)
	}
	out := make([]InviteResult, len(emails))
	addrs := make([]string, len(emails))
	for i, e := range emails {
		out[i].Email = e
		addrs[i], out[i].Err = invite.NormalizeEmail(e)
	}
	rs := reads(s.readsCounts).and(func(ctx context.Context, r store.Reader) {
		for i, a := range addrs {
			if out[i].Err == nil {
				readsAddress(a)(ctx, r)
			}
		}
	})
	err := s.updateReading(ctx, orgID, actor, rs, func(ctx context.Context, tx store.Tx, st *state) error {
		var err error
		if st.tally, err = s.newTally(ctx, tx, reserved); err != nil {
			return err
		}
		st.bulk = &bulkInvites{}
		for i := range out {
			if out[i].Err != nil {
				continue
			}
			if st.bulk.addrs[addrs[i]] {
				// Listed twice: the first is created, so that the second
				// supersedes it as Invite would.
				if err := st.bulk.flush(ctx, tx); err != nil {
					return err
				}
			}
			inv, tok, err := s.invite(ctx, tx, st, addrs[i], r)
			switch {
			case err == nil:
				out[i].Invitation, out[i].Token = inv, tok
			case refusal(err):
				out[i].Err = err
			default:
				return err
			}
		}
		return st.bulk.flush(ctx, tx)
	})
	switch {
	case err == nil:
	case refusal(err) || errors.Is(err, ErrNotMember) || errors.Is(err, ErrArchived) || errors.Is(err, ErrUnknownOrganization) ||
		errors.Is(err, ErrUnknownScheme) || errors.Is(err, ErrUnknownEdition) || errors.Is(err, ErrInvalidID):
		// What refuses the actor refuses every address.
		for i := range out {
			if out[i].Err == nil {
				out[i] = InviteResult{Email: out[i].Email, Err: err}
			}
		}
	default:
		return nil, err
	}
	return out, nil
}

// Provisioning is one member of a Host.ProvisionAll: a principal and the
// role it joins with.
type Provisioning struct {
	Principal org.Principal
	Role      string
}

// ProvisionAll adds every principal of ps as a member with its role, on
// the host's authority, as Provision does, in one transaction: all of them
// or, if any is refused, none (the error names the first refused, by its
// index in ps). The head counts are read once and the invariants checked
// on the totals (ten thousand members need ten thousand free seats), and
// the member records and their audit events are written together: an
// import of ten thousand members costs a few round trips to a database.
// A principal listed twice is refused with ErrInvalidArgument.
func (h Host) ProvisionAll(ctx context.Context, orgID string, ps []Provisioning) ([]org.Member, error) {
	seen := make(map[string]bool, len(ps))
	for i, p := range ps {
		if err := p.Principal.Validate(); err != nil {
			return nil, fmt.Errorf("provisioning %d: %w", i, err)
		}
		if seen[p.Principal.ID] {
			return nil, fmt.Errorf("%w: provisioning %d: principal %q is listed twice", ErrInvalidArgument, i, p.Principal.ID)
		}
		seen[p.Principal.ID] = true
	}
	out := make([]org.Member, len(ps))
	rs := reads(h.s.readsCounts).and(func(ctx context.Context, r store.Reader) {
		for _, p := range ps {
			_, _ = r.Member(ctx, p.Principal.ID)
		}
	})
	err := h.s.hostUpdateReading(ctx, orgID, rs, func(ctx context.Context, tx store.Tx, st *state) error {
		var err error
		if st.tally, err = h.s.newTally(ctx, tx, reserved); err != nil {
			return err
		}
		for i, p := range ps {
			if err := hostAssignable(st, p.Role); err != nil {
				return fmt.Errorf("provisioning %d: provision %q in %q: %w", i, p.Principal.ID, orgID, err)
			}
			if out[i], err = h.s.addMember(ctx, tx, st, p.Principal, p.Role, "", org.AuditEvent{Detail: "provisioned"}, reserved); err != nil {
				return fmt.Errorf("provisioning %d: %w", i, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
