// Package potr reads and writes python-potr's serialized private key, the
// form Gajim's OTR plugin keeps in <account>.key3 (doc/formats.md §6.5):
// potr's PK.serializePrivateKey(), a 2-byte big-endian key type (0, DSA)
// followed by MPI(p) ‖ MPI(q) ‖ MPI(g) ‖ MPI(y) ‖ MPI(x), each MPI a
// 4-byte big-endian length and that many bytes of an unsigned big-endian
// number.
//
// The plugin's fingerprints file (<account>.fpr) is libotr's
// otr.fingerprints layout and is read and written by package libotr.
package potr

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/big"

	"github.com/keysync/keysync"
)

// TypeDSA is potr's key type of DSA keys, the only type it defines.
const TypeDSA = 0x0000

// MaxFileSize is the largest key file the reader accepts. A 3072-bit key
// (keysync.MaxDSABits) takes about 1.6 KB; potr writes 1024-bit keys of
// 446 bytes.
const MaxFileSize = 64 << 10

// Raw is a key file's bytes as read, kept in DSAKey.Native: the writer
// gives them back unchanged while they still encode the key's values, so
// that MPIs with leading zeros and bytes after the key (which potr
// ignores) survive a round trip.
type Raw []byte

// mpiNames are the key's numbers in the order potr writes them.
var mpiNames = [5]string{"p", "q", "g", "y", "x"}

// ReadPrivKey reads a key file of at most MaxFileSize bytes; file names it
// in errors.
func ReadPrivKey(r io.Reader, file string) (*keysync.DSAKey, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%s: larger than %d bytes: not a potr private key", file, MaxFileSize)
	}
	return ParsePrivKey(data, file)
}

// ParsePrivKey parses a key file's bytes as potr's PK.parsePrivateKey
// does. Bytes after the five MPIs are accepted, as potr ignores them; a
// truncated MPI, which potr would read short, is an error. It does not
// check that the key is a valid DSA key (see keysync.DSAKey.Validate).
func ParsePrivKey(data []byte, file string) (*keysync.DSAKey, error) {
	if len(data) < 2 {
		return nil, fmt.Errorf("%s: %d bytes: too short for a potr private key (2-byte key type and 5 MPIs)", file, len(data))
	}
	if t := binary.BigEndian.Uint16(data); t != TypeDSA {
		return nil, fmt.Errorf("%s: byte 0: key type %#04x, want %#04x (DSA), the only type potr knows", file, t, TypeDSA)
	}
	key := &keysync.DSAKey{}
	vals := [5]**big.Int{&key.P, &key.Q, &key.G, &key.Y, &key.X}
	off := 2
	for i, name := range mpiNames {
		if len(data)-off < 4 {
			return nil, fmt.Errorf("%s: byte %d: MPI %s: file ends before its 4-byte length", file, off, name)
		}
		n := binary.BigEndian.Uint32(data[off:])
		if uint64(n) > uint64(len(data)-off-4) {
			return nil, fmt.Errorf("%s: byte %d: MPI %s: length %d exceeds the %d bytes left", file, off, name, n, len(data)-off-4)
		}
		off += 4
		*vals[i] = new(big.Int).SetBytes(data[off : off+int(n)])
		off += int(n)
	}
	key.Native = Raw(bytes.Clone(data))
	return key, nil
}

// AppendPrivKey appends k in potr's form: the bytes it was read from
// (Native) when they still encode k's values, else minimal MPIs as potr
// writes them.
func AppendPrivKey(dst []byte, k *keysync.DSAKey) ([]byte, error) {
	if k == nil {
		return dst, errors.New("no key")
	}
	vals := [5]*big.Int{k.P, k.Q, k.G, k.Y, k.X}
	for i, v := range vals {
		if v == nil {
			return dst, fmt.Errorf("MPI %s: missing", mpiNames[i])
		}
		if v.Sign() < 0 {
			return dst, fmt.Errorf("MPI %s: negative", mpiNames[i])
		}
	}
	if raw, ok := k.Native.(Raw); ok {
		if old, err := ParsePrivKey(raw, ""); err == nil && old.Equal(k) {
			return append(dst, raw...), nil
		}
	}
	dst = binary.BigEndian.AppendUint16(dst, TypeDSA)
	for _, v := range vals {
		b := v.Bytes()
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(b)))
		dst = append(dst, b...)
	}
	return dst, nil
}
