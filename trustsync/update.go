// Package trustsync is the replicated trust store of a device group
// (doc/protocol.md §19): the OTR private keys of the user's accounts, every
// contact fingerprint with its trust, and OpenPGP contact keys with their
// ownertrust, kept on every device in the device store.
//
// Changes travel as trustsync messages of the group, in the channel's one
// order; every device applies the same updates in that order, so the
// replicas converge. A value set later in the order wins (an untrust
// propagates); rows are only ever added or changed, never deleted, because
// a row missing from an app's file says nothing. Two different private
// keys of one account are a conflict: both stay until the user resolves
// it, and the resolution syncs like any update.
//
// A device that joins asks for the replica (a request); one member answers
// with the replica as it stood at the request, in chunks under
// channel.MaxSize, and the joiner replays what it received after its
// request on top.
package trustsync

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Version is the version of the update format.
const Version = 1

// ChunkSize is the most replica bytes (compressed) one snapshot chunk
// carries: sealed (encrypted, base64) it stays under channel.MaxSize.
const ChunkSize = 256 << 10

// maxPayload bounds a decompressed payload.
const maxPayload = 256 << 20

// Update is one trustsync message: changed rows, a request for the
// replica, or a chunk of one. Its encoding is Encode's.
type Update struct {
	V int `json:"v"`
	// From and Seq name an update of rows: the sender's device key and
	// its count of updates sent, so that the sender knows when the group's
	// order has placed its change.
	From    string       `json:"from,omitempty"`
	Seq     uint64       `json:"seq,omitempty"`
	Fprs    []FprRow     `json:"fprs,omitempty"`
	Keys    []KeyRow     `json:"keys,omitempty"`
	PGP     []PGPRow     `json:"pgp,omitempty"`
	Resolve []Resolution `json:"resolve,omitempty"`
	Request *Request     `json:"request,omitempty"`
	Chunk   *Chunk       `json:"chunk,omitempty"`
}

// FprRow is a contact's fingerprint known to a local account, with its
// trust (libotr's value verbatim; "" is unverified).
type FprRow struct {
	Account string `json:"account"` // "protocol:address", canonical
	Contact string `json:"contact"` // canonical
	Fpr     string `json:"fpr"`     // 40 lower-case hex digits (OTR)
	Trust   string `json:"trust"`
	// Add says the row is new to the sender with no trust: it is added
	// if the replica lacks it and changes nothing otherwise, so that an
	// app seen for the first time does not undo a verification.
	Add bool `json:"add,omitempty"`
}

// KeyRow is an OTR DSA private key of a local account. It travels only
// inside the group's encryption and rests only in the device store.
type KeyRow struct {
	Account string `json:"account"`
	Fpr     string `json:"fpr"`
	// P, Q, G, Y, X are the DSA values, big-endian hex.
	P string `json:"p"`
	Q string `json:"q"`
	G string `json:"g"`
	Y string `json:"y"`
	X string `json:"x"`
}

// PGPRow is an OpenPGP contact key: its public packets and ownertrust.
type PGPRow struct {
	Fpr        string   `json:"fpr"` // 40 lower-case hex digits
	UserIDs    []string `json:"uids,omitempty"`
	Ownertrust uint8    `json:"ownertrust"`
	Public     []byte   `json:"public"`
}

// Resolution settles a key conflict: Fpr is the account's key.
type Resolution struct {
	Account string `json:"account"`
	Fpr     string `json:"fpr"`
}

// Request asks a member for the replica. Device is the requester's device
// key; Attempt picks the member that answers (see responder).
type Request struct {
	Device  string `json:"device"`
	Attempt int    `json:"attempt"`
}

// Chunk is part Index (from 0) of Count of the replica sent for a request:
// together, the compressed encoding of an Update holding every row.
type Chunk struct {
	For     string `json:"for"` // the requester's device key
	Attempt int    `json:"attempt"`
	Index   int    `json:"index"`
	Count   int    `json:"count"`
	Data    []byte `json:"data"`
}

// Encode returns u's payload: gzip-compressed JSON.
func Encode(u *Update) ([]byte, error) {
	u.V = Version
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := json.NewEncoder(zw).Encode(u); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Decode reads and checks a payload.
func Decode(p []byte) (*Update, error) {
	zr, err := gzip.NewReader(bytes.NewReader(p))
	if err != nil {
		return nil, fmt.Errorf("trustsync payload: %w", err)
	}
	b, err := io.ReadAll(io.LimitReader(zr, maxPayload+1))
	if err != nil {
		return nil, fmt.Errorf("trustsync payload: %w", err)
	}
	if len(b) > maxPayload {
		return nil, fmt.Errorf("trustsync payload: more than %d bytes", maxPayload)
	}
	var u Update
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&u); err != nil {
		return nil, fmt.Errorf("trustsync payload: %w", err)
	}
	if u.V != Version {
		return nil, fmt.Errorf("trustsync payload: version %d, want %d", u.V, Version)
	}
	return &u, u.check()
}

// check refuses rows that name no account, contact or fingerprint.
func (u *Update) check() error {
	for i, r := range u.Fprs {
		if !validAccount(r.Account) || r.Contact == "" || !hex40(r.Fpr) {
			return fmt.Errorf("trustsync payload: fprs[%d]: account, contact or fingerprint missing or malformed", i)
		}
	}
	for i, r := range u.Keys {
		if !validAccount(r.Account) || !hex40(r.Fpr) || r.P == "" || r.Q == "" || r.G == "" || r.Y == "" || r.X == "" {
			return fmt.Errorf("trustsync payload: keys[%d]: malformed", i)
		}
	}
	for i, r := range u.PGP {
		if !hex40(r.Fpr) || len(r.Public) == 0 {
			return fmt.Errorf("trustsync payload: pgp[%d]: malformed", i)
		}
	}
	for i, r := range u.Resolve {
		if !validAccount(r.Account) || !hex40(r.Fpr) {
			return fmt.Errorf("trustsync payload: resolve[%d]: malformed", i)
		}
	}
	if c := u.Chunk; c != nil && (c.Count < 1 || c.Index < 0 || c.Index >= c.Count || c.For == "") {
		return errors.New("trustsync payload: chunk: index or count out of range")
	}
	if r := u.Request; r != nil && (r.Device == "" || r.Attempt < 0) {
		return errors.New("trustsync payload: request: no device")
	}
	return nil
}

func validAccount(a string) bool {
	p, addr, ok := strings.Cut(a, ":")
	return ok && p != "" && addr != ""
}

func hex40(s string) bool {
	if len(s) != 40 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// empty reports whether u changes no row.
func (u *Update) empty() bool {
	return len(u.Fprs) == 0 && len(u.Keys) == 0 && len(u.PGP) == 0 && len(u.Resolve) == 0
}
