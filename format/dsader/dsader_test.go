package dsader

import (
	"bytes"
	"errors"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keysync/keysync"
	"github.com/keysync/keysync/internal/peer"
)

// The keys of testdata/fixtures/jitsi/sip-communicator.properties
// (doc/formats.md §11.1, §11.4), with the file's \= escapes undone.
const (
	gtalkPriv  = "MIIBSwIBADCCASwGByqGSM44BAEwggEfAoGBAP1/U4EddRIpUt9KnC7s5Of2EbdSPO9EAMMeP4C2USZpRV1AIlH7WT2NWPq/xfW6MPbLm1Vs14E7gB00b/JmYLdrmVClpJ+f6AR7ECLCT7up1/63xhv4O1fnxqimFQ8E+4P208UewwI1VBNaFpEy9nXzrith1yrv8iIDGZ3RSAHHAhUAl2BQjxUjC8yykrmCouuEC/BYHPUCgYEA9+GghdabPd7LvKtcNrhXuXmUr7v6OuqC+VdMCz0HgmdRWVeOutRZT+ZxBxCBgLRJFnEj6EwoFhO3zwkyjMim4TwWeotUfI0o4KOuHiuzpnWRbqN/C/ohNWLx+2J6ASQ7zKTxvqhRkImog9/hWuWfBpKLZl6Ae1UlZAFMO/7PSSoEFgIUTlH7KnUYRLO2a/36q6d4QbYjm50="
	gtalkPub   = "MIIBuDCCASwGByqGSM44BAEwggEfAoGBAP1/U4EddRIpUt9KnC7s5Of2EbdSPO9EAMMeP4C2USZpRV1AIlH7WT2NWPq/xfW6MPbLm1Vs14E7gB00b/JmYLdrmVClpJ+f6AR7ECLCT7up1/63xhv4O1fnxqimFQ8E+4P208UewwI1VBNaFpEy9nXzrith1yrv8iIDGZ3RSAHHAhUAl2BQjxUjC8yykrmCouuEC/BYHPUCgYEA9+GghdabPd7LvKtcNrhXuXmUr7v6OuqC+VdMCz0HgmdRWVeOutRZT+ZxBxCBgLRJFnEj6EwoFhO3zwkyjMim4TwWeotUfI0o4KOuHiuzpnWRbqN/C/ohNWLx+2J6ASQ7zKTxvqhRkImog9/hWuWfBpKLZl6Ae1UlZAFMO/7PSSoDgYUAAoGBAPlBU1gcvxSwyz/+NkzaSidOnKDAVugDwZzOlAEd2eLOWJ3vmTdKwyAt/QvC4qbBCR8qUOpudctq+0bljj65LbfHBZp/5bLL3Ha1Vie5q8qIAAHWxgyX2XNrdnhFnI3CpxXI94FB2kIArs5PJ4wAAz6uv3d9ZrG5F7jzV0hUe9IM"
	jabberPriv = "MIIBSwIBADCCASwGByqGSM44BAEwggEfAoGBAP1/U4EddRIpUt9KnC7s5Of2EbdSPO9EAMMeP4C2USZpRV1AIlH7WT2NWPq/xfW6MPbLm1Vs14E7gB00b/JmYLdrmVClpJ+f6AR7ECLCT7up1/63xhv4O1fnxqimFQ8E+4P208UewwI1VBNaFpEy9nXzrith1yrv8iIDGZ3RSAHHAhUAl2BQjxUjC8yykrmCouuEC/BYHPUCgYEA9+GghdabPd7LvKtcNrhXuXmUr7v6OuqC+VdMCz0HgmdRWVeOutRZT+ZxBxCBgLRJFnEj6EwoFhO3zwkyjMim4TwWeotUfI0o4KOuHiuzpnWRbqN/C/ohNWLx+2J6ASQ7zKTxvqhRkImog9/hWuWfBpKLZl6Ae1UlZAFMO/7PSSoEFgIUAkEXglStVh3P0tA1OT+V85UcgWw="
	jabberPub  = "MIIBtzCCASwGByqGSM44BAEwggEfAoGBAP1/U4EddRIpUt9KnC7s5Of2EbdSPO9EAMMeP4C2USZpRV1AIlH7WT2NWPq/xfW6MPbLm1Vs14E7gB00b/JmYLdrmVClpJ+f6AR7ECLCT7up1/63xhv4O1fnxqimFQ8E+4P208UewwI1VBNaFpEy9nXzrith1yrv8iIDGZ3RSAHHAhUAl2BQjxUjC8yykrmCouuEC/BYHPUCgYEA9+GghdabPd7LvKtcNrhXuXmUr7v6OuqC+VdMCz0HgmdRWVeOutRZT+ZxBxCBgLRJFnEj6EwoFhO3zwkyjMim4TwWeotUfI0o4KOuHiuzpnWRbqN/C/ohNWLx+2J6ASQ7zKTxvqhRkImog9/hWuWfBpKLZl6Ae1UlZAFMO/7PSSoDgYQAAoGAVlpM/bp+53G8i5WbjxM0eVyiB/pGQ6yQneDQawg32tjYGK4rqoAlTbJEYM0p1hpiXI+1dG3QUqOcHbN0WT+UjOzdgwKqbQ8tqUZctQXJxspu3zDUKvksyRBNU+FnRr+aRJeayVml8NK6poPwfU5QXpKQKmbvI8JuvTEwFdRk4iI="
	hansPub    = "MIIBtjCCASsGByqGSM44BAEwggEeAoGBAIaQ8aS9ZyrLhulUFl80zqdsU1XcYjQ5t+kgi52LSd9J0k4k7RrVeAnHHxcbyF7usVpkD+KG9V5VrUgYRDLZSAsGPcjITQcEqiv1zkJqog9InoPciOv+qVVAwKEwC5tGLEQ8eb9r7O0RQVLg8o7vSTs8yHBg77BDn+0UQsDaTUuTAhUA20hNBdXSrUtNMkkoFgLCNjEQq38CgYARy0ipvVMrbQG8+9rsRk7budGuq78EMVHYX18RgDGpwUG28tmwQTc77Q2plwqvw1ypRK43gdIq6M2SkD3BpBSHFyK4lp8m+YOSOTyA8DZ6TsdXtolfCKVOvoFBk5jN07QtT4FVkmgomAFyIVyX2DoHcnfXGvjEH0ecyh7LkA8nYgOBhAACgYBuKX5DVjpVF/8RqiqDN6RernvCMEjn4OXN6gBNmTZqrJg8Mi/gzOofFe40sZ4TzmGZX1lM3nfkjBpsvNkJ/W4QCDVeSTE90RM3B0ohXEwY2KWQ3QrIQvU33hRyXJYOVX31nQbQRHy1fgWDuEGCM01RUtrCtIdoxm2Fe2qMt4nINg=="
)

func decode(t *testing.T, s string) []byte {
	t.Helper()
	b, err := DecodeBase64(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSampleKeys reads the Jitsi sample's key pairs: the fingerprints of
// doc/formats.md §11.1, y from X.509 equal to g^x, and Marshal giving the
// stored bytes back.
func TestSampleKeys(t *testing.T) {
	for _, c := range []struct{ priv, pub, fp string }{
		{gtalkPriv, gtalkPub, "9e9448fa7bbf7b236936d2cb4808ae91bb39507b"},
		{jabberPriv, jabberPub, "2ec4bc07e1d3e81a5604e75e00c9b03ebe4b7aea"},
	} {
		privDER, pubDER := decode(t, c.priv), decode(t, c.pub)
		k, err := ParsePrivate(privDER)
		if err != nil {
			t.Fatal(err)
		}
		if err := k.Validate(); err != nil {
			t.Error(err)
		}
		pub, err := ParsePublic(pubDER)
		if err != nil {
			t.Fatal(err)
		}
		if pub.Y.Cmp(k.Y) != 0 {
			t.Errorf("%s: y of the X.509 key is not g^x mod p", c.fp)
		}
		if got := k.Fingerprint().String(); got != c.fp {
			t.Errorf("private key fingerprint %s, want %s", got, c.fp)
		}
		if got := pub.Fingerprint().String(); got != c.fp {
			t.Errorf("public key fingerprint %s, want %s", got, c.fp)
		}
		if b, _ := MarshalPrivate(k); !bytes.Equal(b, privDER) {
			t.Errorf("%s: MarshalPrivate differs from the stored PKCS#8", c.fp)
		}
		if b, _ := MarshalPublic(Public(k)); !bytes.Equal(b, pubDER) {
			t.Errorf("%s: MarshalPublic differs from the stored X.509", c.fp)
		}
		if !strings.HasPrefix(k.P.Text(16), "fd7f5381") || !strings.HasPrefix(k.Q.Text(16), "9760508f") {
			t.Errorf("%s: not Java's default DSA parameters", c.fp)
		}
	}
	pub, err := ParsePublic(decode(t, hansPub))
	if err != nil {
		t.Fatal(err)
	}
	if got := pub.Fingerprint().String(); got != "ff66e8c909c4deb51cbd4a02b9e6af4d6af215f8" {
		t.Errorf("hans@eds.org fingerprint %s", got)
	}
}

// TestBad refuses what is not a Java DSA key, with ErrFormat and no secret
// in the message.
func TestBad(t *testing.T) {
	priv := decode(t, gtalkPriv)
	pub := decode(t, gtalkPub)
	sample, err := ParsePrivate(priv)
	if err != nil {
		t.Fatal(err)
	}
	x := sample.X.Text(16) // no error may show it
	trailing := append(append([]byte(nil), priv...), 0)
	wrongOID := bytes.Clone(priv)
	wrongOID[bytes.Index(wrongOID, []byte{0x2a, 0x86, 0x48, 0xce, 0x38})+6] = 2
	version := bytes.Clone(priv)
	version[6] = 1
	cases := map[string]func() error{
		"empty":     func() error { _, err := ParsePrivate(nil); return err },
		"trailing":  func() error { _, err := ParsePrivate(trailing); return err },
		"oid":       func() error { _, err := ParsePrivate(wrongOID); return err },
		"version":   func() error { _, err := ParsePrivate(version); return err },
		"public":    func() error { _, err := ParsePrivate(pub); return err },
		"private":   func() error { _, err := ParsePublic(priv); return err },
		"truncated": func() error { _, err := ParsePublic(pub[:len(pub)-1]); return err },
		"bigP":      func() error { _, err := ParsePublic(mustPub(t, new(big.Int).Lsh(big.NewInt(1), 4000))); return err },
		"x out of (0,q)": func() error {
			k, _ := ParsePrivate(priv)
			k.X = new(big.Int).Add(k.Q, big.NewInt(1))
			b, _ := MarshalPrivate(k)
			_, err := ParsePrivate(b)
			return err
		},
	}
	for name, f := range cases {
		err := f()
		if !errors.Is(err, ErrFormat) {
			t.Errorf("%s: error %v, want ErrFormat", name, err)
			continue
		}
		if strings.Contains(strings.ToLower(err.Error()), x) {
			t.Errorf("%s: the error shows x", name)
		}
	}
	if _, err := DecodeBase64("MII*"); err == nil {
		t.Error("DecodeBase64 took a '*'")
	}
	if b, err := DecodeBase64("TW\nFu\r\n "); err != nil || string(b) != "Man" {
		t.Errorf("DecodeBase64 with white space: %q, %v", b, err)
	}
}

func mustPub(t *testing.T, p *big.Int) []byte {
	b, err := MarshalPublic(&PublicKey{P: p, Q: big.NewInt(7), G: big.NewInt(2), Y: big.NewInt(3)})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// java compiles testdata/DSADER.java in a temporary folder and returns a
// function that runs it.
func java(t *testing.T) func(args ...string) string {
	t.Helper()
	javac := peer.Need(t, "javac")
	javaBin := peer.Need(t, "java")
	dir := t.TempDir()
	src, err := filepath.Abs("testdata/DSADER.java")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(javac, "-d", dir, src).CombinedOutput(); err != nil {
		t.Fatalf("javac: %v\n%s", err, out)
	}
	return func(args ...string) string {
		t.Helper()
		out, err := exec.Command(javaBin, append([]string{"-cp", dir, "DSADER"}, args...)...).Output()
		if err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				os.Stderr.Write(ee.Stderr)
			}
			t.Fatalf("java DSADER %s: %v", args[0], err)
		}
		return string(out)
	}
}

// TestJava: keys Java generates read here with the same values, encode
// back to Java's bytes, and keys encoded here decode in Java's KeyFactory
// to the same values, re-encoding there to the same bytes.
func TestJava(t *testing.T) {
	run := java(t)
	args := []string{"read"}
	var keys []*keysync.DSAKey
	for _, line := range strings.Split(strings.TrimSpace(run("gen", "3")), "\n") {
		f := strings.Fields(line)
		privDER, pubDER := decode(t, f[0]), decode(t, f[1])
		k, err := ParsePrivate(privDER)
		if err != nil {
			t.Fatalf("a key Java generated: %v", err)
		}
		pub, err := ParsePublic(pubDER)
		if err != nil {
			t.Fatalf("a public key Java generated: %v", err)
		}
		if pub.Y.Cmp(k.Y) != 0 {
			t.Error("Java's y is not g^x mod p as computed here")
		}
		if err := k.Validate(); err != nil {
			t.Error(err)
		}
		b1, _ := MarshalPrivate(k)
		b2, _ := MarshalPublic(pub)
		if !bytes.Equal(b1, privDER) || !bytes.Equal(b2, pubDER) {
			t.Error("Marshal does not give Java's bytes back")
		}
		keys = append(keys, k)
	}
	for _, s := range [][2]string{{gtalkPriv, gtalkPub}, {jabberPriv, jabberPub}} {
		k, err := ParsePrivate(decode(t, s[0]))
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	for _, k := range keys {
		b1, err := MarshalPrivate(k)
		if err != nil {
			t.Fatal(err)
		}
		b2, err := MarshalPublic(Public(k))
		if err != nil {
			t.Fatal(err)
		}
		args = append(args, EncodeBase64(b1), EncodeBase64(b2))
	}
	lines := strings.Split(strings.TrimSpace(run(args...)), "\n")
	if len(lines) != len(keys) {
		t.Fatalf("Java read %d keys of %d", len(lines), len(keys))
	}
	for i, k := range keys {
		want := fmt.Sprintf("%x %x %x %x %x true", k.P, k.Q, k.G, k.Y, k.X)
		if lines[i] != want {
			t.Errorf("key %d: Java read\n%s\nwant\n%s", i, lines[i], want)
		}
	}
}

// DER of another structure (here an OCTET STRING where the key's
// SEQUENCE belongs) says so, not with encoding/asn1's dump of Go struct
// tags.
func TestOtherStructureReadably(t *testing.T) {
	_, err := ParsePrivate([]byte{0x04, 0x02, 0xab, 0xcd})
	if err == nil || !errors.Is(err, ErrFormat) || strings.Contains(err.Error(), "class:") || !strings.Contains(err.Error(), "another structure") {
		t.Fatalf("%v", err)
	}
}
