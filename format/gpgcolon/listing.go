// Package gpgcolon reads what gpg prints for programs: key listings of
// gpg --with-colons --fixed-list-mode (GnuPG's doc/DETAILS), the lines of
// gpg --export-ownertrust, and binary key exports (RFC 4880 packets), which
// it splits into one block per key. It writes the ownertrust lines that
// gpg --import-ownertrust reads. It knows bytes only: running gpg is
// package app's business.
package gpgcolon

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/keysync/keysync/internal/excerpt"
)

// MaxLine is the longest line a listing or ownertrust reader accepts. A
// user ID packet is far shorter in practice; GnuPG caps them at 2 KB.
const MaxLine = 64 << 10

// MaxUserIDs is the most user IDs a listing may give one key.
const MaxUserIDs = 1024

// Key is one primary key of a listing: a pub or sec record and the records
// after it up to the next key.
type Key struct {
	Line int // the line of the pub or sec record
	// Fingerprint is the primary key's v4 fingerprint, unless Unsupported
	// says why there is none.
	Fingerprint [20]byte
	// Unsupported says why the key has no v4 fingerprint (a v3 key's 32
	// digits, a v5 key's 64), or is "".
	Unsupported string
	Secret      bool // a sec record
	// Token is the sec record's field 15: "+" when the secret key is
	// there, "#" for a stub without it, or a smartcard's serial number.
	Token   string
	UserIDs []string // uid records, unescaped, in order (uat records are left out)
}

// SecretAvailable reports whether the listing says the secret key itself
// is in the keyring (not a stub, not on a card).
func (k *Key) SecretAvailable() bool { return k.Secret && k.Token == "+" }

// ParseListing reads a listing of gpg --with-colons --fixed-list-mode
// --with-fingerprint (--list-keys or --list-secret-keys). Records it does
// not need (tru, sub, ssb, grp, sig, …) are skipped; a uid or fpr record
// before any key is an error naming the line.
func ParseListing(r io.Reader) ([]Key, error) {
	var keys []Key
	var cur *Key
	// wantFpr is set after a pub or sec record: the next fpr record is the
	// primary key's.
	wantFpr := false
	err := eachLine(r, func(n int, line string) error {
		f := strings.Split(line, ":")
		switch f[0] {
		case "pub", "sec":
			if wantFpr {
				return fmt.Errorf("line %d: key of line %d has no fingerprint", n, cur.Line)
			}
			keys = append(keys, Key{Line: n, Secret: f[0] == "sec"})
			cur = &keys[len(keys)-1]
			if len(f) > 14 {
				cur.Token = f[14]
			}
			wantFpr = true
		case "sub", "ssb":
			if cur == nil {
				return fmt.Errorf("line %d: %s record before any key", n, f[0])
			}
			if wantFpr {
				return fmt.Errorf("line %d: key of line %d has no fingerprint", n, cur.Line)
			}
		case "fpr":
			if cur == nil {
				return fmt.Errorf("line %d: fpr record before any key", n)
			}
			if !wantFpr {
				return nil // a subkey's
			}
			wantFpr = false
			if len(f) < 10 {
				return fmt.Errorf("line %d: fpr record has %d fields, want at least 10", n, len(f))
			}
			return cur.setFingerprint(n, f[9])
		case "uid":
			if cur == nil {
				return fmt.Errorf("line %d: uid record before any key", n)
			}
			if len(f) < 10 {
				return fmt.Errorf("line %d: uid record has %d fields, want at least 10", n, len(f))
			}
			if len(cur.UserIDs) == MaxUserIDs {
				return fmt.Errorf("line %d: key of line %d has more than %d user IDs", n, cur.Line, MaxUserIDs)
			}
			uid, err := Unescape(f[9])
			if err != nil {
				return fmt.Errorf("line %d: user ID: %w", n, err)
			}
			cur.UserIDs = append(cur.UserIDs, uid)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if wantFpr {
		return nil, fmt.Errorf("key of line %d has no fingerprint", cur.Line)
	}
	return keys, nil
}

func (k *Key) setFingerprint(n int, s string) error {
	sum, err := hex.DecodeString(s)
	switch {
	case err != nil:
		return fmt.Errorf("line %d: fingerprint %s is not hex digits", n, excerpt.Quote(s))
	case len(sum) == len(k.Fingerprint):
		copy(k.Fingerprint[:], sum)
	case len(sum) == 16:
		k.Unsupported = "a v3 key (16-byte fingerprint)"
	case len(sum) == 32:
		k.Unsupported = "a v5 key (32-byte fingerprint)"
	default:
		return fmt.Errorf("line %d: fingerprint of %d digits", n, len(s))
	}
	return nil
}

// Unescape undoes the C-style escapes of a colon listing's field: \xHH for
// a byte (\x3a for the colon, \x5c for the backslash). A backslash not
// followed by x and two hex digits is an error.
func Unescape(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		if i+4 > len(s) || s[i+1] != 'x' {
			return "", fmt.Errorf("bad escape at byte %d", i)
		}
		v, err := hex.DecodeString(s[i+2 : i+4])
		if err != nil {
			return "", fmt.Errorf("bad escape at byte %d", i)
		}
		b.WriteByte(v[0])
		i += 3
	}
	return b.String(), nil
}

// eachLine calls fn with each line of r and its number, without the line
// ending, and stops at fn's first error. A line longer than MaxLine is an
// error.
func eachLine(r io.Reader, fn func(n int, line string) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), MaxLine)
	n := 0
	for sc.Scan() {
		n++
		if err := fn(n, strings.TrimSuffix(sc.Text(), "\r")); err != nil {
			return err
		}
	}
	if errors.Is(sc.Err(), bufio.ErrTooLong) {
		return fmt.Errorf("line %d: longer than %d bytes", n+1, MaxLine)
	}
	return sc.Err()
}

// Ownertrust is one line of gpg --export-ownertrust: a key's v4
// fingerprint and GnuPG's ownertrust value for it (see
// keysync.Ownertrust).
type Ownertrust struct {
	Line        int // in the input; 0 for a value to write
	Fingerprint [20]byte
	Value       uint8
}

// ParseOwnertrust reads the lines of gpg --export-ownertrust: comments
// (#), empty lines, and FINGERPRINT:VALUE: lines. Lines of keys without a
// v4 fingerprint (v3's 32 digits, v5's 64) are skipped and counted in
// skipped.
func ParseOwnertrust(r io.Reader) (values []Ownertrust, skipped int, err error) {
	err = eachLine(r, func(n int, line string) error {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			return nil
		}
		fp, rest, ok := strings.Cut(line, ":")
		value, tail, ok2 := strings.Cut(rest, ":")
		if !ok || !ok2 || strings.TrimSpace(tail) != "" {
			return fmt.Errorf("line %d: %s is not a FINGERPRINT:VALUE: line", n, excerpt.Quote(line))
		}
		sum, err := hex.DecodeString(fp)
		switch {
		case err != nil:
			return fmt.Errorf("line %d: fingerprint %s is not hex digits", n, excerpt.Quote(fp))
		case len(sum) == 16 || len(sum) == 32:
			skipped++
			return nil
		case len(sum) != 20:
			return fmt.Errorf("line %d: fingerprint of %d digits", n, len(fp))
		}
		v := 0
		for _, c := range []byte(value) {
			if c < '0' || c > '9' || v > 255 {
				return fmt.Errorf("line %d: ownertrust %s is not a number from 0 to 255", n, excerpt.Quote(value))
			}
			v = v*10 + int(c-'0')
		}
		if value == "" || v > 255 {
			return fmt.Errorf("line %d: ownertrust %s is not a number from 0 to 255", n, excerpt.Quote(value))
		}
		o := Ownertrust{Line: n, Value: uint8(v)}
		copy(o.Fingerprint[:], sum)
		values = append(values, o)
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return values, skipped, nil
}

// AppendOwnertrust appends the lines gpg --import-ownertrust reads for
// values: upper-case fingerprint, the value, a colon, a line feed.
func AppendOwnertrust(b []byte, values []Ownertrust) []byte {
	for _, o := range values {
		b = append(b, bytes.ToUpper([]byte(hex.EncodeToString(o.Fingerprint[:])))...)
		b = fmt.Appendf(b, ":%d:\n", o.Value)
	}
	return b
}
