package app

import (
	"crypto/rand"

	"github.com/keysync/keysync"
	"github.com/keysync/keysync/format/ofcaes"
)

// SecretWriter is an App whose store is encrypted with a password that
// the user gives or keysync makes (ChatSecure's exchange file). Its Write
// refuses to write without one; Location.Write passes Location.Password.
type SecretWriter interface {
	App
	// WriteSecret plans like Write, encrypting with password. It keeps
	// no copy of password and never includes it in errors or notices.
	WriteSecret(dir, source string, m *keysync.Model, password []byte) (Plan, []Notice, error)
}

// Write plans writing m into the store l: for a SecretWriter with a
// Password, encrypted with it.
func (l Location) Write(m *keysync.Model) (Plan, []Notice, error) {
	if sw, ok := l.App.(SecretWriter); ok && l.Password != nil {
		return sw.WriteSecret(l.Dir, l.Name, m, l.Password)
	}
	return l.App.Write(l.Dir, l.Name, m)
}

// Encrypted reports whether any store of tos is encrypted when written:
// its App is a SecretWriter.
func Encrypted(tos []Location) bool {
	for _, t := range tos {
		if _, ok := t.App.(SecretWriter); ok {
			return true
		}
	}
	return false
}

// SetPassword gives every encrypted store of tos the password pw or, when
// pw is nil, a fresh one (ofcaes.NewPassword: 44 base64 characters of 32
// random bytes), which it returns for the user to carry to the device.
func SetPassword(tos []Location, pw []byte) (made []byte, err error) {
	if !Encrypted(tos) {
		return nil, nil
	}
	if pw == nil {
		if made, err = ofcaes.NewPassword(rand.Reader); err != nil {
			return nil, err
		}
		pw = made
	}
	for i := range tos {
		if _, ok := tos[i].App.(SecretWriter); ok {
			tos[i].Password = pw
		}
	}
	return made, nil
}
