package keysync

import "hash/maphash"

// Source is the model of one store to merge, named for conflict reports
// (such as "pidgin:/home/u/.purple").
type Source struct {
	Name  string
	Model *Model
}

// ConflictKind says what two sources disagree on.
type ConflictKind string

// Conflict kinds.
const (
	KeyConflict   ConflictKind = "private key" // different private keys for one account
	TrustConflict ConflictKind = "trust"       // different non-empty trust for one fingerprint
)

// Conflict is a disagreement between sources that Merge cannot settle alone.
type Conflict struct {
	Kind        ConflictKind
	Account     Account     // zero for an OpenPGP key's ownertrust
	Contact     string      // TrustConflict only: the contact, or an OpenPGP key's first user ID
	Fingerprint Fingerprint // TrustConflict only
	// Values lists each source's value: a key's fingerprint in libotr's
	// human form, a trust value or an Ownertrust's String.
	Values []ConflictValue
	// Winner is the preferred source that settled the conflict, or "" if it
	// is unresolved.
	Winner string
}

// ConflictValue is one source's side of a conflict.
type ConflictValue struct {
	Source string
	Value  string
}

// Merge combines sources into one model and lists every conflict. It is a
// pure function of its arguments; the result may share memory with them.
//
// Accounts, keys, instance tags and fingerprints keep the order in which
// they first appear. The same key or fingerprint read from several sources
// is kept once. Different private keys for one account from different
// sources are a KeyConflict; different non-empty trust values for one
// fingerprint are a TrustConflict (a non-empty trust beats the empty one
// without conflict: verification is knowledge gained). A coarse trust (a
// row whose Origin has CoarseTrust: a store that can only say "verified")
// is no side of a conflict: any specific non-empty value replaces its
// Verified, and it beats only the empty trust. If prefer names a
// source that holds a side of a conflict, that side wins and the conflict is
// returned with Winner set. Otherwise the conflict is unresolved: the model
// keeps every key of a key conflict, but only the first source's value of a
// trust conflict (the others are in the Conflict's Values).
//
// OpenPGP keys are merged by fingerprint: one record per key with the user
// IDs and packets of every source and HasSecret if any source has the
// secret key (Secret from the first that holds it). Ownertrust follows the
// rules of trust, unset playing the empty trust: different set values are a
// TrustConflict with the key's Fingerprint, its first user ID as Contact and
// no Account.
func Merge(sources []Source, prefer string) (*Model, []Conflict) {
	out := &Model{}
	var conflicts []Conflict
	byAccount := map[Account]*LocalAccount{}
	// keySources records, per merged key, every source that holds it.
	keySources := map[PrivateKey][]string{}
	for _, src := range sources {
		for _, la := range src.Model.Accounts {
			m := byAccount[la.Account]
			if m == nil {
				m = &LocalAccount{Account: la.Account, Unmapped: la.Unmapped}
				byAccount[la.Account] = m
				out.Accounts = append(out.Accounts, m)
			}
			for _, o := range la.Origins {
				m.AddOrigin(o)
			}
			for _, t := range la.InstanceTags {
				if !containsTag(m.InstanceTags, t) {
					m.InstanceTags = append(m.InstanceTags, t)
				}
			}
			for _, k := range la.Keys {
				if i := indexKey(m.Keys, k.PrivateKey); i >= 0 {
					pk := m.Keys[i].PrivateKey
					keySources[pk] = appendUnique(keySources[pk], src.Name)
					continue
				}
				m.Keys = append(m.Keys, k)
				keySources[k.PrivateKey] = []string{src.Name}
			}
		}
	}
	for _, m := range out.Accounts {
		if c, ok := keyConflict(m, keySources, prefer); ok {
			conflicts = append(conflicts, c)
		}
	}
	fps, fc := mergeFingerprints(sources, prefer)
	out.Fingerprints = fps
	keys, kc := mergeOpenPGP(sources, prefer)
	out.OpenPGPKeys = keys
	conflicts = append(conflicts, fc...)
	return out, append(conflicts, kc...)
}

// keyConflict reports a conflict if m's distinct keys come from more than
// one source, and applies prefer.
func keyConflict(m *LocalAccount, keySources map[PrivateKey][]string, prefer string) (Conflict, bool) {
	if len(m.Keys) < 2 {
		return Conflict{}, false
	}
	var all []string
	for _, k := range m.Keys {
		for _, s := range keySources[k.PrivateKey] {
			all = appendUnique(all, s)
		}
	}
	if len(all) < 2 {
		return Conflict{}, false // one source holding several keys: its own business
	}
	c := Conflict{Kind: KeyConflict, Account: m.Account}
	preferred := false
	for _, k := range m.Keys {
		for _, s := range keySources[k.PrivateKey] {
			c.Values = append(c.Values, ConflictValue{Source: s, Value: k.PrivateKey.Fingerprint().Human()})
			preferred = preferred || s == prefer
		}
	}
	if preferred {
		c.Winner = prefer
		kept := m.Keys[:0:0]
		for _, k := range m.Keys {
			for _, s := range keySources[k.PrivateKey] {
				if s == prefer {
					kept = append(kept, k)
					break
				}
			}
		}
		m.Keys = kept
	}
	return c, true
}

// fpIndex finds merged fingerprints by (local account, contact,
// fingerprint). It maps a 64-bit hash to a row index and keeps the rare
// rows whose hash collides with another's in a second map, so that a
// million rows cost 12 bytes each instead of a copy of their key.
type fpIndex struct {
	seed     maphash.Seed
	byHash   map[uint64]int32
	collided map[fpKey]int
}

type fpKey struct {
	local   Account
	contact string
	fp      Fingerprint
}

func newFPIndex(n int) *fpIndex {
	return &fpIndex{seed: maphash.MakeSeed(), byHash: make(map[uint64]int32, n)}
}

func (x *fpIndex) hash(f *KnownFingerprint) uint64 {
	var h maphash.Hash
	h.SetSeed(x.seed)
	l := f.Local()
	h.WriteString(l.Protocol)
	h.WriteByte(0)
	h.WriteString(l.Address)
	h.WriteByte(0)
	h.WriteString(f.Contact)
	h.WriteByte(0)
	h.WriteByte(byte(f.Fingerprint.Kind))
	h.Write(f.Fingerprint.Sum[:])
	return h.Sum64()
}

func sameRow(a, b *KnownFingerprint) bool {
	return a.Fingerprint == b.Fingerprint && a.Contact == b.Contact && a.Local() == b.Local()
}

// find returns the index in rows of the row matching f.
func (x *fpIndex) find(rows []KnownFingerprint, f *KnownFingerprint) (int, bool) {
	if i, ok := x.byHash[x.hash(f)]; ok {
		if sameRow(&rows[i], f) {
			return int(i), true
		}
		i, ok := x.collided[fpKey{f.Local(), f.Contact, f.Fingerprint}]
		return i, ok
	}
	return 0, false
}

// add indexes rows[i], which find did not find.
func (x *fpIndex) add(rows []KnownFingerprint, i int) {
	f := &rows[i]
	h := x.hash(f)
	if _, taken := x.byHash[h]; !taken {
		x.byHash[h] = int32(i)
		return
	}
	if x.collided == nil {
		x.collided = map[fpKey]int{}
	}
	x.collided[fpKey{f.Local(), f.Contact, f.Fingerprint}] = i
}

// mergeFingerprints merges the known fingerprints of all sources.
func mergeFingerprints(sources []Source, prefer string) ([]KnownFingerprint, []Conflict) {
	if len(sources) == 1 {
		return sources[0].Model.Fingerprints, nil
	}
	n := 0
	for _, s := range sources {
		n = max(n, len(s.Model.Fingerprints))
	}
	out := make([]KnownFingerprint, 0, n)
	index := newFPIndex(n)
	conflictAt := map[int]int{} // fingerprint index → conflict index
	// A row whose trust comes from another source than the row gets an
	// Origin naming that source and saying whether its trust is coarse
	// (one copy per Origin, source and coarseness).
	type originSource struct {
		o      *Origin
		source string
		coarse bool
	}
	derived := map[originSource]*Origin{}
	trustFrom := func(f *KnownFingerprint, source string, coarse bool) {
		if f.Origin.Source == source && f.Origin.CoarseTrust == coarse {
			return
		}
		k := originSource{f.Origin, source, coarse}
		d := derived[k]
		if d == nil {
			c := *f.Origin
			c.Source = source
			c.CoarseTrust = coarse
			d = &c
			derived[k] = d
		}
		f.Origin = d
	}
	var conflicts []Conflict
	for _, src := range sources {
		for _, f := range src.Model.Fingerprints {
			i, seen := index.find(out, &f)
			if !seen {
				out = append(out, f)
				index.add(out, len(out)-1)
				continue
			}
			e := &out[i]
			switch {
			case f.Trust == "":
				continue
			case e.Trust == "":
				e.Trust = f.Trust
				trustFrom(e, src.Name, f.Origin.CoarseTrust)
				continue
			case f.Origin.CoarseTrust:
				continue // a coarse "verified" adds nothing to a trusted row
			case e.Origin.CoarseTrust:
				// The specific value says more, even when it is "verified"
				// too: the row's trust is no longer coarse.
				e.Trust = f.Trust
				trustFrom(e, src.Name, false)
				continue
			case f.Trust == e.Trust:
				continue
			}
			ci, ok := conflictAt[i]
			if !ok {
				ci = len(conflicts)
				conflictAt[i] = ci
				conflicts = append(conflicts, Conflict{
					Kind: TrustConflict, Account: f.Local(), Contact: f.Contact, Fingerprint: f.Fingerprint,
					Values: []ConflictValue{{Source: e.Origin.Source, Value: string(e.Trust)}},
				})
			}
			c := &conflicts[ci]
			c.Values = append(c.Values, ConflictValue{Source: src.Name, Value: string(f.Trust)})
		}
	}
	for i, ci := range conflictAt {
		c := &conflicts[ci]
		for _, v := range c.Values {
			if v.Source == prefer {
				c.Winner = prefer
				out[i].Trust = Trust(v.Value)
				trustFrom(&out[i], prefer, false) // coarse trust is never a side
			}
		}
	}
	return out, conflicts
}

func containsTag(list []InstanceTag, t InstanceTag) bool {
	for _, x := range list {
		if x == t {
			return true
		}
	}
	return false
}

func indexKey(keys []Key, k PrivateKey) int {
	for i, x := range keys {
		if x.PrivateKey.Equal(k) {
			return i
		}
	}
	return -1
}

func appendUnique(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}
