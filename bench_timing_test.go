package orgauthz_test

import (
	"context"
	"testing"
	"time"

	"github.com/orgauthz/orgauthz"
	"github.com/orgauthz/orgauthz/apikey"
	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/invite"
	"github.com/orgauthz/orgauthz/org"
	"github.com/orgauthz/orgauthz/store"
	"github.com/orgauthz/orgauthz/store/memstore"
	"github.com/orgauthz/orgauthz/store/pgstore"
)

// The refusals of forged credentials must cost alike whether the ID they
// name exists or not, or the time they take would tell which IDs exist
// (issue 11, item 10). The benchmarks here show the two paths side by
// side; the tests check what can be checked without timing anything.

// forgedKeys returns a service over a new memstore holding one
// organization with one API key, and two forged keys for it: one whose key
// ID no organization holds, and one with the real key's ID and another
// secret.
func forgedKeys(tb testing.TB) (svc *orgauthz.Service, unknownID, wrongSecret string) {
	tb.Helper()
	now := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	st := memstore.New()
	tb.Cleanup(func() { st.Close() })
	svc, err := orgauthz.New(st, orgauthz.Options{Schemes: []*edition.Scheme{edition.Wherobots()}, Clock: func() time.Time { return now }})
	if err != nil {
		tb.Fatal(err)
	}
	o, err := svc.CreateOrganization(ctx, user("ada"), orgauthz.NewOrganization{Name: "A", Edition: "professional"})
	if err != nil {
		tb.Fatal(err)
	}
	k, _, err := svc.CreateAPIKey(ctx, o.ID, "ada", orgauthz.NewKey{Name: "k"})
	if err != nil {
		tb.Fatal(err)
	}
	unknown, err := apikey.NewSecret(orgauthz.DefaultKeyPrefix)
	if err != nil {
		tb.Fatal(err)
	}
	wrong, err := apikey.NewSecretFor(orgauthz.DefaultKeyPrefix, k.ID)
	if err != nil {
		tb.Fatal(err)
	}
	return svc, unknown.Reveal(), wrong.Reveal()
}

// BenchmarkAuthenticateForged measures refusing a forged API key over the
// memory store: one whose key ID is unknown, and one with a known key ID
// and a wrong secret. Both answer ErrInvalidKey; they must also cost the
// same (within 10%, allocations equal).
func BenchmarkAuthenticateForged(b *testing.B) {
	svc, unknownID, wrongSecret := forgedKeys(b)
	for _, c := range []struct{ name, key string }{{"unknown-id", unknownID}, {"wrong-secret", wrongSecret}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := svc.Authenticate(ctx, c.key); err != orgauthz.ErrInvalidKey {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestAuthenticateForgedAllocations: refusing an unknown key ID allocates
// exactly as much as refusing a wrong secret for a known one.
func TestAuthenticateForgedAllocations(t *testing.T) {
	svc, unknownID, wrongSecret := forgedKeys(t)
	allocs := func(key string) float64 {
		return testing.AllocsPerRun(1000, func() {
			if _, err := svc.Authenticate(ctx, key); err != orgauthz.ErrInvalidKey {
				t.Fatalf("Authenticate of a forged key: %v, want ErrInvalidKey itself", err)
			}
		})
	}
	unknown, wrong := allocs(unknownID), allocs(wrongSecret)
	if unknown != wrong {
		t.Errorf("Authenticate allocates %v times for an unknown key ID and %v times for a wrong secret; want the same", unknown, wrong)
	}
}

// forgedInvitation is a fixture's organization with one pending
// invitation, and tokens for it: the real one, one whose invitation ID is
// unknown, and one with the real ID and another secret.
type forgedInvitation struct {
	f                             *fixture
	orgID                         string
	token, unknownID, wrongSecret string
}

func newForgedInvitation(tb testing.TB, f *fixture) forgedInvitation {
	tb.Helper()
	id := f.newOrg(tb, "wherobots", "professional")
	inv, tok, err := f.svc.Invite(ctx, id, "creator", "bob@example.com", "")
	if err != nil {
		tb.Fatal(err)
	}
	unknown, err := invite.NewToken(invite.NewID())
	if err != nil {
		tb.Fatal(err)
	}
	wrong, err := invite.NewToken(inv.ID)
	if err != nil {
		tb.Fatal(err)
	}
	return forgedInvitation{f: f, orgID: id, token: tok.Reveal(), unknownID: unknown.Reveal(), wrongSecret: wrong.Reveal()}
}

// BenchmarkAcceptForged measures refusing a forged invitation token, one
// whose invitation ID is unknown and one with a known ID and a wrong
// secret, over the memory store and over PostgreSQL (a database of the
// shared test cluster, over a Unix socket). Both answer ErrInvalidToken
// before anything takes the organization's lock; they must also cost the
// same (within 10%).
func BenchmarkAcceptForged(b *testing.B) {
	for _, env := range []struct {
		name string
		f    func(b *testing.B) *fixture
	}{
		{"memstore", func(b *testing.B) *fixture { return newFixture(b) }},
		{"pgstore", func(b *testing.B) *fixture { return newFixtureOn(b, openPG(b, pgstore.Options{}), "") }},
	} {
		b.Run(env.name, func(b *testing.B) {
			fi := newForgedInvitation(b, env.f(b))
			for _, c := range []struct{ name, token string }{{"unknown-id", fi.unknownID}, {"wrong-secret", fi.wrongSecret}} {
				b.Run(c.name, func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						if _, _, err := fi.f.svc.AcceptInvitation(ctx, c.token, user("eve"), "bob@example.com"); err != orgauthz.ErrInvalidToken {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}

// BenchmarkPreviewForged is BenchmarkAcceptForged for PreviewInvitation
// over the memory store: a forged token's preview costs alike whether its
// invitation ID exists or not.
func BenchmarkPreviewForged(b *testing.B) {
	fi := newForgedInvitation(b, newFixture(b))
	for _, c := range []struct{ name, token string }{{"unknown-id", fi.unknownID}, {"wrong-secret", fi.wrongSecret}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := fi.f.svc.PreviewInvitation(ctx, c.token); err != orgauthz.ErrInvalidToken {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestPreviewForgedAllocations: previewing a token with an unknown
// invitation ID allocates exactly as much as one with a wrong secret.
func TestPreviewForgedAllocations(t *testing.T) {
	fi := newForgedInvitation(t, newFixture(t))
	allocs := func(token string) float64 {
		return testing.AllocsPerRun(1000, func() {
			if _, err := fi.f.svc.PreviewInvitation(ctx, token); err != orgauthz.ErrInvalidToken {
				t.Fatalf("PreviewInvitation of a forged token: %v, want ErrInvalidToken itself", err)
			}
		})
	}
	if unknown, wrong := allocs(fi.unknownID), allocs(fi.wrongSecret); unknown != wrong {
		t.Errorf("PreviewInvitation allocates %v times for an unknown ID and %v times for a wrong secret; want the same", unknown, wrong)
	}
}

// TestForgedTokensDoNotWaitForTheOrganization holds the organization's
// lock with a running Update and answers forged tokens meanwhile: an
// unknown ID and a wrong secret for a known one are both refused with
// ErrInvalidToken while the Update still runs, so neither waits for the
// organization's lock (which would tell, by the time taken, that the ID
// exists). The real token, which does need the lock, is accepted once the
// Update ends.
func TestForgedTokensDoNotWaitForTheOrganization(t *testing.T) {
	t.Parallel()
	forEachStore(t, func(t *testing.T, env storeEnv) {
		fi := newForgedInvitation(t, env.newFixture(t))
		f := fi.f
		held, release, ended := make(chan struct{}), make(chan struct{}), make(chan error, 1)
		go func() {
			ended <- f.st.Update(ctx, fi.orgID, func(ctx context.Context, tx store.Tx) error {
				if _, err := tx.Organization(ctx); err != nil {
					return err
				}
				close(held)
				<-release
				return nil
			})
		}()
		<-held
		released := false
		releaseLock := func() {
			if !released {
				released = true
				close(release)
				if err := <-ended; err != nil {
					t.Errorf("the Update holding the organization: %v", err)
				}
			}
		}
		defer releaseLock()

		type answer struct {
			what string
			err  error
		}
		answers := make(chan answer, 6)
		for _, c := range []struct{ what, token string }{{"an unknown ID", fi.unknownID}, {"a wrong secret", fi.wrongSecret}} {
			go func() {
				_, err := f.svc.PreviewInvitation(ctx, c.token)
				answers <- answer{"preview with " + c.what, err}
			}()
			go func() {
				_, _, err := f.svc.AcceptInvitation(ctx, c.token, user("eve"), "bob@example.com")
				answers <- answer{"accept with " + c.what, err}
			}()
			go func() {
				answers <- answer{"decline with " + c.what, f.svc.DeclineInvitation(ctx, c.token, org.Principal{})}
			}()
		}
		// A bounded wait, only so that a store that makes them wait fails
		// instead of hanging: a correct one answers at once.
		timeout := time.After(10 * time.Second)
		for range cap(answers) {
			select {
			case a := <-answers:
				if a.err != orgauthz.ErrInvalidToken {
					t.Errorf("%s while the organization is locked: %v, want ErrInvalidToken itself", a.what, a.err)
				}
			case <-timeout:
				t.Fatal("a forged token waited for the Update that holds the organization's lock")
			}
		}
		select {
		case err := <-ended:
			released = true
			t.Fatalf("the Update holding the organization ended before it was released: %v", err)
		default:
		}
		releaseLock()

		_, _, err := f.svc.AcceptInvitation(ctx, fi.token, user("bob"), "bob@example.com")
		if err != nil {
			t.Fatalf("accept with the real token after the forged ones: %v", err)
		}
		if got := f.role(t, fi.orgID, "bob"); got != "user" {
			t.Errorf("bob's role after accepting: %q, want user", got)
		}
	})
}

// tokenReads is a store that reports, on read, each InvitationToken
// answer it passes on from the real store beneath.
type tokenReads struct {
	store.Store
	read chan struct{}
}

func (s *tokenReads) InvitationToken(ctx context.Context, id string) (store.InvitationToken, error) {
	it, err := s.Store.InvitationToken(ctx, id)
	s.read <- struct{}{}
	return it, err
}

// TestTokenRotatedAfterItsCheckIsRefused: a token whose secret matched the
// hash last committed, but whose invitation a resend rotates before the
// accept takes the organization's lock, is refused with ErrInvalidToken by
// the check made again inside the accept's transaction, and changes
// nothing.
func TestTokenRotatedAfterItsCheckIsRefused(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		open func(t *testing.T) store.Store
	}{
		{"memstore", func(t *testing.T) store.Store { return memstore.New() }},
		{"pgstore", func(t *testing.T) store.Store { return openPG(t, pgstore.Options{}) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			st := &tokenReads{Store: c.open(t), read: make(chan struct{}, 1)}
			defer st.Close()
			f := newFixtureOn(t, st, "")
			fi := newForgedInvitation(t, f)
			tok, err := invite.ParseToken(fi.token)
			if err != nil {
				t.Fatal(err)
			}
			rotated, err := invite.NewToken(tok.ID())
			if err != nil {
				t.Fatal(err)
			}
			// An Update rotates the token, as a resend does, and holds the
			// organization until released: the accept checks the old token
			// against the hash last committed, the old one, meanwhile.
			held, release, ended := make(chan struct{}), make(chan struct{}), make(chan error, 1)
			go func() {
				ended <- f.st.Update(ctx, fi.orgID, func(ctx context.Context, tx store.Tx) error {
					inv, err := tx.Invitation(ctx, tok.ID())
					if err != nil {
						return err
					}
					inv.TokenHash = rotated.Hash()
					if err := tx.UpdateInvitation(ctx, inv); err != nil {
						return err
					}
					close(held)
					<-release
					return nil
				})
			}()
			<-held
			accepted := make(chan error, 1)
			go func() {
				_, _, err := f.svc.AcceptInvitation(ctx, fi.token, user("bob"), "bob@example.com")
				accepted <- err
			}()
			<-st.read // the accept has checked the token, and found it good
			close(release)
			if err := <-ended; err != nil {
				t.Fatalf("the rotating Update: %v", err)
			}
			if err := <-accepted; err != orgauthz.ErrInvalidToken {
				t.Errorf("accept with the token rotated after its check: %v, want ErrInvalidToken itself", err)
			}
			if got := f.role(t, fi.orgID, "bob"); got != "" {
				t.Errorf("bob is a member (%q) through a rotated token", got)
			}
			if _, _, err := f.svc.AcceptInvitation(ctx, rotated.Reveal(), user("bob"), "bob@example.com"); err != nil {
				t.Errorf("accept with the new token: %v", err)
			}
		})
	}
}
