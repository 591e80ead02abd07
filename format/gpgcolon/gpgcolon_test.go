package gpgcolon

import (
	"bytes"
	"encoding/hex"
	"os"
	"reflect"
	"strings"
	"testing"
)

// The testdata listings are gpg 2.2.40's of testdata/fixtures/gnupg.
const (
	testKeyFpr = "DD7420C6E2CED2A4B02FAF53C3C196900EDCCD44" // the sample's own key, with a secret key
	hansFpr    = "5E61C8780F86295CE17D86779F0FE587374BBE81"
)

func fpr(t *testing.T, s string) [20]byte {
	t.Helper()
	var f [20]byte
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 20 {
		t.Fatalf("bad fingerprint %q", s)
	}
	copy(f[:], b)
	return f
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseListingSample(t *testing.T) {
	keys, err := ParseListing(bytes.NewReader(readFile(t, "testdata/list-keys.txt")))
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 {
		t.Fatalf("%d keys, want 2", len(keys))
	}
	want0 := Key{Line: 2, Fingerprint: fpr(t, testKeyFpr),
		UserIDs: []string{"jabber (otr:1E96FCDD) <bobtester@guardianproject.info>", "Bob Tester <bob@example.com>"}}
	if !reflect.DeepEqual(keys[0], want0) {
		t.Errorf("key 0 = %+v, want %+v", keys[0], want0)
	}
	if keys[1].Fingerprint != fpr(t, hansFpr) || len(keys[1].UserIDs) != 6 || keys[1].Secret {
		t.Errorf("key 1 = %+v, want Hans's with 6 user IDs (the uat left out)", keys[1])
	}

	sec, err := ParseListing(bytes.NewReader(readFile(t, "testdata/list-secret-keys.txt")))
	if err != nil {
		t.Fatal(err)
	}
	if len(sec) != 1 || sec[0].Fingerprint != fpr(t, testKeyFpr) || !sec[0].SecretAvailable() {
		t.Errorf("secret keys = %+v, want the test key, available", sec)
	}
}

func TestParseListingErrors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"uid:u::::1::X::a::\n", "line 1: uid record before any key"},
		{"pub:u:1:1:X:1:::u:::sc:\nsub:u:1:1:Y:1:\n", "line 2: key of line 1 has no fingerprint"},
		{"pub:u:1:1:X:1:::u:::sc:\npub:u:1:1:X:1:::u:::sc:\n", "line 2: key of line 1 has no fingerprint"},
		{"pub:u:1:1:X:1:::u:::sc:\n", "key of line 1 has no fingerprint"},
		{"pub:u:\nfpr:::::::::ZZ:\n", `line 2: fingerprint "ZZ" is not hex digits`},
		{"pub:u:\nfpr:::::::::ABCD:\n", "line 2: fingerprint of 4 digits"},
		{"pub:u:\nfpr:::::::::" + testKeyFpr + ":\nuid:u::::::::a\\x3:\n", "line 3: user ID: bad escape at byte 1"},
		{"pub:" + strings.Repeat("x", MaxLine) + "\n", "line 1: longer than"},
	} {
		_, err := ParseListing(strings.NewReader(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseListing(%.40q) = %v, want %q", c.in, err, c.want)
		}
	}
}

func TestParseListingUnsupported(t *testing.T) {
	in := "pub:u:\nfpr:::::::::" + strings.Repeat("AB", 32) + ":\npub:u:\nfpr:::::::::" + strings.Repeat("CD", 16) + ":\n"
	keys, err := ParseListing(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || !strings.Contains(keys[0].Unsupported, "v5") || !strings.Contains(keys[1].Unsupported, "v3") {
		t.Errorf("keys = %+v, want a v5 and a v3 key, unsupported", keys)
	}
}

func TestUnescape(t *testing.T) {
	for in, want := range map[string]string{
		`plain`: "plain", `a\x3ab`: "a:b", `\x5c\x5c`: `\\`, `\xe2\x82\xac`: "€",
	} {
		if got, err := Unescape(in); err != nil || got != want {
			t.Errorf("Unescape(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{`\`, `\x`, `\x3`, `\y3a`, `\xzz`} {
		if _, err := Unescape(in); err == nil {
			t.Errorf("Unescape(%q) accepted", in)
		}
	}
}

func TestOwnertrustRoundTrip(t *testing.T) {
	values, skipped, err := ParseOwnertrust(bytes.NewReader(readFile(t, "testdata/ownertrust.txt")))
	if err != nil {
		t.Fatal(err)
	}
	want := []Ownertrust{{Line: 3, Fingerprint: fpr(t, testKeyFpr), Value: 6}}
	if !reflect.DeepEqual(values, want) || skipped != 0 {
		t.Fatalf("values = %+v (%d skipped), want %+v", values, skipped, want)
	}
	values = append(values, Ownertrust{Fingerprint: fpr(t, hansFpr), Value: 134})
	out := AppendOwnertrust(nil, values)
	if got, wantOut := string(out), testKeyFpr+":6:\n"+hansFpr+":134:\n"; got != wantOut {
		t.Fatalf("AppendOwnertrust = %q, want %q", got, wantOut)
	}
	back, _, err := ParseOwnertrust(bytes.NewReader(out))
	if err != nil || len(back) != 2 || back[1].Value != 134 || back[1].Fingerprint != values[1].Fingerprint {
		t.Errorf("read back %+v, %v", back, err)
	}
}

func TestParseOwnertrustErrors(t *testing.T) {
	v3 := strings.Repeat("AB", 16) + ":5:\n"
	if values, skipped, err := ParseOwnertrust(strings.NewReader(v3)); err != nil || skipped != 1 || len(values) != 0 {
		t.Errorf("a v3 line: %v, %d skipped, %v", values, skipped, err)
	}
	for _, c := range []struct{ in, want string }{
		{"nonsense\n", `line 1: "nonsense" is not a FINGERPRINT:VALUE: line`},
		{testKeyFpr + ":256:\n", `line 1: ownertrust "256" is not a number from 0 to 255`},
		{testKeyFpr + "::\n", `line 1: ownertrust "" is not`},
		{testKeyFpr + ":5:x\n", `is not a FINGERPRINT:VALUE: line`},
		{"# c\nXY:5:\n", `line 2: fingerprint "XY" is not hex digits`},
		{"ABCD:5:\n", "line 1: fingerprint of 4 digits"},
		{testKeyFpr + ":" + strings.Repeat("9", 40) + ":\n", "not a number"},
	} {
		_, _, err := ParseOwnertrust(strings.NewReader(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseOwnertrust(%.40q) = %v, want %q", c.in, err, c.want)
		}
	}
}

func TestSplitKeysSample(t *testing.T) {
	// A GnuPG 1.x keyring is a sequence of transferable keys with trust
	// packets, as an export is without them.
	data := readFile(t, "../../testdata/fixtures/gnupg/pubring.gpg")
	blocks, err := SplitKeys(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) != 2 || blocks[0].Fingerprint != fpr(t, testKeyFpr) || blocks[1].Fingerprint != fpr(t, hansFpr) {
		t.Fatalf("blocks: %d, want the test key and Hans's", len(blocks))
	}
	if n := len(blocks[0].Data) + len(blocks[1].Data); n != len(data) {
		t.Errorf("blocks hold %d bytes of %d", n, len(data))
	}
	sec, err := SplitKeys(readFile(t, "../../testdata/fixtures/gnupg/secring.gpg"))
	if err != nil || len(sec) != 1 || sec[0].Version != 4 {
		t.Errorf("secring: %d blocks, %v; want one v4 key", len(sec), err)
	}
}

func TestSplitKeysErrors(t *testing.T) {
	key := []byte{0x99, 0x00, 0x01, 0x04} // old format, 2-byte length 1, v4 (body too short for a real key)
	for _, c := range []struct {
		in   []byte
		want string
	}{
		{[]byte{0x00}, "packet at byte 0: not a packet header"},
		{[]byte{0xb4, 0x01, 'x'}, "packet at byte 0: tag 13 before any primary key"},
		{append(key, 0x99, 0x00), "packet at byte 4: truncated header"},
		{[]byte{0x99, 0x00, 0x05, 0x04}, "packet at byte 0: 5 bytes long, the input ends after 1"},
		{[]byte{0xc6, 0xe0}, "packet at byte 0: partial body length"},
		{[]byte{0x9b, 0x04}, "packet at byte 0: indeterminate length"},
		{[]byte{0xc6, 0xff, 0xff, 0xff, 0xff, 0xff}, "too large"},
		{[]byte{0xc6, 0x00}, "empty key packet"},
	} {
		_, err := SplitKeys(c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("SplitKeys(% x) = %v, want %q", c.in, err, c.want)
		}
	}
	// New-format lengths of two and five bytes.
	two := append([]byte{0xc6, 0xc0, 0x00}, make([]byte, 192)...)
	two[3] = 4
	five := append([]byte{0xc6, 0xff, 0, 0, 0, 1}, 4)
	blocks, err := SplitKeys(append(two, five...))
	if err != nil || len(blocks) != 2 || len(blocks[0].Data) != 195 || len(blocks[1].Data) != 7 {
		t.Errorf("new-format lengths: %d blocks, %v", len(blocks), err)
	}
}
