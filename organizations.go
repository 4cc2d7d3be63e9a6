package orgauthz

import (
	"time"

	"context"
	"errors"
	"fmt"
	"maps"

	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/policy"
	"github.com/orgauthz/orgauthz/store"
)

// NewOrganization describes an organization to create.
type NewOrganization struct {
	// ID is the organization's ID; "" means a fresh one.
	ID string
	// Name is required: 1 to org.MaxNameLen characters.
	Name string
	// Scheme is the ID of one of the service's schemes; "" is allowed when
	// the service has exactly one.
	Scheme string
	// Edition is the edition's ID; "" means the scheme's default edition.
	Edition string
	// Settings are the host's free-form settings.
	Settings map[string]string
}

// CreateOrganization creates an organization whose first member, creator,
// gets the scheme's creator role (Wherobots: admin; the others: owner).
// Creating an organization is open to anyone. It fails with ErrExists if
// the ID is taken, and with a validation error for a bad name, ID,
// settings, scheme or edition, creating nothing.
func (s *Service) CreateOrganization(ctx context.Context, creator org.Principal, n NewOrganization) (org.Organization, error) {
	if err := creator.Validate(); err != nil {
		return org.Organization{}, err
	}
	if err := org.ValidateName("organization", n.Name); err != nil {
		return org.Organization{}, err
	}
	if err := org.ValidateSettings(n.Settings); err != nil {
		return org.Organization{}, err
	}
	if n.ID == "" {
		n.ID = s.newID()
	}
	if err := org.ValidateID("organization", n.ID); err != nil {
		return org.Organization{}, err
	}
	if n.Scheme == "" && len(s.schemes) == 1 {
		n.Scheme = s.schemes[0].ID()
	}
	sch, ok := s.Scheme(n.Scheme)
	if !ok {
		return org.Organization{}, fmt.Errorf("%w %q: this service has %s", ErrUnknownScheme, n.Scheme, s.schemeList())
	}
	e := sch.DefaultEdition()
	if n.Edition != "" {
		if e, ok = sch.Edition(n.Edition); !ok {
			return org.Organization{}, fmt.Errorf("%w %q in scheme %q", ErrUnknownEdition, n.Edition, sch.ID())
		}
	}
	now := s.now()
	o := org.Organization{
		ID: n.ID, Name: n.Name, Scheme: sch.ID(), Edition: e.ID(),
		Settings: maps.Clone(n.Settings), CreatedAt: now, UpdatedAt: now,
	}
	err := s.st.Update(ctx, o.ID, func(ctx context.Context, tx store.Tx) error {
		if err := tx.CreateOrganization(ctx, o); err != nil {
			if errors.Is(err, store.ErrExists) {
				return fmt.Errorf("organization %q: %w", o.ID, ErrExists)
			}
			return err
		}
		m := org.Member{PrincipalID: creator.ID, Kind: creator.Kind, Role: sch.CreatorRole(), JoinedAt: now}
		if err := tx.AddMember(ctx, m); err != nil {
			return err
		}
		return s.audit(ctx, tx, org.AuditEvent{Actor: creator.ID, Action: AuditOrganizationCreate, Target: creator.ID, RoleAfter: m.Role, Detail: "edition " + o.Edition})
	})
	if err != nil {
		return org.Organization{}, err
	}
	return o.Clone(), nil
}

func (s *Service) schemeList() string {
	ids := make([]string, len(s.schemes))
	for i, sch := range s.schemes {
		ids[i] = fmt.Sprintf("%q", sch.ID())
	}
	return fmt.Sprint(ids)
}

// Organization returns the organization, to any of its members (external
// ones included).
func (s *Service) Organization(ctx context.Context, orgID, actor string) (org.Organization, error) {
	var o org.Organization
	err := s.view(ctx, orgID, actor, func(ctx context.Context, r store.Reader, st *state) error {
		o = st.o
		return nil
	})
	return o, err
}

// OrganizationUpdate changes an organization's name or settings; nil fields
// are left as they are.
type OrganizationUpdate struct {
	Name *string
	// Settings, if not nil, replace the settings whole.
	Settings map[string]string
}

// UpdateOrganization renames the organization or replaces its settings. The
// actor needs the scheme's settings capability.
func (s *Service) UpdateOrganization(ctx context.Context, orgID, actor string, u OrganizationUpdate) (org.Organization, error) {
	if u.Name != nil {
		if err := org.ValidateName("organization", *u.Name); err != nil {
			return org.Organization{}, err
		}
	}
	if err := org.ValidateSettings(u.Settings); err != nil {
		return org.Organization{}, err
	}
	var out org.Organization
	err := s.update(ctx, orgID, actor, func(ctx context.Context, tx store.Tx, st *state) error {
		if err := st.decide(st.sch.OrgCapabilities().Settings); err != nil {
			return fmt.Errorf("update organization %q: %w", orgID, err)
		}
		o := st.o
		detail := ""
		if u.Name != nil && *u.Name != o.Name {
			detail = fmt.Sprintf("name %q -> %q", o.Name, *u.Name)
			o.Name = *u.Name
		}
		if u.Settings != nil {
			o.Settings = maps.Clone(u.Settings)
			if detail != "" {
				detail += "; "
			}
			detail += "settings replaced"
		}
		if detail == "" {
			out = o
			return nil // nothing changes
		}
		o.UpdatedAt = s.now()
		if err := tx.UpdateOrganization(ctx, o); err != nil {
			return err
		}
		out = o
		return s.audit(ctx, tx, org.AuditEvent{Actor: actor, Action: AuditOrganizationUpdate, Detail: detail})
	})
	return out, err
}

// ChangeEdition moves the organization to another edition of its scheme.
// The actor needs the scheme's edition capability. A downgrade is refused
// when the seats in use exceed the new edition's limit or members hold a
// role the new edition does not offer; the error says how many.
func (s *Service) ChangeEdition(ctx context.Context, orgID, actor, ed string) error {
	return s.updateReading(ctx, orgID, actor, s.readsEditionChange, func(ctx context.Context, tx store.Tx, st *state) error {
		if err := st.decide(st.sch.OrgCapabilities().Edition); err != nil {
			return fmt.Errorf("change edition of %q: %w", orgID, err)
		}
		return s.changeEdition(ctx, tx, st, ed)
	})
}

// changeEdition moves st's organization to edition ed within the
// invariants, by st's actor (the host when it has none).
func (s *Service) changeEdition(ctx context.Context, tx store.Tx, st *state, ed string) error {
	orgID, actor := st.o.ID, st.actor.PrincipalID
	if ed == st.o.Edition && st.o.TrialEdition == "" {
		return nil
	}
	c, err := s.counts(ctx, tx, reserved)
	if err != nil {
		return err
	}
	if err := policy.CheckEdition(st.sch, ed, st.o.SeatOverride, c); err != nil {
		return fmt.Errorf("change edition of %q to %q: %w", orgID, ed, err)
	}
	e, _ := st.sch.Edition(ed)
	if err := s.keepServicePrincipals(ctx, tx, st.sch, e); err != nil {
		return fmt.Errorf("change edition of %q to %q: %w", orgID, ed, err)
	}
	o := st.o
	if o.TrialEdition != "" {
		// A change of edition replaces a trial; to the trial's edition
		// while it runs, it converts it.
		action, why := AuditTrialEnd, "replaced by a change of edition"
		if ed == o.TrialEdition && InTrial(o, s.now()) {
			action, why = AuditTrialConvert, "converted by a change of edition"
		}
		if err := s.audit(ctx, tx, org.AuditEvent{Actor: actor, Action: action, Detail: fmt.Sprintf("%s -> %s: %s", o.TrialEdition, ed, why)}); err != nil {
			return err
		}
		o.TrialEdition, o.TrialStartedAt, o.TrialEndsAt = "", time.Time{}, time.Time{}
	}
	detail := fmt.Sprintf("%s -> %s", o.Edition, ed)
	o.Edition, o.UpdatedAt = ed, s.now()
	if !e.Seats().Overridable {
		o.SeatOverride = 0 // an override means nothing in a fixed edition
	}
	if err := tx.UpdateOrganization(ctx, o); err != nil {
		return err
	}
	if err := s.audit(ctx, tx, org.AuditEvent{Actor: actor, Action: AuditOrganizationEdition, Detail: detail}); err != nil {
		return err
	}
	changed := &state{o: o, sch: st.sch, edID: ed, ed: e, actor: st.actor}
	if err := s.reestablishAll(ctx, tx, changed, actor, "edition "+detail); err != nil {
		return fmt.Errorf("change edition of %q to %q: %w", orgID, ed, err)
	}
	return nil
}

// keepServicePrincipals refuses a move to edition e while the organization
// has service principals and e does not offer the scheme's service
// principal capability: their keys would authenticate with capabilities of
// an edition the organization no longer has. The error says how many.
func (s *Service) keepServicePrincipals(ctx context.Context, r store.Reader, sch *edition.Scheme, e *edition.Edition) error {
	c := sch.KeyCapabilities().ServicePrincipals
	if c == "" || offersServicePrincipals(sch, e) {
		return nil // none can exist, or they may stay
	}
	n := 0
	for _, err := range r.ServicePrincipals(ctx, "") {
		if err != nil {
			return err
		}
		n++
	}
	if n > 0 {
		return fmt.Errorf("%w: %w: edition %q offers no service principals (%q), and %d exist; delete them first", ErrInvariant, ErrEditionGated, e.ID(), c, n)
	}
	return nil
}

// SetSeatOverride gives the organization its own seat limit n, where its
// edition allows one (0 returns to the edition's limit). The actor needs
// the scheme's edition capability. A limit below the seats in use is
// refused with ErrSeatLimit.
func (s *Service) SetSeatOverride(ctx context.Context, orgID, actor string, n int) error {
	return s.updateReading(ctx, orgID, actor, s.readsCounts, func(ctx context.Context, tx store.Tx, st *state) error {
		if err := st.decide(st.sch.OrgCapabilities().Edition); err != nil {
			return fmt.Errorf("set seat override of %q: %w", orgID, err)
		}
		return s.setSeatOverride(ctx, tx, st, n)
	})
}

func (s *Service) setSeatOverride(ctx context.Context, tx store.Tx, st *state, n int) error {
	if err := policy.CheckSeatOverride(st.sch, st.o.Edition, n); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidArgument, err)
	}
	c, err := s.counts(ctx, tx, reserved)
	if err != nil {
		return err
	}
	// The override is the base edition's, whatever a trial decides meanwhile.
	base, ok := st.sch.Edition(st.o.Edition)
	if !ok {
		return fmt.Errorf("%w %q in scheme %q", ErrUnknownEdition, st.o.Edition, st.sch.ID())
	}
	if limit := base.Seats().Limit(n); limit > 0 && c.Seats > limit {
		what := fmt.Sprintf("a limit of %d seats", n)
		if n == 0 {
			what = fmt.Sprintf("edition %q's default of %d seats", st.o.Edition, limit)
		}
		return fmt.Errorf("%w: %w: %s, but %d are in use (members and pending invitations)", ErrInvariant, ErrSeatLimit, what, c.Seats)
	}
	if n == st.o.SeatOverride {
		return nil
	}
	o := st.o
	detail := fmt.Sprintf("%d -> %d", o.SeatOverride, n)
	o.SeatOverride, o.UpdatedAt = n, s.now()
	if err := tx.UpdateOrganization(ctx, o); err != nil {
		return err
	}
	return s.audit(ctx, tx, org.AuditEvent{Actor: st.actor.PrincipalID, Action: AuditOrganizationSeats, Detail: detail})
}

// ArchiveOrganization archives the organization: from then on every check
// in it is denied and every change refused, but its members can still read
// it and its audit trail, and it can be deleted. The actor needs the
// scheme's delete capability, and where the scheme has an immutable role
// (UiPath's owner, who "cannot be deleted") must hold that role (see
// policy.CanDeleteOrganization).
func (s *Service) ArchiveOrganization(ctx context.Context, orgID, actor string) error {
	return s.update(ctx, orgID, actor, func(ctx context.Context, tx store.Tx, st *state) error {
		if err := policy.CanDeleteOrganization(st.sch, st.edID, st.actor.Role).Err(); err != nil {
			return fmt.Errorf("archive organization %q: %w", orgID, err)
		}
		return s.archive(ctx, tx, st)
	})
}

func (s *Service) archive(ctx context.Context, tx store.Tx, st *state) error {
	o := st.o
	o.Archived, o.UpdatedAt = true, s.now()
	if err := tx.UpdateOrganization(ctx, o); err != nil {
		return err
	}
	return s.audit(ctx, tx, org.AuditEvent{Actor: st.actor.PrincipalID, Action: AuditOrganizationArchive})
}

// DeleteOrganization deletes the organization and everything in it, its
// audit trail included; archived organizations too. The actor needs what
// ArchiveOrganization needs.
func (s *Service) DeleteOrganization(ctx context.Context, orgID, actor string) error {
	if err := org.ValidateID("organization", orgID); err != nil {
		return err
	}
	return s.st.Update(ctx, orgID, func(ctx context.Context, tx store.Tx) error {
		st, err := s.load(ctx, tx, orgID, actor, false)
		if err != nil {
			return err
		}
		if err := policy.CanDeleteOrganization(st.sch, st.edID, st.actor.Role).Err(); err != nil {
			return fmt.Errorf("delete organization %q: %w", orgID, err)
		}
		return tx.DeleteOrganization(ctx)
	})
}
