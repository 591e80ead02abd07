package ofcaes

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/keysync/keysync/internal/peer"
)

// samplePassword is the documented password of the sample (doc/formats.md §11.4).
const samplePassword = "6QpT40Omhp6YRX73BzxnPlSvvr7ZsPP6VaS4aqWOyqE="

const samplePath = "../../testdata/fixtures/chatsecure/otr_keystore.ofcaes"

func TestDecryptSample(t *testing.T) {
	data, err := os.ReadFile(samplePath)
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(data[8:16]); got != "89be1fd71eda1f25" {
		t.Errorf("salt %s", got)
	}
	plain, err := Decrypt(data, []byte(samplePassword))
	if err != nil {
		t.Fatal(err)
	}
	if len(plain) != 3861 {
		t.Errorf("plaintext has %d bytes, want 3861", len(plain))
	}
	if !bytes.HasPrefix(plain, []byte("#\n#Tue Jun 24 13:11:12 EDT 2014\n")) {
		t.Errorf("plaintext starts %q", plain[:40])
	}
	// The armored form decrypts the same.
	armored := base64.StdEncoding.EncodeToString(data)
	var wrapped strings.Builder
	for len(armored) > 64 {
		wrapped.WriteString(armored[:64] + "\n")
		armored = armored[64:]
	}
	wrapped.WriteString(armored + "\n")
	plain2, err := Decrypt([]byte(wrapped.String()), []byte(samplePassword))
	if err != nil || !bytes.Equal(plain, plain2) {
		t.Errorf("armored: %v, equal %v", err, bytes.Equal(plain, plain2))
	}
}

func TestWrongPassword(t *testing.T) {
	data, err := os.ReadFile(samplePath)
	if err != nil {
		t.Fatal(err)
	}
	// This wrong password happens to give invalid padding (about 255 in
	// 256 do); the caller's properties check covers the rest.
	for _, pw := range []string{"not-it", samplePassword + "\n", strings.ToLower(samplePassword)} {
		_, err := Decrypt(data, []byte(pw))
		if !errors.Is(err, ErrWrongPassword) {
			t.Errorf("password %q: %v, want ErrWrongPassword", pw, err)
		}
		if err != nil && strings.Contains(err.Error(), pw) {
			t.Errorf("error %q holds the password", err)
		}
	}
}

func TestDecryptMalformed(t *testing.T) {
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "not an encrypted keystore"},
		{"plaintext", []byte("a.privateKey=MII\n"), "not an encrypted keystore"},
		{"header only", []byte("Salted__12345678"), "not a positive multiple"},
		{"short salt", []byte("Salted__1234"), "too short"},
		{"truncated", []byte("Salted__12345678" + strings.Repeat("x", 20)), "not a positive multiple"},
	} {
		_, err := Decrypt(c.data, []byte("pw"))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	pw, err := NewPassword(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for n := range 40 {
		plain := bytes.Repeat([]byte{byte(n)}, n)
		enc, err := Encrypt(plain, pw, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if want := 16 + (n/16+1)*16; len(enc) != want {
			t.Errorf("%d bytes encrypt to %d, want %d", n, len(enc), want)
		}
		got, err := Decrypt(enc, pw)
		if err != nil || !bytes.Equal(got, plain) {
			t.Errorf("%d bytes: %v, %x", n, err, got)
		}
	}
}

func TestNewPassword(t *testing.T) {
	a, err := NewPassword(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewPassword(rand.Reader)
	if len(a) != 44 || a[43] != '=' || bytes.Equal(a, b) {
		t.Errorf("passwords %q, %q", a, b)
	}
	raw, err := base64.StdEncoding.DecodeString(string(a))
	if err != nil || len(raw) != 32 {
		t.Errorf("decodes to %d bytes: %v", len(raw), err)
	}
	if _, err := NewPassword(bytes.NewReader(make([]byte, 10))); err == nil {
		t.Error("a short random source gave a password")
	}
}

// TestKnownSalt pins the key derivation: the sample's plaintext under the
// sample's salt and password gives the sample's bytes.
func TestKnownSalt(t *testing.T) {
	data, err := os.ReadFile(samplePath)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := Decrypt(data, []byte(samplePassword))
	if err != nil {
		t.Fatal(err)
	}
	if got := encryptSalt(plain, []byte(samplePassword), data[8:16]); !bytes.Equal(got, data) {
		t.Error("re-encrypting the sample under its salt gives other bytes")
	}
}

// openssl runs openssl with the password in its environment (never on
// its command line), with in as its standard input.
func openssl(t *testing.T, pw string, in []byte, args ...string) []byte {
	t.Helper()
	path := peer.Need(t, "openssl")
	cmd := exec.Command(path, append(args, "-pass", "env:KEYSYNC_TEST_PW")...)
	cmd.Env = append(os.Environ(), "KEYSYNC_TEST_PW="+pw)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("openssl %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// TestOpenSSL: openssl decrypts what Encrypt makes, and Decrypt reads
// what openssl makes, plain and armored.
func TestOpenSSL(t *testing.T) {
	pw, err := NewPassword(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	plain := []byte("#\nme@example.org.fingerprint=ABCDEF\nme@example.org.privateKey=MIIB\\=\\=\n")
	enc, err := Encrypt(plain, pw, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if got := openssl(t, string(pw), enc, "enc", "-d", "-aes-256-cbc", "-md", "md5"); !bytes.Equal(got, plain) {
		t.Errorf("openssl decrypts to %q", got)
	}
	for _, armor := range [][]string{nil, {"-a"}} {
		args := append([]string{"enc", "-aes-256-cbc", "-md", "md5", "-salt"}, armor...)
		got, err := Decrypt(openssl(t, string(pw), plain, args...), pw)
		if err != nil || !bytes.Equal(got, plain) {
			t.Errorf("openssl %v: %v, %q", armor, err, got)
		}
	}
	// openssl's own check agrees that the sample's password is right and
	// another is wrong.
	data, err := os.ReadFile(samplePath)
	if err != nil {
		t.Fatal(err)
	}
	ours, err := Decrypt(data, []byte(samplePassword))
	if err != nil {
		t.Fatal(err)
	}
	if got := openssl(t, samplePassword, data, "enc", "-d", "-aes-256-cbc", "-md", "md5"); !bytes.Equal(got, ours) {
		t.Error("openssl and Decrypt disagree on the sample")
	}
}

// FuzzDecrypt: any input gives plaintext or an error, never a panic, and
// what Encrypt makes decrypts to itself.
func FuzzDecrypt(f *testing.F) {
	if data, err := os.ReadFile(samplePath); err == nil {
		f.Add(data[:64], []byte(samplePassword))
	}
	f.Add([]byte("Salted__12345678"), []byte("pw"))
	f.Add([]byte("U2FsdGVkX18xMjM0NTY3OA=="), []byte(""))
	f.Fuzz(func(t *testing.T, data, pw []byte) {
		if len(data) > 1<<16 {
			return
		}
		if plain, err := Decrypt(data, pw); err == nil {
			enc := encryptSalt(plain, pw, []byte("12345678"))
			back, err := Decrypt(enc, pw)
			if err != nil || !bytes.Equal(back, plain) {
				t.Fatalf("round trip: %v", err)
			}
		}
	})
}
