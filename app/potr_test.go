package app

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/keysync/keysync"
	"github.com/keysync/keysync/internal/peer"
)

// potrFingerprints computes, with Debian's python3-potr, the OTR fingerprint
// of each key given as "y g p q x" in decimal, one per line.
const potrFingerprints = `
import sys
from potr.compatcrypto.pycrypto import DSAKey
for line in sys.stdin:
    y, g, p, q, x = (int(v) for v in line.split())
    print(DSAKey((y, g, p, q, x), private=True).cfingerprint())
`

// TestFingerprintsMatchPotr checks keysync's fingerprint of every valid
// sample key against python3-potr's.
func TestFingerprintsMatchPotr(t *testing.T) {
	python := "/usr/bin/python3" // Debian's python, where python3-potr lives
	if err := exec.Command(python, "-c", "import potr").Run(); err != nil {
		peer.Missing(t, "python3-potr under /usr/bin/python3: "+err.Error())
	}
	var in strings.Builder
	var want []string
	for _, c := range []struct{ app, dir string }{{"pidgin", "pidgin"}, {"adium", "adium"}, {"irssi", "irssi"}} {
		s, _ := read(t, c.app, fixtures+"/"+c.dir)
		for _, la := range s.Accounts {
			for _, k := range la.Keys {
				if k.PrivateKey.Validate() != nil {
					continue
				}
				pk := k.PrivateKey.(*keysync.DSAKey)
				fmt.Fprintf(&in, "%s %s %s %s %s\n", pk.Y, pk.G, pk.P, pk.Q, pk.X)
				want = append(want, pk.Fingerprint().String())
			}
		}
	}
	if len(want) != 5 {
		t.Fatalf("found %d valid sample keys, want 5", len(want))
	}
	cmd := exec.Command(python, "-c", potrFingerprints)
	cmd.Stdin = strings.NewReader(in.String())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("potr: %v\n%s", err, out)
	}
	equal(t, "potr fingerprints", strings.Fields(string(out)), want)
}
