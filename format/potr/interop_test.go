package potr

import (
	"bytes"
	"encoding/hex"
	"math/big"
	"os/exec"
	"strings"
	"testing"

	"github.com/keysync/keysync/internal/peer"
)

// python is Debian's python, where python3-potr lives; the first python3
// on PATH may be another.
const python = "/usr/bin/python3"

func needPotr(t *testing.T) {
	t.Helper()
	if err := exec.Command(python, "-c", "import potr.crypt").Run(); err != nil {
		peer.Missing(t, "python3-potr under "+python+": "+err.Error())
	}
}

// runPotr runs a python script with potr and returns its output lines.
func runPotr(t *testing.T, script, stdin string, args ...string) []string {
	t.Helper()
	cmd := exec.Command(python, append([]string{"-c", script}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("potr: %v\n%s", err, stderr.String())
	}
	return strings.Fields(string(out))
}

// potrGenerate generates keys as potr's DSAKey.generate does and prints,
// per key, the hex of potr's serializePrivateKey() and cfingerprint():
// what Gajim's plugin writes to <account>.key3 and shows. (Debian's
// DSAKey.generate itself fails on the pycryptodome it ships, which no
// longer has the .key attribute it reads; the lines below are its body
// without that attribute.)
const potrGenerate = `
import sys
from Cryptodome.PublicKey import DSA
from potr.compatcrypto.pycrypto import DSAKey
for _ in range(int(sys.argv[1])):
    d = DSA.generate(1024)
    k = DSAKey((d.y, d.g, d.p, d.q, d.x), private=True)
    print(k.serializePrivateKey().hex(), k.cfingerprint())
`

// potrParse reads, per line, the hex of a key file as Gajim's plugin loads
// it (potr.crypt.PK.parsePrivateKey(data)[0]) and prints its fingerprint
// and its serialization by potr.
const potrParse = `
import sys
import potr.crypt
for line in sys.stdin:
    k, rest = potr.crypt.PK.parsePrivateKey(bytes.fromhex(line.strip()))
    print(k.cfingerprint(), k.serializePrivateKey().hex())
`

// TestPotrWritesKeysyncReads: keys potr generates and serializes read in
// keysync as valid keys with potr's fingerprint, and are written back byte
// for byte.
func TestPotrWritesKeysyncReads(t *testing.T) {
	needPotr(t)
	const n = 3
	f := runPotr(t, potrGenerate, "", "3")
	if len(f) != 2*n {
		t.Fatalf("potr printed %d fields, want %d", len(f), 2*n)
	}
	for i := 0; i < n; i++ {
		data, err := hex.DecodeString(f[2*i])
		if err != nil {
			t.Fatal(err)
		}
		k, err := ParsePrivKey(data, "potr.key3")
		if err != nil {
			t.Fatal(err)
		}
		if err := k.Validate(); err != nil {
			t.Errorf("key %d: %v", i, err)
		}
		if got := k.Fingerprint().String(); got != f[2*i+1] {
			t.Errorf("key %d: fingerprint %s, potr says %s", i, got, f[2*i+1])
		}
		k.Native = nil
		again, _ := AppendPrivKey(nil, k)
		if !bytes.Equal(again, data) {
			t.Errorf("key %d: keysync's encoding differs from potr's", i)
		}
	}
}

// TestKeysyncWritesPotrReads: keys keysync writes load in potr as Gajim's
// plugin loads them, with keysync's fingerprint; potr serializes them to
// the same bytes.
func TestKeysyncWritesPotrReads(t *testing.T) {
	needPotr(t)
	k, err := ParsePrivKey(readSample(t), sample)
	if err != nil {
		t.Fatal(err)
	}
	k.Native = nil
	minimal, err := AppendPrivKey(nil, k)
	if err != nil {
		t.Fatal(err)
	}
	// The same key as stored by a writer with leading zeros: potr reads it
	// to the same numbers.
	padded := file(mpi0(k.P), mpi0(k.Q), mpi0(k.G), mpi0(k.Y), mpi0(k.X))
	var in strings.Builder
	for _, b := range [][]byte{minimal, padded} {
		in.WriteString(hex.EncodeToString(b) + "\n")
	}
	got := runPotr(t, potrParse, in.String())
	if len(got) != 4 {
		t.Fatalf("potr printed %q", got)
	}
	for i := 0; i < 2; i++ {
		if got[2*i] != k.Fingerprint().String() {
			t.Errorf("file %d: potr fingerprint %s, keysync %s", i, got[2*i], k.Fingerprint())
		}
		if got[2*i+1] != hex.EncodeToString(minimal) {
			t.Errorf("file %d: potr serializes it differently from keysync", i)
		}
	}
}

// mpi0 is v's MPI with one leading zero byte.
func mpi0(v *big.Int) []byte {
	b := append([]byte{0}, v.Bytes()...)
	return append([]byte{byte(len(b) >> 24), byte(len(b) >> 16), byte(len(b) >> 8), byte(len(b))}, b...)
}
