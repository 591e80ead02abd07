// Package libotr reads and writes libotr's three files byte for byte: the
// private keys (otr.private_key), the known fingerprints (otr.fingerprints)
// and the instance tags (otr.instance_tags).
//
// Readers report every line libotr would silently skip as an error of the
// form "FILE:LINE: message", except blank lines and the instance tags
// comment line. Writers reproduce libotr's output exactly, so a file written
// by libotr survives a read and a write unchanged.
package libotr

import (
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"

	"github.com/keysync/keysync"
	"github.com/keysync/keysync/internal/excerpt"
	"github.com/keysync/keysync/internal/sexp"
)

// PrivKey is one (account …) block of otr.private_key.
type PrivKey struct {
	Name     string          // account name, bytes as stored after unquoting
	Protocol string          // protocol id as stored, e.g. "prpl-jabber"
	Key      *keysync.DSAKey // Native holds the key's MPIs as stored

	Line int // line of the "(account" in the file, for messages
}

// MPIs are the atoms of a key's p, q, g, y and x exactly as a file stores
// them: libotr keeps leading zero bytes and re-emits what it read. The
// reader puts them in DSAKey.Native; the writer uses each while it still
// encodes the key's value.
type MPIs [5][]byte

// mpiNames are the DSA parameters in the order libotr writes them.
var mpiNames = [5]string{"p", "q", "g", "y", "x"}

// ReadPrivKeys parses an otr.private_key file. It accepts the full
// libgcrypt S-expression syntax and locates name, protocol, private-key and
// the DSA parameters by token, in any order, as libotr does. It does not
// check that the keys are valid DSA keys; see keysync.DSAKey.Validate.
// file names the input in error messages.
func ReadPrivKeys(r io.Reader, file string) ([]PrivKey, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	root, err := sexp.Parse(data)
	if err != nil {
		var se *sexp.Error
		if errors.As(err, &se) {
			return nil, fmt.Errorf("%s:%d: %s", file, se.Line, se.Msg)
		}
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if string(root.Head()) != "privkeys" {
		return nil, fmt.Errorf("%s:%d: file does not start with (privkeys", file, root.Line)
	}
	var keys []PrivKey
	for _, acct := range root.List[1:] {
		k, err := readAccount(acct, file)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, nil
}

func readAccount(acct *sexp.Node, file string) (PrivKey, error) {
	if !acct.IsList || string(acct.Head()) != "account" {
		return PrivKey{}, fmt.Errorf("%s:%d: element of privkeys is not an (account …) list", file, acct.Line)
	}
	k := PrivKey{Line: acct.Line}
	name, err := tokenValue(acct, "name", file)
	if err != nil {
		return k, err
	}
	proto, err := tokenValue(acct, "protocol", file)
	if err != nil {
		return k, err
	}
	k.Name, k.Protocol = string(name), string(proto)
	priv := acct.FindToken("private-key")
	if priv == nil {
		return k, fmt.Errorf("%s:%d: account %s has no (private-key …)", file, acct.Line, excerpt.Quote(k.Name))
	}
	dsa := priv.FindToken("dsa")
	if dsa == nil {
		return k, fmt.Errorf("%s:%d: account %s: private-key has no (dsa …)", file, priv.Line, excerpt.Quote(k.Name))
	}
	key := &keysync.DSAKey{}
	vals := [5]**big.Int{&key.P, &key.Q, &key.G, &key.Y, &key.X}
	var raw MPIs
	for i, n := range mpiNames {
		l := dsa.FindToken(n)
		if l == nil {
			return k, fmt.Errorf("%s:%d: account %s: dsa key has no (%s …)", file, dsa.Line, excerpt.Quote(k.Name), n)
		}
		v := l.Nth(1)
		if v == nil || v.IsList {
			return k, fmt.Errorf("%s:%d: account %s: (%s …) has no number", file, l.Line, excerpt.Quote(k.Name), n)
		}
		raw[i] = v.Atom
		*vals[i] = new(big.Int).SetBytes(v.Atom)
	}
	key.Native = raw
	k.Key = key
	return k, nil
}

// tokenValue returns the second element of the list found by token tok,
// which must be an atom.
func tokenValue(acct *sexp.Node, tok, file string) ([]byte, error) {
	l := acct.FindToken(tok)
	if l == nil {
		return nil, fmt.Errorf("%s:%d: account has no (%s …)", file, acct.Line, tok)
	}
	v := l.Nth(1)
	if v == nil || v.IsList {
		return nil, fmt.Errorf("%s:%d: (%s …) has no value", file, l.Line, tok)
	}
	return v.Atom, nil
}

// WritePrivKeys writes keys in libotr's exact layout. Each MPI is written
// from the key's MPIs (Native) when that decodes (unsigned) to the same
// value as the big.Int, else as minimal two's complement; the atom form
// follows libgcrypt's rules (hex, token or quoted string).
func WritePrivKeys(w io.Writer, keys []PrivKey) error {
	buf := []byte("(privkeys\n")
	for i, k := range keys {
		var err error
		buf, err = appendAccount(buf, k)
		if err != nil {
			return fmt.Errorf("key %d (%s, %s): %w", i+1, excerpt.Quote(k.Name), excerpt.Quote(k.Protocol), err)
		}
	}
	buf = append(buf, ")\n"...)
	_, err := w.Write(buf)
	return err
}

// appendAccount appends one " (account" block as libotr writes it.
func appendAccount(dst []byte, k PrivKey) ([]byte, error) {
	if k.Key == nil {
		return dst, errors.New("no key")
	}
	if strings.IndexByte(k.Name, 0) >= 0 || strings.IndexByte(k.Protocol, 0) >= 0 {
		return dst, errors.New("name or protocol contains a NUL byte, which libotr cannot store")
	}
	vals := [5]*big.Int{k.Key.P, k.Key.Q, k.Key.G, k.Key.Y, k.Key.X}
	raw, _ := k.Key.Native.(MPIs)
	dsa := sexp.List(sexp.Atom([]byte("dsa")))
	for i, v := range vals {
		a, err := mpiAtom(v, raw[i])
		if err != nil {
			return dst, fmt.Errorf("%s: %w", mpiNames[i], err)
		}
		dsa.List = append(dsa.List, sexp.List(sexp.Atom([]byte(mpiNames[i])), sexp.Atom(a)))
	}
	dst = append(dst, " (account\n"...)
	dst = sexp.AppendAdvanced(dst, sexp.List(sexp.Atom([]byte("name")), sexp.Atom([]byte(k.Name))))
	dst = sexp.AppendAdvanced(dst, sexp.List(sexp.Atom([]byte("protocol")), sexp.Atom([]byte(k.Protocol))))
	dst = sexp.AppendAdvanced(dst, sexp.List(sexp.Atom([]byte("private-key")), dsa))
	return append(dst, " )\n"...), nil
}

// mpiAtom returns raw if it encodes v as an unsigned big-endian number,
// else v's minimal two's-complement bytes (libgcrypt's GCRYMPI_FMT_STD).
func mpiAtom(v *big.Int, raw []byte) ([]byte, error) {
	if v == nil {
		return nil, errors.New("missing")
	}
	if v.Sign() < 0 {
		return nil, errors.New("negative")
	}
	if raw != nil && new(big.Int).SetBytes(raw).Cmp(v) == 0 {
		return raw, nil
	}
	b := v.Bytes()
	if len(b) > 0 && b[0]&0x80 != 0 {
		b = append([]byte{0}, b...)
	}
	return b, nil
}
