package orgauthz

import (
	"sync/atomic"

	"github.com/orgauthz/orgauthz/edition"
	"github.com/orgauthz/orgauthz/store"
)

// codeBits is the log2 of the slots of a Service's cache of codes: 256
// slots, more than the (scheme, edition, role) triples of most services,
// in 2 KiB.
const codeBits = 8

// codeCache remembers what the service resolved the triple of a
// store.Access to, under the Access's Code: direct mapped, one word a
// slot, the code in the top 48 bits and the positions below, the
// scheme's in 4, the edition's and the role's in 6 each. A triple whose
// code or positions do not fit is never remembered, only looked up. A
// slot is read and written whole, atomically, so a check finds in it
// either nothing of its code or all of it.
type codeCache [1 << codeBits]atomic.Uint64

// resolve returns the scheme, edition and role position a names, and
// true; or, when one of them is unknown, false with the scheme if that
// much is known (nil if not). It looks the strings up only for a code it
// has not seen, or a store that gives none.
func (s *Service) resolve(a *store.Access) (*edition.Scheme, *edition.Edition, int, bool) {
	c := a.Code
	var slot *atomic.Uint64
	if c != 0 && c < 1<<48 {
		slot = &s.codes[(c*0x9e3779b97f4a7c15)>>(64-codeBits)]
		if w := slot.Load(); w>>16 == c {
			sch := s.schemes[w>>12&0xf]
			return sch, sch.EditionAt(int(w >> 6 & 0x3f)), int(w & 0x3f), true
		}
	}
	i, ok := s.schemeIx.Lookup(a.Scheme)
	if !ok {
		return nil, nil, 0, false
	}
	sch := s.schemes[i]
	e, ok := sch.Edition(a.Edition)
	if !ok {
		return sch, nil, 0, false
	}
	ri, ok := sch.RoleIndex(a.Role)
	if !ok {
		return sch, nil, 0, false
	}
	if slot != nil && i < 1<<4 && e.Pos() < 1<<6 && ri < 1<<6 {
		slot.Store(c<<16 | uint64(i)<<12 | uint64(e.Pos())<<6 | uint64(ri))
	}
	return sch, e, ri, true
}
