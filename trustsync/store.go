package trustsync

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// The replica lives in bucket "trustsync" of the device store, one
// sub-bucket per kind of row; each applied update is one transaction of
// the device, with its channel position.
var (
	rootBucket = []byte("trustsync")
	bFprs      = []byte("fprs")     // account \x00 contact \x00 fpr → trust
	bKeys      = []byte("keys")     // account \x00 fpr → KeyRow JSON
	bPGP       = []byte("pgp")      // fpr → PGPRow JSON
	bResolved  = []byte("resolved") // account → fpr
	bBuffer    = []byte("buffer")   // sequence → payload received while waiting for the replica
	bChunks    = []byte("chunks")   // index → chunk data
	bMeta      = []byte("meta")     // the keys below
	bBases     = []byte("bases")    // app source → base JSON (what was last read from or written to it)
	bAppState  = []byte("apps")     // app source → AppStatus JSON
	bBackups   = []byte("backups")  // file path → the backup trustsync's last write of it made
)

const (
	metaSynced  = "synced"  // "1" once the device holds the group's replica
	metaWaiting = "waiting" // the attempt of the own pending request, decimal
	metaApplied = "applied" // Seq of the last own update applied, decimal
	metaSent    = "sent"    // Seq of the last own update sent, decimal
)

// Replica is the group's trust as one device holds it.
type Replica struct {
	Fprs     map[FprID]string             // trust of each fingerprint row
	Keys     map[string]map[string]KeyRow // account → fingerprint → key
	PGP      map[string]PGPRow
	Resolved map[string]string // account → the key the user chose
}

// FprID names a fingerprint row.
type FprID struct{ Account, Contact, Fpr string }

// NewReplica returns an empty replica.
func NewReplica() *Replica {
	return &Replica{Fprs: map[FprID]string{}, Keys: map[string]map[string]KeyRow{}, PGP: map[string]PGPRow{},
		Resolved: map[string]string{}}
}

// Rows returns how many rows r holds: fingerprints, keys, OpenPGP keys.
func (r *Replica) Rows() (fprs, keys, pgp int) {
	for _, m := range r.Keys {
		keys += len(m)
	}
	return len(r.Fprs), keys, len(r.PGP)
}

// Conflict is an account with more than one private key and no resolution
// among them.
type Conflict struct {
	Account string   `json:"account"`
	Fprs    []string `json:"fingerprints"`
}

// Conflicts returns the open key conflicts, sorted by account.
func (r *Replica) Conflicts() []Conflict {
	out := []Conflict{}
	for acct, m := range r.Keys {
		if len(m) < 2 {
			continue
		}
		if _, ok := m[r.Resolved[acct]]; ok {
			continue
		}
		c := Conflict{Account: acct}
		for f := range m {
			c.Fprs = append(c.Fprs, f)
		}
		sort.Strings(c.Fprs)
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Account < out[j].Account })
	return out
}

// AccountKey returns the key an app lacking one gets for acct: the only
// key, or the resolved one; none while a conflict is open.
func (r *Replica) AccountKey(acct string) (KeyRow, bool) {
	m := r.Keys[acct]
	if k, ok := m[r.Resolved[acct]]; ok {
		return k, true
	}
	if len(m) == 1 {
		for _, k := range m {
			return k, true
		}
	}
	return KeyRow{}, false
}

// Equal reports whether r and s hold the same rows.
func (r *Replica) Equal(s *Replica) bool {
	a, _ := json.Marshal(r.update())
	b, _ := json.Marshal(s.update())
	return string(a) == string(b)
}

// apply sets u's rows in r.
func (r *Replica) apply(u *Update) {
	for _, f := range u.Fprs {
		id := FprID{f.Account, f.Contact, f.Fpr}
		if _, ok := r.Fprs[id]; ok && f.Add {
			continue
		}
		r.Fprs[id] = f.Trust
	}
	for _, k := range u.Keys {
		if r.Keys[k.Account] == nil {
			r.Keys[k.Account] = map[string]KeyRow{}
		}
		r.Keys[k.Account][k.Fpr] = k
	}
	for _, p := range u.PGP {
		r.PGP[p.Fpr] = p
	}
	for _, x := range u.Resolve {
		r.Resolved[x.Account] = x.Fpr
	}
}

// update returns every row of r as one Update, sorted.
func (r *Replica) update() *Update {
	u := &Update{V: Version}
	for id, t := range r.Fprs {
		u.Fprs = append(u.Fprs, FprRow{Account: id.Account, Contact: id.Contact, Fpr: id.Fpr, Trust: t})
	}
	slices.SortFunc(u.Fprs, func(a, b FprRow) int {
		return strings.Compare(a.Account+"\x00"+a.Contact+"\x00"+a.Fpr, b.Account+"\x00"+b.Contact+"\x00"+b.Fpr)
	})
	for _, m := range r.Keys {
		for _, k := range m {
			u.Keys = append(u.Keys, k)
		}
	}
	slices.SortFunc(u.Keys, func(a, b KeyRow) int { return strings.Compare(a.Account+a.Fpr, b.Account+b.Fpr) })
	for _, p := range r.PGP {
		u.PGP = append(u.PGP, p)
	}
	slices.SortFunc(u.PGP, func(a, b PGPRow) int { return strings.Compare(a.Fpr, b.Fpr) })
	for a, f := range r.Resolved {
		u.Resolve = append(u.Resolve, Resolution{a, f})
	}
	slices.SortFunc(u.Resolve, func(a, b Resolution) int { return strings.Compare(a.Account, b.Account) })
	return u
}

// root returns the trustsync bucket, making it in a writable transaction.
func root(tx *bolt.Tx) (*bolt.Bucket, error) {
	if !tx.Writable() {
		b := tx.Bucket(rootBucket)
		if b == nil {
			return nil, nil
		}
		return b, nil
	}
	b, err := tx.CreateBucketIfNotExists(rootBucket)
	if err != nil {
		return nil, err
	}
	for _, name := range [][]byte{bFprs, bKeys, bPGP, bResolved, bBuffer, bChunks, bMeta, bBases, bAppState, bBackups} {
		if _, err := b.CreateBucketIfNotExists(name); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// Load reads the replica from the store.
func Load(tx *bolt.Tx) (*Replica, error) {
	b, err := root(tx)
	if err != nil || b == nil {
		return NewReplica(), err
	}
	return loadFrom(b)
}

// loadFrom reads the replica from the trustsync bucket b.
func loadFrom(b *bolt.Bucket) (*Replica, error) {
	r := NewReplica()
	err := b.Bucket(bFprs).ForEach(func(k, v []byte) error {
		parts := strings.Split(string(k), "\x00")
		if len(parts) != 3 {
			return fmt.Errorf("trustsync store: fingerprint row %q malformed", k)
		}
		r.Fprs[FprID{parts[0], parts[1], parts[2]}] = string(v)
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = b.Bucket(bKeys).ForEach(func(_, v []byte) error {
		var k KeyRow
		if err := json.Unmarshal(v, &k); err != nil {
			return fmt.Errorf("trustsync store: key: %w", err)
		}
		if r.Keys[k.Account] == nil {
			r.Keys[k.Account] = map[string]KeyRow{}
		}
		r.Keys[k.Account][k.Fpr] = k
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = b.Bucket(bPGP).ForEach(func(_, v []byte) error {
		var p PGPRow
		if err := json.Unmarshal(v, &p); err != nil {
			return fmt.Errorf("trustsync store: openpgp key: %w", err)
		}
		r.PGP[p.Fpr] = p
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = b.Bucket(bResolved).ForEach(func(k, v []byte) error {
		r.Resolved[string(k)] = string(v)
		return nil
	})
	return r, err
}

// write stores u's rows.
func write(b *bolt.Bucket, u *Update) error {
	fb, kb, pb, rb := b.Bucket(bFprs), b.Bucket(bKeys), b.Bucket(bPGP), b.Bucket(bResolved)
	for _, f := range u.Fprs {
		k := []byte(f.Account + "\x00" + f.Contact + "\x00" + f.Fpr)
		if f.Add && fb.Get(k) != nil {
			continue
		}
		if err := fb.Put(k, []byte(f.Trust)); err != nil {
			return err
		}
	}
	for _, k := range u.Keys {
		v, _ := json.Marshal(k)
		if err := kb.Put([]byte(k.Account+"\x00"+k.Fpr), v); err != nil {
			return err
		}
	}
	for _, p := range u.PGP {
		v, _ := json.Marshal(p)
		if err := pb.Put([]byte(p.Fpr), v); err != nil {
			return err
		}
	}
	for _, x := range u.Resolve {
		if err := rb.Put([]byte(x.Account), []byte(x.Fpr)); err != nil {
			return err
		}
	}
	return nil
}

// clearRows empties the row buckets, before a snapshot replaces them.
func clearRows(b *bolt.Bucket) error {
	for _, name := range [][]byte{bFprs, bKeys, bPGP, bResolved} {
		if err := b.DeleteBucket(name); err != nil {
			return err
		}
		if _, err := b.CreateBucket(name); err != nil {
			return err
		}
	}
	return nil
}

func clearBucket(b *bolt.Bucket, name []byte) error {
	if err := b.DeleteBucket(name); err != nil {
		return err
	}
	_, err := b.CreateBucket(name)
	return err
}

func seqKey(n uint64) []byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], n)
	return k[:]
}
