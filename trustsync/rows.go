package trustsync

import (
	"encoding/hex"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/keysync/keysync"
)

// Rows is what one app's store holds, as trustsync rows.
type Rows struct {
	Fprs map[FprID]string
	// Coarse are the fingerprints of Fprs whose store can only say
	// "verified" (keysync.Origin.CoarseTrust): there it stands for any
	// trusted value, so it is no change from smp or manual.
	Coarse map[FprID]bool
	Keys   map[string]map[string]KeyRow // account → fingerprint → key
	PGP    map[string]PGPRow
}

// sameTrust reports whether the app's trust t of fingerprint id says
// what other does: the same value, or, from a store that can only say
// verified, verified for any trusted value.
func (r *Rows) sameTrust(id FprID, t, other string) bool {
	return t == other || r.Coarse[id] && t == string(keysync.Verified) && other != ""
}

// RowsOf returns the rows of a model read from an app: OTR keys and
// fingerprints and OpenPGP keys (public packets and ownertrust; secret
// OpenPGP keys are not synced).
func RowsOf(m *keysync.Model) *Rows {
	r := &Rows{Fprs: map[FprID]string{}, Coarse: map[FprID]bool{}, Keys: map[string]map[string]KeyRow{}, PGP: map[string]PGPRow{}}
	for _, la := range m.Accounts {
		if la.Unmapped != "" {
			continue
		}
		acct := la.Account.String()
		for _, k := range la.Keys {
			dsa, ok := k.PrivateKey.(*keysync.DSAKey)
			if !ok {
				continue
			}
			if r.Keys[acct] == nil {
				r.Keys[acct] = map[string]KeyRow{}
			}
			f := dsa.Fingerprint().String()
			r.Keys[acct][f] = KeyRow{Account: acct, Fpr: f, P: dsa.P.Text(16), Q: dsa.Q.Text(16), G: dsa.G.Text(16),
				Y: dsa.Y.Text(16), X: dsa.X.Text(16)}
		}
	}
	for _, f := range m.Fingerprints {
		if f.Fingerprint.Kind != keysync.OTRDSA || f.Origin == nil {
			continue
		}
		id := FprID{f.Origin.Local.String(), f.Contact, f.Fingerprint.String()}
		r.Fprs[id] = string(f.Trust)
		if f.Origin.CoarseTrust {
			r.Coarse[id] = true
		}
	}
	for _, k := range m.OpenPGPKeys {
		if k.HasSecret || len(k.Public) == 0 {
			continue // own keys stay with the device's own
		}
		r.PGP[k.Fingerprint.String()] = PGPRow{Fpr: k.Fingerprint.String(), UserIDs: k.UserIDs,
			Ownertrust: uint8(k.Ownertrust), Public: k.Public}
	}
	return r
}

// Base is what trustsync last knew of an app: row → value
// ("f\x00account\x00contact\x00fpr" → trust, "p\x00fpr" → ownertrust),
// the value the app and the replica agreed on or the app's value last sent.
// A row whose app value differs from its base was changed in the app; one
// whose replica value differs was changed by the group. Entries
// "s\x00ROW" → sequence number mark rows sent and not yet applied: the
// app's value stands until the group's order has placed it.
type Base map[string]string

func fprBaseKey(id FprID) string         { return "f\x00" + id.Account + "\x00" + id.Contact + "\x00" + id.Fpr }
func pgpBaseKey(fpr string) string       { return "p\x00" + fpr }
func keyBaseKey(acct, fpr string) string { return "k\x00" + acct + "\x00" + fpr }

const pendingPrefix = "s\x00"

// pending reports whether row k was sent in an update not applied yet
// (the own updates up to applied are).
func (b Base) pending(k string, applied uint64) bool {
	v, ok := b[pendingPrefix+k]
	if !ok {
		return false
	}
	n, _ := strconv.ParseUint(v, 10, 64)
	return n > applied
}

// Diff returns the update that sends what the app changed since base. A
// row the app has that base lacks is sent unless the replica has it with
// the same value, or the app's is unverified (unset) and the replica has
// the row: a new app's unverified row does not undo the group's
// verification. A row missing from the app is not a change; a key is sent
// when the replica lacks it.
func Diff(app *Rows, base Base, r *Replica, applied uint64) *Update {
	u := &Update{}
	for id, t := range app.Fprs {
		k := fprBaseKey(id)
		rt, inReplica := r.Fprs[id]
		b, inBase := base[k]
		switch {
		case inBase && app.sameTrust(id, t, b):
			continue
		case !inBase && inReplica && (app.sameTrust(id, t, rt) || t == ""):
			continue
		}
		u.Fprs = append(u.Fprs, FprRow{Account: id.Account, Contact: id.Contact, Fpr: id.Fpr, Trust: t, Add: !inBase && t == ""})
	}
	for acct, m := range app.Keys {
		for f, key := range m {
			if _, ok := r.Keys[acct][f]; !ok && !base.pending(keyBaseKey(acct, f), applied) {
				u.Keys = append(u.Keys, key)
			}
		}
	}
	for f, p := range app.PGP {
		k := pgpBaseKey(f)
		t := strconv.Itoa(int(p.Ownertrust))
		rp, inReplica := r.PGP[f]
		b, inBase := base[k]
		switch {
		case inBase && b == t:
			continue
		case !inBase && inReplica && (rp.Ownertrust == p.Ownertrust || p.Ownertrust == 0):
			continue
		}
		u.PGP = append(u.PGP, p)
	}
	return u
}

// Sent returns base with u's rows as sent in the update numbered seq.
func (b Base) Sent(u *Update, seq uint64) Base {
	n := strconv.FormatUint(seq, 10)
	out := Base{}
	for k, v := range b {
		out[k] = v
	}
	for _, f := range u.Fprs {
		k := fprBaseKey(FprID{f.Account, f.Contact, f.Fpr})
		out[k], out[pendingPrefix+k] = f.Trust, n
	}
	for _, key := range u.Keys {
		out[pendingPrefix+keyBaseKey(key.Account, key.Fpr)] = n
	}
	for _, p := range u.PGP {
		k := pgpBaseKey(p.Fpr)
		out[k], out[pendingPrefix+k] = strconv.Itoa(int(p.Ownertrust)), n
	}
	return out
}

// Project returns m with what the replica holds that the app should take:
// rows the app lacks, values the group changed since base that the app
// did not (and did not send, unapplied yet), and for an account without a
// key the account's key (the only one, or the resolved one; an app's
// existing key is never replaced). It also returns the base that holds
// once the result is written.
func Project(m *keysync.Model, app *Rows, base Base, r *Replica, applied uint64) (*keysync.Model, Base, error) {
	out := *m
	out.Accounts = append([]*keysync.LocalAccount(nil), m.Accounts...)
	out.Fingerprints = append([]keysync.KnownFingerprint(nil), m.Fingerprints...)
	out.OpenPGPKeys = append([]keysync.OpenPGPKey(nil), m.OpenPGPKeys...)
	next := Base{}
	for k, v := range base {
		if strings.HasPrefix(k, pendingPrefix) && base.pending(strings.TrimPrefix(k, pendingPrefix), applied) {
			next[k] = v
		} else if !strings.HasPrefix(k, pendingPrefix) {
			next[k] = v
		}
	}
	origins := map[string]*keysync.Origin{}
	origin := func(acct string) *keysync.Origin {
		if o := origins[acct]; o != nil {
			return o
		}
		p, addr, _ := strings.Cut(acct, ":")
		o := &keysync.Origin{Source: "trustsync", App: "trustsync", Local: keysync.Account{Protocol: p, Address: addr}, Name: addr}
		origins[acct] = o
		return o
	}
	index := map[FprID]int{}
	for i, f := range out.Fingerprints {
		if f.Fingerprint.Kind == keysync.OTRDSA && f.Origin != nil {
			index[FprID{f.Origin.Local.String(), f.Contact, f.Fingerprint.String()}] = i
		}
	}
	for id, rt := range r.Fprs {
		k := fprBaseKey(id)
		at, inApp := app.Fprs[id]
		b, inBase := base[k]
		switch {
		case base.pending(k, applied):
			continue // the app's value is on its way
		case !inApp:
			sum, err := hex.DecodeString(id.Fpr)
			if err != nil || len(sum) != 20 {
				return nil, nil, fmt.Errorf("replica fingerprint %q malformed", id.Fpr)
			}
			o := origin(id.Account)
			out.AddAccount(o.Local)
			out.Fingerprints = append(out.Fingerprints, keysync.KnownFingerprint{Contact: id.Contact,
				Fingerprint: keysync.OTRFingerprint([20]byte(sum)), Trust: keysync.Trust(rt), Origin: o})
		case app.sameTrust(id, at, rt):
		case inBase && !app.sameTrust(id, at, b), !inBase && at != "":
			continue // changed in the app: Diff sends it
		default:
			out.Fingerprints[index[id]].Trust = keysync.Trust(rt)
		}
		next[k] = rt
	}
	for acct := range r.Keys {
		if len(app.Keys[acct]) > 0 {
			continue
		}
		key, ok := r.AccountKey(acct)
		if !ok {
			continue
		}
		dsa, err := key.DSA()
		if err != nil {
			return nil, nil, err
		}
		o := origin(acct)
		la := out.AddAccount(o.Local)
		if la.Unmapped != "" {
			continue
		}
		la.Keys = append(la.Keys, keysync.Key{PrivateKey: dsa, Origin: o})
		la.AddOrigin(o)
	}
	pindex := map[string]int{}
	for i, k := range out.OpenPGPKeys {
		pindex[k.Fingerprint.String()] = i
	}
	for f, rp := range r.PGP {
		k := pgpBaseKey(f)
		t := strconv.Itoa(int(rp.Ownertrust))
		ap, inApp := app.PGP[f]
		b, inBase := base[k]
		switch {
		case base.pending(k, applied):
			continue
		case !inApp:
			if _, held := pindex[f]; held {
				continue // the app holds it with its secret key
			}
			sum, _ := hex.DecodeString(f)
			out.OpenPGPKeys = append(out.OpenPGPKeys, keysync.OpenPGPKey{
				Fingerprint: keysync.Fingerprint{Kind: keysync.OpenPGP, Sum: [20]byte(sum)},
				UserIDs:     rp.UserIDs, Ownertrust: keysync.Ownertrust(rp.Ownertrust), Public: rp.Public})
		case ap.Ownertrust == rp.Ownertrust:
		case inBase && strconv.Itoa(int(ap.Ownertrust)) != b, !inBase && ap.Ownertrust != 0:
			continue
		default:
			out.OpenPGPKeys[pindex[f]].Ownertrust = keysync.Ownertrust(rp.Ownertrust)
		}
		next[k] = t
	}
	return &out, next, nil
}

// DSA returns the key as the model holds it.
func (k KeyRow) DSA() (*keysync.DSAKey, error) {
	var v [5]*big.Int
	for i, s := range []string{k.P, k.Q, k.G, k.Y, k.X} {
		n, ok := new(big.Int).SetString(s, 16)
		if !ok {
			return nil, fmt.Errorf("key of %s: a DSA value is not hex", k.Account)
		}
		v[i] = n
	}
	key := &keysync.DSAKey{P: v[0], Q: v[1], G: v[2], Y: v[3], X: v[4]}
	if key.Fingerprint().String() != k.Fpr {
		return nil, fmt.Errorf("key of %s: fingerprint %s does not match its values", k.Account, k.Fpr)
	}
	return key, nil
}
