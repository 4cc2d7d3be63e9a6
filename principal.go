package orgauthz

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/orgauthz/orgauthz/invite"
	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/store"
)

// ErrInvitationNotFound: no invitation with that ID is addressed to that
// address. An invitation to another address fails alike, so that an
// address learns nothing of the invitations of others.
var ErrInvitationNotFound = errors.New("no such invitation for this address")

// MembershipPage is one page of a principal's organizations, ordered by
// organization ID; Next is the After of the following page, or "".
type MembershipPage struct {
	Memberships []org.Membership `json:"memberships"`
	Next        string           `json:"next,omitempty"`
}

// Memberships lists the organizations principal principalID belongs to,
// with its standing in each (its role, whether it is an external member,
// when it joined) and the organization's name, scheme, edition and
// archived flag, ordered by organization ID: what an organization switcher
// shows (Organization reads an organization's whole record). The
// host asks it for the principal it has signed in; a principal that
// belongs to no organization gets an empty page (a new user), and a
// malformed principal ID is refused with ErrInvalidID.
//
// The store answers it from an index by principal: a page costs the same
// whatever the number of organizations and members.
func (s *Service) Memberships(ctx context.Context, principalID string, p Page) (MembershipPage, error) {
	if err := org.ValidateID("principal", principalID); err != nil {
		return MembershipPage{}, err
	}
	limit, err := p.limit()
	if err != nil {
		return MembershipPage{}, err
	}
	ms, next, err := page(s.st.Memberships(ctx, principalID, p.After), limit, func(m org.Membership) string { return m.OrgID })
	if err != nil {
		return MembershipPage{}, err
	}
	return MembershipPage{Memberships: ms, Next: next}, nil
}

// InvitationPreview is what an invitee is shown of an invitation: on the
// page its link opens (PreviewInvitation), or in the list of invitations
// to its address (InvitationsFor). It never holds the token or its hash.
//
// JSON: {"id", "org_id", "org_name", "email", "role", "role_name",
// "invited_by", "created_at", "expires_at", "status"}.
type InvitationPreview struct {
	ID string `json:"id"`
	// OrgID and OrgName are the organization's.
	OrgID   string `json:"org_id"`
	OrgName string `json:"org_name"`
	// Email is the address invited, normalized.
	Email string `json:"email"`
	// Role is the role it offers, and RoleName that role's display name.
	Role     string `json:"role"`
	RoleName string `json:"role_name"`
	// InvitedBy is the principal who sent it (or sent it last).
	InvitedBy string    `json:"invited_by"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	// Status is its status at the service's clock: pending, expired,
	// accepted, revoked or declined.
	Status invite.Status `json:"status"`
}

func (s *Service) preview(o org.Organization, inv invite.Invitation) InvitationPreview {
	p := InvitationPreview{
		ID: inv.ID, OrgID: o.ID, OrgName: o.Name, Email: inv.Email, Role: inv.Role, RoleName: inv.Role,
		InvitedBy: inv.InvitedBy, CreatedAt: inv.CreatedAt, ExpiresAt: inv.ExpiresAt, Status: inv.StatusAt(s.now()),
	}
	if sch, ok := s.Scheme(o.Scheme); ok {
		if ri, ok := sch.RoleIndex(inv.Role); ok && sch.Matrix().Role(ri).Name != "" {
			p.RoleName = sch.Matrix().Role(ri).Name
		}
	}
	return p
}

// PreviewInvitation returns what an accept page shows of the invitation a
// token names (organization, role, sender, expiry, status) without
// accepting it or changing anything. Its status may be any: the page can
// say "this invitation has expired". A malformed token, an unknown
// invitation and a wrong secret all fail with ErrInvalidToken alone, in
// the same time (see AcceptInvitation), so a preview reveals nothing a
// token does not.
func (s *Service) PreviewInvitation(ctx context.Context, token string) (InvitationPreview, error) {
	tok, orgID, err := s.open(ctx, token)
	if err != nil {
		return InvitationPreview{}, err
	}
	// The invitation and its organization, read together.
	ai, err := store.FindInvitation(ctx, s.st, tok.ID())
	switch {
	case errors.Is(err, store.ErrNotFound) || err == nil && ai.Organization.ID != orgID:
		return InvitationPreview{}, ErrInvalidToken // deleted since open looked
	case err != nil:
		return InvitationPreview{}, err
	case !tok.Matches(ai.Invitation.TokenHash):
		return InvitationPreview{}, ErrInvalidToken // rotated by a resend since open looked
	}
	return s.preview(ai.Organization, ai.Invitation), nil
}

// InvitationPreviewPage is one page of the invitations to an address,
// ordered by invitation ID; Next is the After of the following page, or "".
type InvitationPreviewPage struct {
	Invitations []InvitationPreview `json:"invitations"`
	Next        string              `json:"next,omitempty"`
}

// InvitationsFor lists the invitations addressed to verifiedEmail across
// organizations that can still be accepted (pending, not expired, in an
// organization that is not archived), ordered by invitation ID: what a
// signed-in principal is shown next to its organizations, to accept or
// decline with AcceptInvitationByID and DeclineInvitationByID. The host
// must have verified that the principal owns the address; the address is
// normalized as invitations are (a malformed one fails with
// ErrInvalidEmail). The store answers it from an index by address.
func (s *Service) InvitationsFor(ctx context.Context, verifiedEmail string, p Page) (InvitationPreviewPage, error) {
	addr, err := invite.NormalizeEmail(verifiedEmail)
	if err != nil {
		return InvitationPreviewPage{}, err
	}
	limit, err := p.limit()
	if err != nil {
		return InvitationPreviewPage{}, err
	}
	now := s.now()
	open := filter(s.st.InvitationsTo(ctx, addr, p.After), func(a store.AddressedInvitation) bool {
		return !a.Organization.Archived && a.Invitation.StatusAt(now) == invite.Pending
	})
	found, next, err := page(open, limit, func(a store.AddressedInvitation) string { return a.Invitation.ID })
	if err != nil {
		return InvitationPreviewPage{}, err
	}
	out := InvitationPreviewPage{Invitations: make([]InvitationPreview, len(found)), Next: next}
	for i, a := range found {
		out.Invitations[i] = s.preview(a.Organization, a.Invitation)
	}
	return out, nil
}

// filter yields the items of seq that keep reports true, and every error.
func filter[T any](seq iter.Seq2[T, error], keep func(T) bool) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for item, err := range seq {
			if err == nil && !keep(item) {
				continue
			}
			if !yield(item, err) {
				return
			}
		}
	}
}

// byAddress finds, for signed-in principal principalID, the pending invitation id
// addressed to verifiedEmail, inside the transaction of its organization.
// An unknown ID and an invitation to another address fail alike, with
// ErrInvitationNotFound.
func (s *Service) byAddress(ctx context.Context, id, principalID, verifiedEmail string, fn func(ctx context.Context, tx store.Tx, inv invite.Invitation, o org.Organization) error) error {
	addr, err := invite.NormalizeEmail(verifiedEmail)
	if err != nil {
		return err
	}
	notFound := fmt.Errorf("%w: invitation %q", ErrInvitationNotFound, id)
	if org.ValidateID("invitation", id) != nil {
		return notFound
	}
	it, err := s.st.InvitationToken(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return notFound
	}
	if err != nil {
		return err
	}
	return store.UpdateWith(ctx, s.st, it.OrgID, s.readsAccept(id, principalID, addr).forStore(ctx), func(ctx context.Context, tx store.Tx) error {
		o, err := tx.Organization(ctx)
		if errors.Is(err, store.ErrNotFound) {
			return notFound
		}
		if err != nil {
			return err
		}
		inv, err := tx.Invitation(ctx, id)
		if errors.Is(err, store.ErrNotFound) || err == nil && inv.Email != addr {
			return notFound
		}
		if err != nil {
			return err
		}
		if o.Archived {
			return fmt.Errorf("%w: organization %q", ErrArchived, o.ID)
		}
		switch inv.StatusAt(s.now()) {
		case invite.Expired:
			return fmt.Errorf("%w on %s", ErrInvitationExpired, inv.ExpiresAt.Format(time.RFC3339))
		case invite.Pending:
		default:
			return settled(inv.Status)
		}
		return fn(ctx, tx, inv, o)
	})
}

// AcceptInvitationByID accepts, for a signed-in principal p whose verified
// address is verifiedEmail, the invitation id addressed to that address,
// without its token: the switcher case, where InvitationsFor listed it.
// The address is the authority here, so it must be the one invited
// (AcceptAnyAddress does not apply); an unknown ID and an invitation to
// another address fail alike with ErrInvitationNotFound. Everything else
// is as in AcceptInvitation, which serves the link.
func (s *Service) AcceptInvitationByID(ctx context.Context, id string, p org.Principal, verifiedEmail string) (org.Member, org.Organization, error) {
	if err := p.Validate(); err != nil {
		return org.Member{}, org.Organization{}, err
	}
	var m org.Member
	var joined org.Organization
	err := s.byAddress(ctx, id, p.ID, verifiedEmail, func(ctx context.Context, tx store.Tx, inv invite.Invitation, o org.Organization) error {
		sch, ok := s.Scheme(o.Scheme)
		if !ok {
			return fmt.Errorf("%w: organization %q uses scheme %q, which this service was not given", ErrUnknownScheme, o.ID, o.Scheme)
		}
		st, err := s.stateOf(o, sch)
		if err != nil {
			return err
		}
		m, err = s.accept(ctx, tx, st, inv, p)
		joined = o
		return err
	})
	if err != nil {
		return org.Member{}, org.Organization{}, err
	}
	return m, joined, nil
}

// DeclineInvitationByID declines, for a signed-in principal p whose
// verified address is verifiedEmail, the invitation id addressed to that
// address, without its token; the invitation records p (DeclinedBy).
// Refusals are as in AcceptInvitationByID.
func (s *Service) DeclineInvitationByID(ctx context.Context, id string, p org.Principal, verifiedEmail string) error {
	if err := p.Validate(); err != nil {
		return err
	}
	return s.byAddress(ctx, id, p.ID, verifiedEmail, func(ctx context.Context, tx store.Tx, inv invite.Invitation, _ org.Organization) error {
		return s.decline(ctx, tx, inv, p.ID)
	})
}
