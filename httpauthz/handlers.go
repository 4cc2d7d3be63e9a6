package httpauthz

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/orgauthz/orgauthz"
	"github.com/orgauthz/orgauthz/apikey"
	"github.com/orgauthz/orgauthz/org"
)

// The caller's view.

func (a *API) myOrganizations(w http.ResponseWriter, r *http.Request, c Caller) error {
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	ms, err := a.svc.Memberships(r.Context(), c.PrincipalID, p)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, ms)
}

// verified returns the session's verified address.
func verified(c Caller) (string, error) {
	if c.Email == "" {
		return "", fmt.Errorf("%w: the session has no verified address", orgauthz.ErrPermissionDenied)
	}
	return c.Email, nil
}

func (a *API) myInvitations(w http.ResponseWriter, r *http.Request, c Caller) error {
	email, err := verified(c)
	if err != nil {
		return err
	}
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	invs, err := a.svc.InvitationsFor(r.Context(), email, p)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, invs)
}

func (a *API) acceptByID(w http.ResponseWriter, r *http.Request, c Caller) error {
	email, err := verified(c)
	if err != nil {
		return err
	}
	m, o, err := a.svc.AcceptInvitationByID(r.Context(), r.PathValue("id"), user(c), email)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, joined{Member: m, Organization: o})
}

func (a *API) declineByID(w http.ResponseWriter, r *http.Request, c Caller) error {
	email, err := verified(c)
	if err != nil {
		return err
	}
	if err := a.svc.DeclineInvitationByID(r.Context(), r.PathValue("id"), user(c), email); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// Invitations by token.

func (a *API) previewInvitation(w http.ResponseWriter, r *http.Request, _ Caller) error {
	var b tokenBody
	if err := decode(r, &b); err != nil {
		return err
	}
	p, err := a.svc.PreviewInvitation(r.Context(), b.Token)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, p)
}

func (a *API) acceptInvitation(w http.ResponseWriter, r *http.Request, c Caller) error {
	var b tokenBody
	if err := decode(r, &b); err != nil {
		return err
	}
	email, err := verified(c)
	if err != nil {
		return err
	}
	m, o, err := a.svc.AcceptInvitation(r.Context(), b.Token, user(c), email)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, joined{Member: m, Organization: o})
}

func (a *API) declineInvitation(w http.ResponseWriter, r *http.Request, c Caller) error {
	var b tokenBody
	if err := decode(r, &b); err != nil {
		return err
	}
	var by org.Principal
	if c.PrincipalID != "" {
		by = user(c)
	}
	if err := a.svc.DeclineInvitation(r.Context(), b.Token, by); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// Organizations.

func (a *API) createOrganization(w http.ResponseWriter, r *http.Request, c Caller) error {
	var b createOrgBody
	if err := decode(r, &b); err != nil {
		return err
	}
	o, err := a.svc.CreateOrganization(r.Context(), user(c), orgauthz.NewOrganization{ID: b.ID, Name: b.Name, Scheme: b.Scheme, Edition: b.Edition, Settings: b.Settings})
	if err != nil {
		return err
	}
	w.Header().Set("Location", a.prefix+"/orgs/"+url.PathEscape(o.ID))
	return reply(w, http.StatusCreated, o)
}

func (a *API) organization(w http.ResponseWriter, r *http.Request, c Caller) error {
	o, err := a.svc.Organization(r.Context(), r.PathValue("org"), c.PrincipalID)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, o)
}

func (a *API) updateOrganization(w http.ResponseWriter, r *http.Request, c Caller) error {
	var b updateOrgBody
	if err := decode(r, &b); err != nil {
		return err
	}
	o, err := a.svc.UpdateOrganization(r.Context(), r.PathValue("org"), c.PrincipalID, orgauthz.OrganizationUpdate{Name: b.Name, Settings: b.Settings})
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, o)
}

func (a *API) deleteOrganization(w http.ResponseWriter, r *http.Request, c Caller) error {
	if err := a.svc.DeleteOrganization(r.Context(), r.PathValue("org"), c.PrincipalID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) changeEdition(w http.ResponseWriter, r *http.Request, c Caller) error {
	var b editionBody
	if err := decode(r, &b); err != nil {
		return err
	}
	if err := a.svc.ChangeEdition(r.Context(), r.PathValue("org"), c.PrincipalID, b.Edition); err != nil {
		return err
	}
	return a.organization(w, r, c)
}

func (a *API) seats(w http.ResponseWriter, r *http.Request, c Caller) error {
	s, err := a.svc.Seats(r.Context(), r.PathValue("org"), c.PrincipalID)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, s)
}

func (a *API) setSeats(w http.ResponseWriter, r *http.Request, c Caller) error {
	var b seatsBody
	if err := decode(r, &b); err != nil {
		return err
	}
	if err := a.svc.SetSeatOverride(r.Context(), r.PathValue("org"), c.PrincipalID, b.Override); err != nil {
		return err
	}
	return a.seats(w, r, c)
}

func (a *API) archive(w http.ResponseWriter, r *http.Request, c Caller) error {
	if err := a.svc.ArchiveOrganization(r.Context(), r.PathValue("org"), c.PrincipalID); err != nil {
		return err
	}
	return a.organization(w, r, c)
}

func (a *API) transfer(w http.ResponseWriter, r *http.Request, c Caller) error {
	var b transferBody
	if err := decode(r, &b); err != nil {
		return err
	}
	if err := a.svc.TransferOwnership(r.Context(), r.PathValue("org"), c.PrincipalID, b.To, b.StepDownTo); err != nil {
		return err
	}
	m, err := a.svc.Member(r.Context(), r.PathValue("org"), c.PrincipalID, b.To)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, m)
}

// Members.

func (a *API) members(w http.ResponseWriter, r *http.Request, c Caller) error {
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	ms, err := a.svc.Members(r.Context(), r.PathValue("org"), c.PrincipalID, p)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, ms)
}

func (a *API) addMember(w http.ResponseWriter, r *http.Request, c Caller) error {
	var b addMemberBody
	if err := decode(r, &b); err != nil {
		return err
	}
	if b.Kind == 0 {
		b.Kind = org.User
	}
	m, err := a.svc.AddMember(r.Context(), r.PathValue("org"), c.PrincipalID, org.Principal{ID: b.PrincipalID, Kind: b.Kind}, b.Role)
	if err != nil {
		return err
	}
	return reply(w, http.StatusCreated, m)
}

func (a *API) member(w http.ResponseWriter, r *http.Request, c Caller) error {
	m, err := a.svc.Member(r.Context(), r.PathValue("org"), c.PrincipalID, r.PathValue("principal"))
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, m)
}

func (a *API) changeRole(w http.ResponseWriter, r *http.Request, c Caller) error {
	var b roleBody
	if err := decode(r, &b); err != nil {
		return err
	}
	m, err := a.svc.ChangeRole(r.Context(), r.PathValue("org"), c.PrincipalID, r.PathValue("principal"), b.Role)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, m)
}

func (a *API) removeMember(w http.ResponseWriter, r *http.Request, c Caller) error {
	if err := a.svc.RemoveMember(r.Context(), r.PathValue("org"), c.PrincipalID, r.PathValue("principal")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) leave(w http.ResponseWriter, r *http.Request, c Caller) error {
	if err := a.svc.Leave(r.Context(), r.PathValue("org"), c.PrincipalID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// Invitations.

func (a *API) invitations(w http.ResponseWriter, r *http.Request, c Caller) error {
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	pending := false
	if v := r.URL.Query().Get("pending"); v != "" {
		if pending, err = strconv.ParseBool(v); err != nil {
			return fmt.Errorf("%w: pending %q is not a boolean", orgauthz.ErrInvalidArgument, v)
		}
	}
	invs, err := a.svc.Invitations(r.Context(), r.PathValue("org"), c.PrincipalID, p, pending)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, invs)
}

func (a *API) invite(w http.ResponseWriter, r *http.Request, c Caller) error {
	var b inviteBody
	if err := decode(r, &b); err != nil {
		return err
	}
	inv, tok, err := a.svc.Invite(r.Context(), r.PathValue("org"), c.PrincipalID, b.Email, b.Role)
	if err != nil {
		return err
	}
	return reply(w, http.StatusCreated, invitationCreated{Invitation: a.public(inv), Token: tok.Reveal()})
}

func (a *API) bulkInvite(w http.ResponseWriter, r *http.Request, c Caller) error {
	var b bulkInviteBody
	if err := decode(r, &b); err != nil {
		return err
	}
	if len(b.Emails) == 0 {
		return fmt.Errorf("%w: no addresses to invite", orgauthz.ErrInvalidArgument)
	}
	res, err := a.svc.BulkInvite(r.Context(), r.PathValue("org"), c.PrincipalID, b.Emails, b.Role)
	if err != nil {
		return err
	}
	if err := sameRefusal(res); err != nil {
		return err // the caller may invite no one: one refusal, not one per address
	}
	out := bulkResults{Results: make([]bulkResult, len(res))}
	for i, x := range res {
		out.Results[i].Email = x.Email
		if x.Err != nil {
			p := errorProblem(x.Err)
			p.Type, p.Title = "about:blank", http.StatusText(p.Status)
			out.Results[i].Error = &p
			continue
		}
		inv := a.public(x.Invitation)
		out.Results[i].Invitation, out.Results[i].Token = &inv, x.Token.Reveal()
	}
	return reply(w, http.StatusOK, out)
}

// sameRefusal returns the refusal every result shares when it is about the
// caller's standing (a permission, the organization) rather than the
// addresses.
func sameRefusal(res []orgauthz.InviteResult) error {
	for _, x := range res {
		if x.Err == nil || !(errors.Is(x.Err, orgauthz.ErrPermissionDenied) || errors.Is(x.Err, orgauthz.ErrArchived)) {
			return nil
		}
	}
	return res[0].Err
}

func (a *API) resend(w http.ResponseWriter, r *http.Request, c Caller) error {
	inv, tok, err := a.svc.ResendInvitation(r.Context(), r.PathValue("org"), c.PrincipalID, r.PathValue("id"))
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, invitationCreated{Invitation: a.public(inv), Token: tok.Reveal()})
}

func (a *API) revoke(w http.ResponseWriter, r *http.Request, c Caller) error {
	if err := a.svc.RevokeInvitation(r.Context(), r.PathValue("org"), c.PrincipalID, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// Service principals and keys.

func (a *API) servicePrincipals(w http.ResponseWriter, r *http.Request, c Caller) error {
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	ms, err := a.svc.ServicePrincipals(r.Context(), r.PathValue("org"), c.PrincipalID, p)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, ms)
}

func (a *API) createServicePrincipal(w http.ResponseWriter, r *http.Request, c Caller) error {
	var b servicePrincipalBody
	if err := decode(r, &b); err != nil {
		return err
	}
	m, err := a.svc.CreateServicePrincipal(r.Context(), r.PathValue("org"), c.PrincipalID, b.Name, b.Role)
	if err != nil {
		return err
	}
	return reply(w, http.StatusCreated, m)
}

func (a *API) renameServicePrincipal(w http.ResponseWriter, r *http.Request, c Caller) error {
	var b renameBody
	if err := decode(r, &b); err != nil {
		return err
	}
	m, err := a.svc.RenameServicePrincipal(r.Context(), r.PathValue("org"), c.PrincipalID, r.PathValue("principal"), b.Name)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, m)
}

func (a *API) deleteServicePrincipal(w http.ResponseWriter, r *http.Request, c Caller) error {
	if err := a.svc.DeleteServicePrincipal(r.Context(), r.PathValue("org"), c.PrincipalID, r.PathValue("principal")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// keyList lists the caller's keys, those of ?owner=, or with ?all=true
// every key of the organization.
func (a *API) keyList(w http.ResponseWriter, r *http.Request, c Caller) error {
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	var kp orgauthz.KeyPage
	all := false
	if v := q.Get("all"); v != "" {
		if all, err = strconv.ParseBool(v); err != nil {
			return fmt.Errorf("%w: all %q is not a boolean", orgauthz.ErrInvalidArgument, v)
		}
	}
	if all {
		kp, err = a.svc.AllAPIKeys(r.Context(), r.PathValue("org"), c.PrincipalID, p)
	} else {
		kp, err = a.svc.APIKeys(r.Context(), r.PathValue("org"), c.PrincipalID, q.Get("owner"), p)
	}
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, a.keys(kp))
}

func (a *API) createKey(w http.ResponseWriter, r *http.Request, c Caller) error {
	var b keyBody
	if err := decode(r, &b); err != nil {
		return err
	}
	nk := orgauthz.NewKey{Name: b.Name, Owner: b.Owner, ExpiresAt: b.ExpiresAt, Scope: b.Scope}
	if b.Expiry != "" {
		d, err := apikey.ExpiryPreset(b.Expiry)
		if err != nil {
			return err
		}
		nk.ExpiresIn = d
	}
	k, secret, err := a.svc.CreateAPIKey(r.Context(), r.PathValue("org"), c.PrincipalID, nk)
	if err != nil {
		return err
	}
	k.Hash = nil
	return reply(w, http.StatusCreated, keyCreated{Key: k, Secret: secret.Reveal()})
}

func (a *API) revokeKey(w http.ResponseWriter, r *http.Request, c Caller) error {
	if err := a.svc.RevokeAPIKey(r.Context(), r.PathValue("org"), c.PrincipalID, r.PathValue("key")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// Scopes.

func (a *API) scopes(w http.ResponseWriter, r *http.Request, c Caller) error {
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	sp, err := a.svc.Scopes(r.Context(), r.PathValue("org"), c.PrincipalID, r.PathValue("kind"), p)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, sp)
}

func (a *API) createScope(w http.ResponseWriter, r *http.Request, c Caller) error {
	var b scopeBody
	if err := decode(r, &b); err != nil {
		return err
	}
	s, err := a.svc.CreateScope(r.Context(), r.PathValue("org"), c.PrincipalID, r.PathValue("kind"), b.Name)
	if err != nil {
		return err
	}
	return reply(w, http.StatusCreated, s)
}

func (a *API) scope(w http.ResponseWriter, r *http.Request, c Caller) error {
	s, err := a.svc.Scope(r.Context(), r.PathValue("org"), c.PrincipalID, r.PathValue("kind"), r.PathValue("id"))
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, s)
}

func (a *API) deleteScope(w http.ResponseWriter, r *http.Request, c Caller) error {
	if err := a.svc.DeleteScope(r.Context(), r.PathValue("org"), c.PrincipalID, r.PathValue("kind"), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) scopeMembers(w http.ResponseWriter, r *http.Request, c Caller) error {
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	ms, err := a.svc.ScopeMembers(r.Context(), r.PathValue("org"), c.PrincipalID, r.PathValue("kind"), r.PathValue("id"), p)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, ms)
}

// putScopeMember gives a principal a role on a resource, adding it or
// changing the role it holds there (see Service.AddScopeMember).
func (a *API) putScopeMember(w http.ResponseWriter, r *http.Request, c Caller) error {
	var b scopeMemberBody
	if err := decode(r, &b); err != nil {
		return err
	}
	sm, err := a.svc.AddScopeMember(r.Context(), r.PathValue("org"), c.PrincipalID, r.PathValue("kind"), r.PathValue("id"),
		org.Principal{ID: r.PathValue("principal"), Kind: org.User}, b.Role)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, sm)
}

func (a *API) removeScopeMember(w http.ResponseWriter, r *http.Request, c Caller) error {
	if err := a.svc.RemoveScopeMember(r.Context(), r.PathValue("org"), c.PrincipalID, r.PathValue("kind"), r.PathValue("id"), r.PathValue("principal")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) defineScopeRole(w http.ResponseWriter, r *http.Request, c Caller) error {
	var b scopeRoleBody
	if err := decode(r, &b); err != nil {
		return err
	}
	sr, err := a.svc.DefineScopeRole(r.Context(), r.PathValue("org"), c.PrincipalID, r.PathValue("kind"), r.PathValue("id"),
		orgauthz.ScopeRoleDef{ID: r.PathValue("role"), Name: b.Name, Capabilities: b.Capabilities})
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, sr)
}

func (a *API) myScopes(w http.ResponseWriter, r *http.Request, c Caller) error {
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	ms, err := a.svc.ScopeMemberships(r.Context(), r.PathValue("org"), c.PrincipalID, r.URL.Query().Get("principal"), r.PathValue("kind"), p)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, ms)
}

// The audit trail.

func auditQuery(r *http.Request, withLimit bool) (orgauthz.AuditQuery, error) {
	q := r.URL.Query()
	var aq orgauthz.AuditQuery
	var err error
	for name, t := range map[string]*time.Time{"since": &aq.Since, "until": &aq.Until} {
		if v := q.Get(name); v != "" {
			if *t, err = time.Parse(time.RFC3339, v); err != nil {
				return aq, fmt.Errorf("%w: %s %q is not an RFC 3339 time", orgauthz.ErrInvalidArgument, name, v)
			}
		}
	}
	aq.Actor = q.Get("actor")
	if v := q.Get("after"); v != "" {
		if aq.AfterSeq, err = strconv.ParseInt(v, 10, 64); err != nil || aq.AfterSeq < 0 {
			return aq, fmt.Errorf("%w: after %q is not a sequence number", orgauthz.ErrInvalidArgument, v)
		}
	}
	aq.Limit = 100
	if v := q.Get("limit"); v != "" && withLimit {
		if aq.Limit, err = strconv.Atoi(v); err != nil || aq.Limit < 0 || aq.Limit > 1000 {
			return aq, fmt.Errorf("%w: limit %q, want 0 (the default, 100) to 1000", orgauthz.ErrInvalidArgument, v)
		}
		if aq.Limit == 0 {
			aq.Limit = 100
		}
	}
	return aq, nil
}

// audit answers a page of the audit trail; its next is the sequence number
// to pass as ?after= for the following page, absent on the last.
func (a *API) audit(w http.ResponseWriter, r *http.Request, c Caller) error {
	aq, err := auditQuery(r, true)
	if err != nil {
		return err
	}
	limit := aq.Limit
	aq.Limit++ // one more, to know whether another page follows
	events, err := a.svc.Audit(r.Context(), r.PathValue("org"), c.PrincipalID, aq)
	if err != nil {
		return err
	}
	out := auditPage{Events: events}
	if len(events) > limit {
		out.Events = events[:limit]
		out.Next = events[limit-1].Seq
	}
	if out.Events == nil {
		out.Events = []org.AuditEvent{}
	}
	return reply(w, http.StatusOK, out)
}

// exportAudit streams the events as JSON Lines. A refusal found before the
// first event is a problem; a failure once streaming has begun ends the
// stream early (its last line is then incomplete or missing).
func (a *API) exportAudit(w http.ResponseWriter, r *http.Request, c Caller) error {
	aq, err := auditQuery(r, false)
	if err != nil {
		return err
	}
	sw := &lazyWriter{w: w}
	err = a.svc.ExportAudit(r.Context(), r.PathValue("org"), c.PrincipalID, aq, sw)
	if err != nil && !sw.started {
		return err
	}
	if !sw.started {
		sw.start()
	}
	return nil
}

// lazyWriter sends the JSON Lines headers with the first byte, so that a
// refusal before it can still be a problem.
type lazyWriter struct {
	w       http.ResponseWriter
	started bool
}

func (l *lazyWriter) start() {
	l.started = true
	l.w.Header().Set("Content-Type", "application/jsonl")
	l.w.Header().Set("Cache-Control", "no-store")
	l.w.WriteHeader(http.StatusOK)
}

func (l *lazyWriter) Write(p []byte) (int, error) {
	if !l.started {
		l.start()
	}
	return l.w.Write(p)
}
