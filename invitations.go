package orgauthz

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/invite"
	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/policy"
	"github.com/orgauthz/orgauthz/store"
)

// Invitation errors. Accepting or declining a token that is malformed,
// unknown, or whose secret is wrong fails with ErrInvalidToken alone: the
// error never tells whether an invitation with that ID exists.
var (
	ErrInvalidToken       = errors.New("invalid invitation token")
	ErrInvitationExpired  = errors.New("invitation expired")
	ErrInvitationRevoked  = errors.New("invitation revoked")
	ErrInvitationDeclined = errors.New("invitation declined")
	ErrInvitationAccepted = errors.New("invitation already accepted")
	// ErrEmailMismatch: the accepting principal's verified address is not
	// the one invited.
	ErrEmailMismatch = errors.New("address does not match the invitation")
	// ErrInvalidEmail: a malformed address.
	ErrInvalidEmail = invite.ErrInvalidEmail
)

// Limits and defaults of invitations.
const (
	DefaultInvitationTTL = 7 * 24 * time.Hour
	MinInvitationTTL     = time.Hour
	MaxInvitationTTL     = 30 * 24 * time.Hour
	DefaultMaxBulkInvite = 20
)

// The audit actions of invitations. Audit events of invitations name the
// address and role, never a token.
const (
	AuditInvitationCreate  = "invitation.create"
	AuditInvitationResend  = "invitation.resend"
	AuditInvitationRevoke  = "invitation.revoke"
	AuditInvitationDecline = "invitation.decline"
	AuditInvitationAccept  = "invitation.accept"
)

// public returns an invitation as the service shows it: without the hash of
// its secret, and with its status at time now (a pending invitation past
// its expiry reads as Expired).
func public(inv invite.Invitation, now time.Time) invite.Invitation {
	inv.Status = inv.StatusAt(now)
	inv.TokenHash = nil
	return inv
}

// Invite invites an e-mail address into the organization with role r (""
// means the scheme's default invitation role) and returns the invitation
// and its token. The token is shown this once: only a hash of its secret is
// kept, and the host builds the accept link from token.Reveal().
//
// The management rules decide whether the actor may invite as r (SoterAI:
// member only in enterprise, managers never invite owners; UiPath: never
// the owner role), and a pending invitation holds a seat, so an invitation
// needs a free one. A pending invitation to the same address is superseded:
// revoked, its token dead, if the actor could have made it; otherwise the
// new one is refused.
func (s *Service) Invite(ctx context.Context, orgID, actor, email, r string) (invite.Invitation, invite.Token, error) {
	addr, err := invite.NormalizeEmail(email)
	if err != nil {
		return invite.Invitation{}, invite.Token{}, err
	}
	var out invite.Invitation
	var tok invite.Token
	err = s.updateReading(ctx, orgID, actor, readsAddress(addr).and(s.readsCounts), func(ctx context.Context, tx store.Tx, st *state) error {
		out, tok, err = s.invite(ctx, tx, st, addr, r)
		return err
	})
	if err != nil {
		return invite.Invitation{}, invite.Token{}, err
	}
	return out, tok, nil
}

func (s *Service) invite(ctx context.Context, tx store.Tx, st *state, addr, r string) (invite.Invitation, invite.Token, error) {
	if r == "" {
		var err error
		if r, err = policy.InviteRole(st.sch, st.edID); err != nil {
			return invite.Invitation{}, invite.Token{}, err
		}
	}
	if err := policy.CanInvite(st.sch, st.edID, st.actor.Role, r).Err(); err != nil {
		return invite.Invitation{}, invite.Token{}, fmt.Errorf("invite %q to %q: %w", addr, st.o.ID, err)
	}
	if err := joinedWith(ctx, tx, addr, ""); err != nil {
		return invite.Invitation{}, invite.Token{}, fmt.Errorf("invite %q to %q: %w", addr, st.o.ID, err)
	}
	now := s.now()
	seats := 1
	prev, err := tx.PendingInvitation(ctx, addr)
	superseded := err == nil
	switch {
	case superseded:
		// Superseding revokes the old invitation, which takes the authority
		// to revoke it, pending or expired alike.
		if err := policy.CanInvite(st.sch, st.edID, st.actor.Role, prev.Role).Err(); err != nil {
			return invite.Invitation{}, invite.Token{}, fmt.Errorf("replace the %s invitation of %q as %q: %w", prev.StatusAt(now), addr, prev.Role, err)
		}
		if prev.StatusAt(now) == invite.Pending {
			seats = 0 // the new invitation takes over the old one's seat
		}
	case !errors.Is(err, store.ErrNotFound):
		return invite.Invitation{}, invite.Token{}, err
	}
	// Every check is made before anything is written, so that a refusal
	// inside a bulk operation leaves nothing behind.
	if err := s.checkChange(ctx, tx, st, policy.Change{Seats: seats}); err != nil {
		return invite.Invitation{}, invite.Token{}, fmt.Errorf("invite %q to %q: %w", addr, st.o.ID, err)
	}
	tok, err := invite.NewToken(invite.NewID())
	if err != nil {
		return invite.Invitation{}, invite.Token{}, err
	}
	if superseded {
		prev.Status, prev.UpdatedAt = invite.Revoked, now
		if err := tx.UpdateInvitation(ctx, prev); err != nil {
			return invite.Invitation{}, invite.Token{}, err
		}
		if err := s.audit(ctx, tx, org.AuditEvent{Actor: st.actor.PrincipalID, Action: AuditInvitationRevoke, Target: addr, RoleBefore: prev.Role, Detail: "superseded; invitation " + prev.ID}); err != nil {
			return invite.Invitation{}, invite.Token{}, err
		}
	}
	inv := invite.Invitation{
		ID: tok.ID(), Email: addr, Role: r, Status: invite.Pending, TokenHash: tok.Hash(),
		InvitedBy: st.actor.PrincipalID, CreatedAt: now, ExpiresAt: now.Add(s.ttl), UpdatedAt: now, Sends: 1,
	}
	if st.bulk != nil {
		st.bulk.add(inv)
	} else if err := tx.CreateInvitation(ctx, inv); err != nil {
		return invite.Invitation{}, invite.Token{}, err
	}
	ev := org.AuditEvent{Actor: st.actor.PrincipalID, Action: AuditInvitationCreate, Target: addr, RoleAfter: r, Detail: "invitation " + inv.ID + ", expires " + inv.ExpiresAt.Format(time.RFC3339)}
	if err := s.audit(ctx, tx, ev); err != nil {
		return invite.Invitation{}, invite.Token{}, err
	}
	return public(inv, now), tok, nil
}

// InviteResult is the outcome of inviting one address of a BulkInvite: the
// invitation and its token, or the error that refused it.
type InviteResult struct {
	Email      string
	Invitation invite.Invitation
	Token      invite.Token
	Err        error
}

// ResendInvitation sends a pending (or expired) invitation again: it
// rotates the token, so the old one stops working, and moves the expiry to
// a full period from now. The actor must be allowed to invite as its role;
// an expired invitation needs a free seat again. The actor becomes the
// invitation's sender (InvitedBy): from now on the invitation holds on the
// actor's authority.
func (s *Service) ResendInvitation(ctx context.Context, orgID, actor, id string) (invite.Invitation, invite.Token, error) {
	var out invite.Invitation
	var tok invite.Token
	err := s.updateReading(ctx, orgID, actor, readsInvitation(id).and(s.readsCounts), func(ctx context.Context, tx store.Tx, st *state) error {
		inv, err := invitation(ctx, tx, id)
		if err != nil {
			return err
		}
		now := s.now()
		status := inv.StatusAt(now)
		if err := settled(status); err != nil {
			return fmt.Errorf("resend invitation %q: %w", id, err)
		}
		if err := policy.CanInvite(st.sch, st.edID, st.actor.Role, inv.Role).Err(); err != nil {
			return fmt.Errorf("resend invitation %q: %w", id, err)
		}
		if status == invite.Expired {
			if err := s.checkChange(ctx, tx, st, policy.Change{Seats: 1}); err != nil {
				return fmt.Errorf("resend invitation %q: %w", id, err)
			}
		}
		if tok, err = invite.NewToken(inv.ID); err != nil {
			return err
		}
		inv.TokenHash, inv.ExpiresAt, inv.UpdatedAt = tok.Hash(), now.Add(s.ttl), now
		inv.InvitedBy = actor
		inv.Sends++
		if err := tx.UpdateInvitation(ctx, inv); err != nil {
			return err
		}
		out = public(inv, now)
		return s.audit(ctx, tx, org.AuditEvent{Actor: actor, Action: AuditInvitationResend, Target: inv.Email, RoleAfter: inv.Role, Detail: "invitation " + inv.ID + ", expires " + inv.ExpiresAt.Format(time.RFC3339)})
	})
	if err != nil {
		return invite.Invitation{}, invite.Token{}, err
	}
	return out, tok, nil
}

// RevokeInvitation revokes a pending (or expired) invitation; its token
// stops working and its seat is freed. The actor must be allowed to invite
// as its role.
func (s *Service) RevokeInvitation(ctx context.Context, orgID, actor, id string) error {
	return s.updateReading(ctx, orgID, actor, readsInvitation(id), func(ctx context.Context, tx store.Tx, st *state) error {
		inv, err := invitation(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := settled(inv.StatusAt(s.now())); err != nil {
			return fmt.Errorf("revoke invitation %q: %w", id, err)
		}
		if err := policy.CanInvite(st.sch, st.edID, st.actor.Role, inv.Role).Err(); err != nil {
			return fmt.Errorf("revoke invitation %q: %w", id, err)
		}
		return s.revokeInvitation(ctx, tx, st, inv)
	})
}

// revokeInvitation revokes inv by st's actor (the host when it has none).
func (s *Service) revokeInvitation(ctx context.Context, tx store.Tx, st *state, inv invite.Invitation) error {
	if err := settled(inv.StatusAt(s.now())); err != nil {
		return fmt.Errorf("revoke invitation %q: %w", inv.ID, err)
	}
	inv.Status, inv.UpdatedAt = invite.Revoked, s.now()
	if err := tx.UpdateInvitation(ctx, inv); err != nil {
		return err
	}
	return s.audit(ctx, tx, org.AuditEvent{Actor: st.actor.PrincipalID, Action: AuditInvitationRevoke, Target: inv.Email, RoleBefore: inv.Role, Detail: "invitation " + inv.ID})
}

// joinedWith refuses address addr when a member other than principalID
// joined with it: an invitation to it would hold a seat for someone who is
// a member already.
func joinedWith(ctx context.Context, r store.Reader, addr, principalID string) error {
	m, err := r.MemberByEmail(ctx, addr)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil
	case err != nil:
		return err
	case m.PrincipalID == principalID:
		return nil
	}
	return fmt.Errorf("%w: member %q joined with this address", ErrAlreadyMember, m.PrincipalID)
}

// invitation reads an invitation of the organization.
func invitation(ctx context.Context, r store.Reader, id string) (invite.Invitation, error) {
	inv, err := r.Invitation(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return invite.Invitation{}, fmt.Errorf("invitation %q: %w", id, ErrNotFound)
	}
	return inv, err
}

// settled returns nil for an invitation that can still change (pending or
// expired), and the error naming its final state otherwise.
func settled(st invite.Status) error {
	switch st {
	case invite.Accepted:
		return ErrInvitationAccepted
	case invite.Revoked:
		return ErrInvitationRevoked
	case invite.Declined:
		return ErrInvitationDeclined
	}
	return nil
}

// open finds the invitation a token names and checks its secret against
// the hash last committed, in constant time, before anything takes the
// organization's lock: a forged token never waits for a running change of
// the organization. Every failure is ErrInvalidToken itself, and an
// unknown invitation costs what a wrong secret does (its secret is
// compared with a dummy hash, and the store answers it without an
// allocation, as it answers a known one), so a caller can tell them apart
// neither by the answer nor by its time. It returns the token and the
// organization that holds its invitation.
func (s *Service) open(ctx context.Context, token string) (invite.Token, string, error) {
	tok, err := invite.ParseToken(token)
	if err != nil {
		return invite.Token{}, "", ErrInvalidToken
	}
	it, err := s.st.InvitationToken(ctx, tok.ID())
	var dummy [len(it.Hash)]byte
	stored := &it.Hash
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			return invite.Token{}, "", err
		}
		stored = &dummy
	}
	if !tok.Matches(stored[:]) || !it.HashOK || err != nil {
		return invite.Token{}, "", ErrInvalidToken
	}
	return tok, it.OrgID, nil
}

// pending loads, inside a transaction, the invitation a token names, and
// checks that it can be answered: its secret, then its state. The secret
// is checked again, against the hash as the transaction sees it: a resend
// may have rotated the token since open compared it.
func (s *Service) pending(ctx context.Context, tx store.Tx, orgID string, tok invite.Token) (invite.Invitation, *edition.Scheme, org.Organization, error) {
	o, err := tx.Organization(ctx)
	if err != nil {
		return invite.Invitation{}, nil, o, s.orgErr(orgID, err)
	}
	inv, err := tx.Invitation(ctx, tok.ID())
	if errors.Is(err, store.ErrNotFound) || err == nil && !tok.Matches(inv.TokenHash) {
		return invite.Invitation{}, nil, o, ErrInvalidToken
	}
	if err != nil {
		return invite.Invitation{}, nil, o, err
	}
	if o.Archived {
		return invite.Invitation{}, nil, o, fmt.Errorf("%w: organization %q", ErrArchived, orgID)
	}
	switch inv.StatusAt(s.now()) {
	case invite.Expired:
		return invite.Invitation{}, nil, o, fmt.Errorf("%w on %s", ErrInvitationExpired, inv.ExpiresAt.Format(time.RFC3339))
	case invite.Pending:
	default:
		return invite.Invitation{}, nil, o, settled(inv.Status)
	}
	sch, ok := s.Scheme(o.Scheme)
	if !ok {
		return invite.Invitation{}, nil, o, fmt.Errorf("%w: organization %q uses scheme %q, which this service was not given", ErrUnknownScheme, orgID, o.Scheme)
	}
	return inv, sch, o, nil
}

// AcceptInvitation makes principal p, whose verified e-mail address is
// verifiedEmail, a member with the invitation's role, and returns its
// membership and the organization it joined. The token must be valid, its
// invitation pending and not expired, and (unless the service was built
// with AcceptAnyAddress) the address must be the one invited. The member
// keeps the invited address (Member.Email).
//
// Accepting rechecks, inside its own transaction, everything an addition
// needs: the sender's authority to send it still (ErrInvitationRevoked
// otherwise), a seat among the members (the invitation's own reservation;
// the reservations of other pending invitations do not block it), the
// role's limits and edition. An invitation to a principal who is a member
// already, or to an address another member joined with, is refused with
// ErrAlreadyMember and stays pending. Every refusal has its own error and
// changes nothing.
func (s *Service) AcceptInvitation(ctx context.Context, token string, p org.Principal, verifiedEmail string) (org.Member, org.Organization, error) {
	if err := p.Validate(); err != nil {
		return org.Member{}, org.Organization{}, err
	}
	tok, orgID, err := s.open(ctx, token)
	if err != nil {
		return org.Member{}, org.Organization{}, err
	}
	var m org.Member
	var o org.Organization
	err = store.UpdateWith(ctx, s.st, orgID, s.readsAccept(tok.ID(), p.ID, verifiedEmail).forStore(ctx), func(ctx context.Context, tx store.Tx) error {
		inv, sch, joined, err := s.pending(ctx, tx, orgID, tok)
		if err != nil {
			return err
		}
		if !s.acceptAny {
			addr, err := invite.NormalizeEmail(verifiedEmail)
			if err != nil || addr != inv.Email {
				return fmt.Errorf("%w: the invitation is for another address", ErrEmailMismatch)
			}
		}
		o = joined
		st, err := s.stateOf(joined, sch)
		if err != nil {
			return err
		}
		m, err = s.accept(ctx, tx, st, inv, p)
		return err
	})
	if err != nil {
		return org.Member{}, org.Organization{}, err
	}
	return m, o, nil
}

// accept makes p a member by invitation inv, which is pending.
func (s *Service) accept(ctx context.Context, tx store.Tx, st *state, inv invite.Invitation, p org.Principal) (org.Member, error) {
	// The invitation holds on its sender's authority: revoked at every
	// change that ends it, and checked again here.
	inviter, err := inviterOf(ctx, tx, inv)
	if err != nil {
		return org.Member{}, err
	}
	// The invitee is told why without learning who the members are.
	if err := mayStillSend(st.sch, st.edID, inv, inviter); err != nil {
		return org.Member{}, fmt.Errorf("%w: its sender may no longer send it", ErrInvitationRevoked)
	}
	if err := joinedWith(ctx, tx, inv.Email, p.ID); err != nil {
		if !errors.Is(err, ErrAlreadyMember) {
			return org.Member{}, err
		}
		return org.Member{}, fmt.Errorf("accept invitation %q: %w: a member joined with this address", inv.ID, ErrAlreadyMember)
	}
	e, ok := st.sch.Edition(st.edID)
	if !ok {
		return org.Member{}, fmt.Errorf("%w: organization %q has edition %q, which scheme %q does not define", ErrUnknownEdition, st.o.ID, st.edID, st.sch.ID())
	}
	st.ed = e
	m, err := s.addMember(ctx, tx, st, p, inv.Role, inv.Email, org.AuditEvent{Actor: p.ID, Detail: "invitation " + inv.ID}, membersOnly)
	if err != nil {
		return org.Member{}, err
	}
	inv.Status, inv.AcceptedBy, inv.UpdatedAt = invite.Accepted, p.ID, s.now()
	if err := tx.UpdateInvitation(ctx, inv); err != nil {
		return org.Member{}, err
	}
	if err := s.audit(ctx, tx, org.AuditEvent{Actor: p.ID, Action: AuditInvitationAccept, Target: inv.Email, RoleAfter: inv.Role, Detail: "invitation " + inv.ID}); err != nil {
		return org.Member{}, err
	}
	return m, nil
}

// DeclineInvitation declines the invitation a token names; the token stops
// working and the seat is freed. Tokens fail as in AcceptInvitation. When
// the caller is signed in, by names it: the invitation records it
// (DeclinedBy) and the audit event has it as actor; the zero Principal
// declines through the link alone.
func (s *Service) DeclineInvitation(ctx context.Context, token string, by org.Principal) error {
	if by != (org.Principal{}) {
		if err := by.Validate(); err != nil {
			return err
		}
	}
	tok, orgID, err := s.open(ctx, token)
	if err != nil {
		return err
	}
	return store.UpdateWith(ctx, s.st, orgID, readsInvitation(tok.ID()).forStore(ctx), func(ctx context.Context, tx store.Tx) error {
		inv, _, _, err := s.pending(ctx, tx, orgID, tok)
		if err != nil {
			return err
		}
		return s.decline(ctx, tx, inv, by.ID)
	})
}

func (s *Service) decline(ctx context.Context, tx store.Tx, inv invite.Invitation, by string) error {
	inv.Status, inv.DeclinedBy, inv.UpdatedAt = invite.Declined, by, s.now()
	if err := tx.UpdateInvitation(ctx, inv); err != nil {
		return err
	}
	return s.audit(ctx, tx, org.AuditEvent{Actor: by, Action: AuditInvitationDecline, Target: inv.Email, RoleBefore: inv.Role, Detail: "invitation " + inv.ID})
}

// InvitationPage is one page of invitations, ordered by ID; Next is the
// After of the following page, or "".
type InvitationPage struct {
	Invitations []invite.Invitation `json:"invitations"`
	Next        string              `json:"next,omitempty"`
}

// Invitations lists the organization's invitations (only those still
// pending, expired ones included, when pendingOnly), ordered by ID, to an
// actor who holds the scheme's invite capability. Each shows its status at
// the service's clock; none shows its token or hash.
func (s *Service) Invitations(ctx context.Context, orgID, actor string, p Page, pendingOnly bool) (InvitationPage, error) {
	return s.invitations(ctx, orgID, p, pendingOnly, s.asMember(actor), func(st *state) error {
		ci, ok := st.sch.ActionCapability(edition.ActionInvite)
		if !ok {
			return fmt.Errorf("%w: %w: scheme %q offers no invitations", ErrPermissionDenied, ErrNotOffered, st.sch.ID())
		}
		if err := st.decide(st.sch.Catalog().Def(ci).ID); err != nil {
			return fmt.Errorf("list the invitations of %q: %w", orgID, err)
		}
		return nil
	})
}

// invitations lists the invitations through view, once permit (nil for
// the host) allows it.
func (s *Service) invitations(ctx context.Context, orgID string, p Page, pendingOnly bool, view viewFunc, permit func(*state) error) (InvitationPage, error) {
	limit, err := p.limit()
	if err != nil {
		return InvitationPage{}, err
	}
	var out InvitationPage
	rs := func(ctx context.Context, r store.Reader) { first(r.Invitations(ctx, p.After, pendingOnly)) }
	err = view(ctx, orgID, rs, func(ctx context.Context, r store.Reader, st *state) error {
		if permit != nil {
			if err := permit(st); err != nil {
				return err
			}
		}
		invs, next, err := page(r.Invitations(ctx, p.After, pendingOnly), limit, func(inv invite.Invitation) string { return inv.ID })
		if err != nil {
			return err
		}
		now := s.now()
		for i := range invs {
			invs[i] = public(invs[i], now)
		}
		out = InvitationPage{Invitations: invs, Next: next}
		return nil
	})
	return out, err
}
