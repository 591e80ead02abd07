package app

import "github.com/keysync/keysync"

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
