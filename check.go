package orgauthz

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/policy"
	"github.com/orgauthz/orgauthz/role"
	"github.com/orgauthz/orgauthz/store"
)

// Check answers whether principal principalID holds capability c in
// organization orgID: its organization role under the organization's
// edition decides. It denies by default and fails closed: an unknown
// organization, a principal who is not a member, an archived organization,
// a store error or a done context all deny, and the decision says which.
//
// Check is the hot path: over the memory store it reads one entry of the
// store's index of access and decides without allocating.
func (s *Service) Check(ctx context.Context, orgID, principalID string, c role.Capability) policy.Decision {
	// The fields are read where the store left them: passing the record on
	// through another return costs a store-forwarding stall per check.
	a, err := s.st.Access(ctx, orgID, principalID)
	s.effective(&a) // the trial's edition while it runs
	if err != nil || a.Archived {
		return denial(a, err)
	}
	return s.decide(&a, c)
}

// decide is the decision on c for a member whose Access is a, of an
// organization not archived: by the positions resolve remembers, and by
// the strings when one of them is unknown, so that the decision names it.
func (s *Service) decide(a *store.Access, c role.Capability) policy.Decision {
	sch, e, ri, ok := s.resolve(a)
	if !ok {
		if sch == nil {
			return policy.Decision{Reason: policy.ReasonUnknownScheme}
		}
		return policy.Decide(sch, a.Edition, a.Role, c)
	}
	ci, ok := sch.Catalog().Index(c)
	if !ok {
		return policy.Decide(sch, a.Edition, a.Role, c)
	}
	if a.Kind == org.ServicePrincipal && !offersServicePrincipals(sch, e) {
		// Left by a trial that ended: it grants nothing until the
		// organization upgrades or the principal is removed.
		return policy.Decision{Reason: policy.ReasonEditionGated}
	}
	return policy.DecideAt(sch, e, ri, ci)
}

// CheckPrincipal is Check for principal p of a known kind: a member of
// another kind with p's ID is no member of p's (ReasonNotMember). HTTP
// middleware uses it for a session's user, so that a session never acts
// as a service principal that happens to share its ID.
func (s *Service) CheckPrincipal(ctx context.Context, orgID string, p org.Principal, c role.Capability) policy.Decision {
	a, err := s.st.Access(ctx, orgID, p.ID)
	s.effective(&a) // the trial's edition while it runs
	if err == nil && a.Kind != p.Kind {
		return policy.Decision{Reason: policy.ReasonNotMember}
	}
	if err != nil || a.Archived {
		return denial(a, err)
	}
	return s.decide(&a, c)
}

// denial is the decision for a failed Access, or an archived organization.
func denial(a store.Access, err error) policy.Decision {
	switch {
	case err == nil && a.Archived:
		return policy.Decision{Reason: policy.ReasonArchived}
	case errors.Is(err, store.ErrOrganizationNotFound):
		return policy.Decision{Reason: policy.ReasonUnknownOrganization}
	case errors.Is(err, store.ErrMemberNotFound):
		return policy.Decision{Reason: policy.ReasonNotMember}
	}
	return policy.Decision{Reason: policy.ReasonUnavailable}
}

// CheckOwn is Check for a capability exercised on a thing owned by ownerID
// (an API key, a chat, a profile). When c acts on one's own things (the
// scheme's Own list: Wherobots api_keys:manage_own, SoterAI
// content/own:edit and profile/own:edit) only the owner is allowed;
// otherwise it is Check.
func (s *Service) CheckOwn(ctx context.Context, orgID, principalID string, c role.Capability, ownerID string) policy.Decision {
	a, err := s.st.Access(ctx, orgID, principalID)
	s.effective(&a) // the trial's edition while it runs
	if err != nil || a.Archived {
		return denial(a, err)
	}
	sch, ok := s.Scheme(a.Scheme)
	if !ok {
		return policy.Decision{Reason: policy.ReasonUnknownScheme}
	}
	return policy.DecideOwn(sch, a.Edition, a.Role, c, principalID == ownerID)
}

// CheckScope answers whether principal principalID holds scope capability c
// on scope resource (kind, id): by its role there, or by the role its
// organization role gives it on every resource of the kind (UiPath: the
// owner reaches every service). External principals hold only what their
// role on the resource gives.
func (s *Service) CheckScope(ctx context.Context, orgID, principalID, kind, id string, c role.Capability) policy.Decision {
	return s.checkScope(ctx, orgID, org.Principal{ID: principalID}, kind, id, c)
}

// CheckScopePrincipal is CheckScope for principal p of a known kind, as
// CheckPrincipal is Check's: a member of another kind with p's ID is no
// member of p's (ReasonNotMember).
func (s *Service) CheckScopePrincipal(ctx context.Context, orgID string, p org.Principal, kind, id string, c role.Capability) policy.Decision {
	return s.checkScope(ctx, orgID, p, kind, id, c)
}

// checkScope is CheckScope for p, of any kind when p.Kind is zero. It
// reads everything it needs in one call of the store, Store.ScopeAccess
// (from memory, or pgstore's cache), and decides without allocating.
//
// It denies in the order Check does: an unknown organization, then a
// principal who is not a member (or not of p's kind), who learns nothing
// more, not even that the organization is archived; then an archived
// organization, an unknown scheme, an unknown kind, a missing resource.
func (s *Service) checkScope(ctx context.Context, orgID string, p org.Principal, kind, id string, c role.Capability) policy.Decision {
	sa, err := s.st.ScopeAccess(ctx, orgID, p.ID, kind, id)
	a := &sa.Access
	s.effective(a)
	if err == nil && p.Kind != 0 && a.Kind != p.Kind {
		return policy.Decision{Reason: policy.ReasonNotMember}
	}
	if err != nil || a.Archived {
		return denial(*a, err)
	}
	i, ok := s.schemeIx.Lookup(a.Scheme)
	if !ok {
		return policy.Decision{Reason: policy.ReasonUnknownScheme}
	}
	sch := s.schemes[i]
	sc, ok := sch.Scope(kind)
	if !ok {
		return policy.DecideScope(sch, kind, "", c) // names the unknown kind
	}
	if !sa.ScopeFound {
		return policy.NotScopeMember(sch, kind) // no such resource: nothing held on it
	}
	// What the edition no longer offers (a trial ended) grants nothing on
	// a resource either: a role it does not offer, a service principal
	// where it offers none.
	if e, ok := sch.Edition(a.Edition); ok {
		if ri, known := sch.RoleIndex(a.Role); known && !e.OffersRole(ri) {
			return policy.Decision{Reason: policy.ReasonRoleNotInEdition}
		}
		if a.Kind == org.ServicePrincipal && !offersServicePrincipals(sch, e) {
			return policy.Decision{Reason: policy.ReasonEditionGated}
		}
	}
	return scopeDecision(sch, sc, &sa, c)
}

// scopeDecision decides c on a resource of kind sc for the principal sa
// describes, by the role that grants it, so the decision names that role:
// its explicit role there, else the role its organization role gives it on
// every resource of the kind; a custom role decides by its capability
// set. An explicit role that the principal's organization role (in the
// organization's edition) is no longer eligible for grants nothing: the
// decision fails closed with ReasonNotEligible. An explicit role that is
// neither a role of the kind nor a custom role of the resource, or a custom
// role naming a capability the kind does not know, fails closed as
// unavailable: the stored state is not one the service writes.
func scopeDecision(sch *edition.Scheme, sc *edition.Scope, sa *store.ScopeAccess, c role.Capability) policy.Decision {
	a := &sa.Access
	var explicit policy.Decision
	if sa.ScopeMember {
		explicit = policy.Eligible(sch, a.Edition, sc.Kind(), a.Role, eligibleAs(sc, sa.ScopeRole))
		if explicit.Allowed { // an ineligible role grants nothing
			if _, builtin := sc.Matrix().RoleIndex(sa.ScopeRole); builtin {
				explicit = policy.DecideScope(sch, sc.Kind(), sa.ScopeRole, c)
			} else {
				if !sa.CustomRole {
					return policy.Decision{Reason: policy.ReasonUnavailable}
				}
				caps, err := sc.Matrix().Catalog().Set(sa.Capabilities...)
				if err != nil {
					return policy.Decision{Reason: policy.ReasonUnavailable}
				}
				explicit = policy.DecideScopeSet(sch, sc.Kind(), caps, c)
			}
			if explicit.Allowed {
				return explicit
			}
		}
	}
	if !a.External {
		if oi, ok := sch.RoleIndex(a.Role); ok {
			if ri, ok := sc.ImplicitRole(oi); ok {
				implicit := policy.DecideScope(sch, sc.Kind(), sc.Matrix().Role(ri).ID, c)
				if implicit.Allowed || !sa.ScopeMember {
					return implicit
				}
			}
		}
	}
	if !sa.ScopeMember {
		return policy.NotScopeMember(sch, sc.Kind())
	}
	return explicit
}

// Capabilities returns the capabilities principal principalID holds in the
// organization ("what may this principal do here?"), in catalog order. An
// archived organization grants nothing.
func (s *Service) Capabilities(ctx context.Context, orgID, principalID string) ([]role.Capability, error) {
	a, err := s.st.Access(ctx, orgID, principalID)
	s.effective(&a) // the trial's edition while it runs
	if err != nil {
		return nil, s.accessErr(orgID, principalID, err)
	}
	if a.Archived {
		return nil, nil
	}
	sch, ok := s.Scheme(a.Scheme)
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownScheme, a.Scheme)
	}
	return sch.Catalog().IDs(policy.Capabilities(sch, a.Edition, a.Role)), nil
}

func (s *Service) accessErr(orgID, principalID string, err error) error {
	switch {
	case errors.Is(err, store.ErrOrganizationNotFound):
		return fmt.Errorf("%w %q", ErrUnknownOrganization, orgID)
	case errors.Is(err, store.ErrMemberNotFound):
		return fmt.Errorf("%w: principal %q is not a member of organization %q", ErrNotMember, principalID, orgID)
	}
	return err
}

// AuditQuery selects audit events. Zero fields select everything.
type AuditQuery struct {
	// Since and Until bound the event time: Since <= Time < Until.
	Since, Until time.Time
	// Actor selects the events of one actor.
	Actor string
	// AfterSeq starts past this sequence number, for paging.
	AfterSeq int64
	// Limit caps the events returned by Audit: 0 means 1000.
	Limit int
}

// Audit returns the organization's audit events that q selects, ordered by
// sequence number. The actor needs the scheme's audit capability
// (Wherobots: audit_logs:view, admins in professional and enterprise).
func (s *Service) Audit(ctx context.Context, orgID, actor string, q AuditQuery) ([]org.AuditEvent, error) {
	return s.auditPage(ctx, orgID, q, s.asMember(actor), auditPermit)
}

func auditPermit(st *state) error {
	if err := st.decide(st.sch.OrgCapabilities().Audit); err != nil {
		return fmt.Errorf("read the audit trail of %q: %w", st.o.ID, err)
	}
	return nil
}

func (s *Service) auditPage(ctx context.Context, orgID string, q AuditQuery, view viewFunc, permit func(*state) error) ([]org.AuditEvent, error) {
	limit := q.Limit
	if limit == 0 {
		limit = 1000
	}
	if limit < 0 {
		return nil, fmt.Errorf("%w: audit limit %d", ErrInvalidArgument, q.Limit)
	}
	var out []org.AuditEvent
	err := s.readAudit(ctx, orgID, q, view, permit, func(e org.AuditEvent) error {
		out = append(out, e)
		if len(out) == limit {
			return errStop
		}
		return nil
	})
	return out, err
}

var errStop = errors.New("stop")

// ExportAudit writes the audit events that q selects (all of them: Limit is
// ignored) to w as JSON Lines, one event per line, ordered by sequence
// number. The actor needs the scheme's audit capability.
func (s *Service) ExportAudit(ctx context.Context, orgID, actor string, q AuditQuery, w io.Writer) error {
	enc := json.NewEncoder(w)
	return s.readAudit(ctx, orgID, q, s.asMember(actor), auditPermit, func(e org.AuditEvent) error { return enc.Encode(e) })
}

func (s *Service) readAudit(ctx context.Context, orgID string, q AuditQuery, view viewFunc, permit func(*state) error, each func(org.AuditEvent) error) error {
	f := store.AuditFilter{Since: q.Since, Until: q.Until, Actor: q.Actor, AfterSeq: q.AfterSeq}
	rs := func(ctx context.Context, r store.Reader) { first(r.Audit(ctx, f)) }
	err := view(ctx, orgID, rs, func(ctx context.Context, r store.Reader, st *state) error {
		if permit != nil {
			if err := permit(st); err != nil {
				return err
			}
		}
		for e, err := range r.Audit(ctx, f) {
			if err != nil {
				return err
			}
			if err := each(e); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, errStop) {
		return nil
	}
	return err
}
