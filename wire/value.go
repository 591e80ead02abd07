package wire

import (
	"errors"
	"strconv"
	"unicode/utf8"
)

// Constraints of the PEP module.
const (
	minHash    = 16   // Hash: SIZE(16..128)
	maxHash    = 128  //
	maxPString = 1024 // PString: SIZE(0..1024), counted in octets here
)

// FieldError reports a field that cannot be encoded or decoded. Field is
// the path of ASN.1 identifiers from the message, such as
// "groupKeysUpdate.ownIdentities[0].fpr". It never contains the value.
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return "wire: " + e.Field + ": " + e.Err.Error() }

// Unwrap returns the underlying error.
func (e *FieldError) Unwrap() error { return e.Err }

// within prefixes err's path with name (a field, or "[i]" for an element).
func within(err error, name string) error {
	var fe *FieldError
	if errors.As(err, &fe) {
		if len(fe.Field) > 0 && fe.Field[0] == '[' {
			fe.Field = name + fe.Field
		} else {
			fe.Field = name + "." + fe.Field
		}
		return fe
	}
	return &FieldError{name, err}
}

func index(i int) string { return "[" + strconv.Itoa(i) + "]" }

var (
	errHashLen    = errors.New("hash length not in 16..128")
	errHashChar   = errors.New("hash is not upper-case hex")
	errPStringLen = errors.New("string longer than 1024 octets")
	errUTF8       = errors.New("invalid UTF-8")
	errLang       = errors.New("language is not two lower-case letters")
	errRating     = errors.New("unknown rating")
	errExtension  = errors.New("extension additions not supported")
	errChoice     = errors.New("unknown alternative")
	errMissing    = errors.New("missing value")
)

const hexDigits = "0123456789ABCDEF"

// hexIndex maps an upper-case hex digit to its value, others to 0xFF.
var hexIndex = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xFF
	}
	for i := 0; i < 16; i++ {
		t[hexDigits[i]] = byte(i)
	}
	return
}()

func checkHash(s string) error {
	if len(s) < minHash || len(s) > maxHash {
		return errHashLen
	}
	for i := 0; i < len(s); i++ {
		if hexIndex[s[i]] == 0xFF {
			return errHashChar
		}
	}
	return nil
}

func checkPString(s string) error {
	if len(s) > maxPString {
		return errPStringLen
	}
	if !utf8.ValidString(s) {
		return errUTF8
	}
	return nil
}

func checkLang(s string) error {
	if len(s) != 2 || s[0] < 'a' || s[0] > 'z' || s[1] < 'a' || s[1] > 'z' {
		return errLang
	}
	return nil
}

// ratings lists the root values of Rating sorted by value: the UPER index.
var ratings = [...]Rating{
	RatingUnderAttack, RatingB0rken, RatingMistrust, RatingCannotDecrypt,
	RatingHaveNoKey, RatingUnencrypted, RatingUnreliable, RatingReliable,
	RatingTrusted, RatingTrustedAndAnonymized, RatingFullyAnonymous,
}

var ratingNames = [...]string{
	"under-attack", "b0rken", "mistrust", "cannot-decrypt", "have-no-key",
	"unencrypted", "unreliable", "reliable", "trusted",
	"trusted-and-anonymized", "fully-anonymous",
}

func ratingIndex(r Rating) int {
	for i, v := range ratings {
		if v == r {
			return i
		}
	}
	return -1
}

// String returns the ASN.1 name of r, such as "reliable".
func (r Rating) String() string {
	if i := ratingIndex(r); i >= 0 {
		return ratingNames[i]
	}
	return "Rating(" + strconv.Itoa(int(r)) + ")"
}

// Check reports a Version whose major number keysync does not speak
// (doc/protocol.md D8): any major other than 1. Minor versions are accepted.
func (v Version) Check() error {
	if v.Major != 1 {
		return errors.New("wire: unsupported major version " + strconv.Itoa(int(v.Major)))
	}
	return nil
}
