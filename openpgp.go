package keysync

import (
	"bytes"
	"strconv"
)

// OpenPGPFingerprint returns the OpenPGP v4 fingerprint with the given
// SHA-1 sum.
func OpenPGPFingerprint(sum [20]byte) Fingerprint { return Fingerprint{Kind: OpenPGP, Sum: sum} }

// OpenPGPKey is an OpenPGP key as a keyring holds it: the primary key's
// fingerprint, its user IDs, the ownertrust the user gave its owner and
// the key's packets, opaque to the model. A key is identified by its
// fingerprint alone: unlike OTR keys, it belongs to no local account.
type OpenPGPKey struct {
	Fingerprint Fingerprint // of Kind OpenPGP: the primary key's
	UserIDs     []string    // as the keyring lists them, in its order; may be empty
	Ownertrust  Ownertrust
	// Public holds the key's binary OpenPGP packets as gpg --export writes
	// them (RFC 4880 section 11.1). After Merge it may hold the packets of several
	// stores one after the other, which gpg --import merges.
	Public []byte
	// HasSecret says that the store holds the secret key, even when its
	// packets could not be read into Secret (a key on a smartcard, or one
	// that a passphrase protects and nobody could be asked for).
	HasSecret bool
	// Secret holds the key's secret packets as gpg --export-secret-keys
	// writes them (RFC 4880 section 11.2), or nil. It is private key material:
	// never printed, logged or left in a file outside the store.
	Secret []byte
	// Origin names the store the key was read from; for Ownertrust, the
	// store its value was read from (see Merge). Its account fields are
	// empty.
	Origin *Origin
}

// Ownertrust is how far the user trusts the owner of an OpenPGP key to
// certify other keys, as GnuPG's trust database keeps it and
// gpg --export-ownertrust writes it: a level in the low four bits and flags
// above them (such as OwnertrustDisabled). Zero means that no value is set.
type Ownertrust uint8

// Ownertrust levels and flags, as GnuPG numbers them.
const (
	OwnertrustUnset     Ownertrust = 0
	OwnertrustUndefined Ownertrust = 2 // "I don't know or won't say"
	OwnertrustNever     Ownertrust = 3
	OwnertrustMarginal  Ownertrust = 4
	OwnertrustFull      Ownertrust = 5
	OwnertrustUltimate  Ownertrust = 6
	OwnertrustDisabled  Ownertrust = 128 // flag: the user disabled the key
)

// ownertrustLevels are the names of the levels, gpg's own words.
var ownertrustLevels = map[Ownertrust]string{
	OwnertrustUnset: "unset", OwnertrustUndefined: "undefined", OwnertrustNever: "never",
	OwnertrustMarginal: "marginal", OwnertrustFull: "full", OwnertrustUltimate: "ultimate",
}

// String names the level ("full"), with "disabled" and the number of any
// other flag or unknown level after a plus: "full+disabled", "level 9".
func (t Ownertrust) String() string {
	level := t & 15
	s, ok := ownertrustLevels[level]
	if !ok {
		s = "level " + strconv.Itoa(int(level))
	}
	if t&OwnertrustDisabled != 0 {
		s += "+disabled"
	}
	if rest := t &^ (15 | OwnertrustDisabled); rest != 0 {
		s += "+flags " + strconv.Itoa(int(rest))
	}
	return s
}

// openPGPHuman returns the form GnuPG shows: ten groups of four upper-case
// digits, two spaces in the middle.
func openPGPHuman(sum [20]byte) string {
	const upperHex = "0123456789ABCDEF"
	b := make([]byte, 0, 50)
	for i, c := range sum {
		switch {
		case i == 10:
			b = append(b, ' ', ' ')
		case i > 0 && i%2 == 0:
			b = append(b, ' ')
		}
		b = append(b, upperHex[c>>4], upperHex[c&15])
	}
	return string(b)
}

// mergeOpenPGP merges the OpenPGP keys of all sources: one record per
// fingerprint, user IDs and packets joined, ownertrust as Merge says.
func mergeOpenPGP(sources []Source, prefer string) ([]OpenPGPKey, []Conflict) {
	var out []OpenPGPKey
	index := map[Fingerprint]int{}
	conflictAt := map[int]int{}   // key index → conflict index
	var values [][]ownertrustSide // per conflict, each side's value
	var conflicts []Conflict
	for _, src := range sources {
		for _, k := range src.Model.OpenPGPKeys {
			i, seen := index[k.Fingerprint]
			if !seen {
				index[k.Fingerprint] = len(out)
				out = append(out, k)
				continue
			}
			e := &out[i]
			for _, u := range k.UserIDs {
				if !containsString(e.UserIDs, u) {
					e.UserIDs = append(e.UserIDs[:len(e.UserIDs):len(e.UserIDs)], u)
				}
			}
			if !containsBlock(e.Public, k.Public) {
				e.Public = append(e.Public[:len(e.Public):len(e.Public)], k.Public...)
			}
			e.HasSecret = e.HasSecret || k.HasSecret
			if e.Secret == nil {
				e.Secret = k.Secret
			}
			switch {
			case k.Ownertrust == e.Ownertrust || k.Ownertrust == OwnertrustUnset:
				continue
			case e.Ownertrust == OwnertrustUnset:
				e.Ownertrust, e.Origin = k.Ownertrust, k.Origin
				continue
			}
			ci, ok := conflictAt[i]
			if !ok {
				ci = len(conflicts)
				conflictAt[i] = ci
				c := Conflict{Kind: TrustConflict, Fingerprint: e.Fingerprint,
					Values: []ConflictValue{{Source: e.Origin.Source, Value: e.Ownertrust.String()}}}
				if len(e.UserIDs) > 0 {
					c.Contact = e.UserIDs[0]
				}
				conflicts = append(conflicts, c)
				values = append(values, []ownertrustSide{{e.Ownertrust, e.Origin}})
			}
			conflicts[ci].Values = append(conflicts[ci].Values, ConflictValue{Source: src.Name, Value: k.Ownertrust.String()})
			values[ci] = append(values[ci], ownertrustSide{k.Ownertrust, k.Origin})
		}
	}
	for i, ci := range conflictAt {
		for j, v := range conflicts[ci].Values {
			if v.Source == prefer {
				conflicts[ci].Winner = prefer
				out[i].Ownertrust, out[i].Origin = values[ci][j].Ownertrust, values[ci][j].Origin
			}
		}
	}
	return out, conflicts
}

// ownertrustSide is one source's ownertrust of a key in a conflict.
type ownertrustSide struct {
	Ownertrust Ownertrust
	Origin     *Origin
}

// containsBlock reports whether packets b are already among a's, as
// they are when two stores exported the same bytes.
func containsBlock(a, b []byte) bool {
	return bytes.Contains(a, b)
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
