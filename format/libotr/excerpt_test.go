package libotr

import (
	"bytes"
	"strings"
	"testing"

	"github.com/keysync/keysync"
)

// A 50 MB account name gave a 52 MB error line; every message quoting a
// name or protocol is cut short.
func TestPrivKeyErrorsQuoteAShortName(t *testing.T) {
	name := strings.Repeat("n", 50<<20)
	for _, body := range []string{
		`(protocol prpl-jabber)`,
		`(protocol prpl-jabber) (private-key (x))`,
		`(protocol prpl-jabber) (private-key (dsa (p #01#)))`,
		`(protocol prpl-jabber) (private-key (dsa (p (q)) (q #01#) (g #01#) (y #01#) (x #01#)))`,
	} {
		in := `(privkeys (account (name "` + name + `") ` + body + `))`
		_, err := ReadPrivKeys(strings.NewReader(in), "f")
		if err == nil || len(err.Error()) > 200 {
			t.Errorf("%s: error of %d bytes", body, len(errString(err)))
		}
	}
	k := PrivKey{Name: name + "\x00", Protocol: name, Key: &keysync.DSAKey{}}
	err := WritePrivKeys(&bytes.Buffer{}, []PrivKey{k})
	if err == nil || len(err.Error()) > 300 {
		t.Errorf("WritePrivKeys: error of %d bytes", len(errString(err)))
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
