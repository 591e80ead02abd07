package libotr

import (
	"encoding/base64"
	"fmt"
	"io"
	"strconv"

	"github.com/keysync/keysync"
)

func itoa(i int) string { return strconv.Itoa(i) }

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// plainReader hides a reader's Len and Stat methods, so readers get no
// size hint.
type plainReader struct{ io.Reader }

// genRows returns n distinct rows shaped like a big real file: contacts
// with one or two fingerprints under a few accounts, every trust value.
func genRows(n int) []FingerprintRow {
	accounts := []string{"me@example.org/", "me@work.example.com/Laptop", "nick"}
	protocols := []string{"prpl-jabber", "prpl-jabber", "prpl-irc"}
	trusts := []keysync.Trust{"", "verified", "smp", "", "manual", "", "custom trust"}
	rows := make([]FingerprintRow, n)
	for i := range rows {
		r := &rows[i]
		a := (i / 2) % len(accounts)
		r.Username = fmt.Sprintf("contact%07d@chat.example.net", i/2)
		r.Account, r.Protocol = accounts[a], protocols[a]
		x := uint64(i)*0x9e3779b97f4a7c15 + 1
		r.Fingerprint.Kind = keysync.OTRDSA
		for j := range r.Fingerprint.Sum {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			r.Fingerprint.Sum[j] = byte(x)
		}
		r.Trust = trusts[i%len(trusts)]
	}
	return rows
}
