package libotr

import (
	"bytes"
	"cmp"
	"encoding/hex"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/keysync/keysync"
)

const fixtures = "../../testdata/fixtures"

func readFixture(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtures, rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var keyFiles = []string{
	"pidgin/otr.private_key", "adium/otr.private_key", "irssi/otr.key", "xchat/otr.key",
	"kopete/privkeys", "SAMENESS/pidgin/otr.private_key", "SAMENESS/adium/otr.private_key",
}

var fpFiles = []string{
	"pidgin/otr.fingerprints", "adium/otr.fingerprints", "irssi/otr.fp", "xchat/otr.fp",
	"kopete/fingerprints", "SAMENESS/pidgin/otr.fingerprints", "SAMENESS/adium/otr.fingerprints",
	"gajim/guardianproject.info.fpr",
}

func TestPrivKeysRoundTripSamples(t *testing.T) {
	for _, f := range keyFiles {
		in := readFixture(t, f)
		keys, err := ReadPrivKeys(bytes.NewReader(in), f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var out bytes.Buffer
		if err := WritePrivKeys(&out, keys); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if !bytes.Equal(out.Bytes(), in) {
			t.Errorf("%s: written file differs from the original:\n%s", f, out.Bytes())
		}
	}
}

func TestPrivKeysSampleContents(t *testing.T) {
	type want struct {
		name, proto, fp string
		valid           bool
	}
	cases := map[string][]want{
		"pidgin/otr.private_key": {
			{"gptest@limun.org/", "prpl-jabber", "64d5417f685ec59424ade08cd68911873642840c", true},
			{"gptest@jabber.org/", "prpl-jabber", "f247f8b86842ffc7ba0b8348440f154d520169eb", true},
			{"gptest@mycomputer", "prpl-bonjour", "51e891cf3f5ea4ff7b6682eb629d17779bc6234a", false},
		},
		"adium/otr.private_key": {
			{"1", "libpurple-Jabber", "39e90112c19d45cecb968ff981d32e9c9a5fe284", true},
			{"2", "libpurple-jabber-gtalk", "8d0f48cb59348f3aa596dc7b1f5048c14368cf5d", true},
		},
		"irssi/otr.key":                   {{"test@example.org", "IRC", "1e6152121c8a6dfefb5d84553c2111a2ff0e84d7", true}},
		"SAMENESS/pidgin/otr.private_key": {{"gptest@limun.org/", "prpl-jabber", "39e90112c19d45cecb968ff981d32e9c9a5fe284", true}},
		"SAMENESS/adium/otr.private_key":  {{"1", "libpurple-Jabber", "39e90112c19d45cecb968ff981d32e9c9a5fe284", true}},
	}
	for f, ws := range cases {
		keys, err := ReadPrivKeys(bytes.NewReader(readFixture(t, f)), f)
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) != len(ws) {
			t.Fatalf("%s: %d keys, want %d", f, len(keys), len(ws))
		}
		for i, w := range ws {
			k := keys[i]
			if k.Name != w.name || k.Protocol != w.proto || k.Key.Fingerprint().String() != w.fp {
				t.Errorf("%s key %d: %q %q %s, want %q %q %s", f, i, k.Name, k.Protocol, k.Key.Fingerprint(), w.name, w.proto, w.fp)
			}
			if err := k.Key.Validate(); (err == nil) != w.valid {
				t.Errorf("%s key %d: Validate() = %v, want valid=%v", f, i, err, w.valid)
			}
		}
	}
	// Raw keeps the stored bytes: a leading 00 where the file has one.
	keys, _ := ReadPrivKeys(bytes.NewReader(readFixture(t, "irssi/otr.key")), "irssi/otr.key")
	if y := keys[0].Key.Native.(MPIs)[3]; y[0] != 0 || len(y) != 129 {
		t.Errorf("irssi y: Raw has %d bytes starting %02x, want 129 starting 00", len(y), y[0])
	}
	if keys[0].Line != 2 {
		t.Errorf("irssi key Line = %d, want 2", keys[0].Line)
	}
}

// TestPrivKeysFlexibleSyntax feeds the pidgin key in other libgcrypt
// spellings and element orders.
func TestPrivKeysFlexibleSyntax(t *testing.T) {
	want, err := ReadPrivKeys(bytes.NewReader(readFixture(t, "irssi/otr.key")), "k")
	if err != nil {
		t.Fatal(err)
	}
	k := want[0].Key
	h := hex.EncodeToString
	// Lower-case hex with whitespace inside, raw and quoted names, length
	// prefixes, display hints, tabs/CR/VT/FF as whitespace, reordered.
	pHex := h(k.P.Bytes())
	pSpaced := pHex[:10] + " \n\t" + pHex[10:]
	y := k.Y.Bytes()
	text := "\r\n(privkeys\t(account\f(private-key\v(dsa (x #" + h(k.X.Bytes()) + "#)" +
		"(y " + itoa(len(y)) + ":" + string(y) + ")" +
		"(q #" + h(k.Q.Bytes()) + "# [hint])" +
		"(p 129#00" + pSpaced + "#)" +
		"(g |" + b64(k.G.Bytes()) + "|)))" +
		"(protocol \"I\\x52\\103\")\n(name 16:test@example.org)))\n"
	got, err := ReadPrivKeys(strings.NewReader(text), "k")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Name != "test@example.org" || got[0].Protocol != "IRC" || !got[0].Key.Equal(k) {
		t.Fatalf("got %+v", got)
	}
	if got[0].Line != 2 {
		t.Errorf("Line = %d, want 2", got[0].Line)
	}
}

func TestPrivKeysErrors(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", "f:1: empty"},
		{"(privkeys\n (account\n(name \"a\")\n", "f:2: unclosed"},
		{"(privkeys (account (name a) (protocol b)))", "f:1: account \"a\" has no (private-key"},
		{"(notkeys)", "f:1: file does not start with (privkeys"},
		{"(privkeys\n(foo))", "f:2: element of privkeys is not an (account"},
		{"(privkeys\n (account\n(protocol p)))", "f:2: account has no (name"},
		{"(privkeys\n (account\n(name \"x)))", "f:3: quoted string without closing"},
		{"(privkeys\n\n (account (name #0G#)))", "f:3: invalid character in hex"},
		{"(privkeys (account (name #0#)))", "f:1: odd number of hex digits"},
		{"(privkeys (account (name a)(protocol b)(private-key (dsa (p #01#) (q #01#) (g #01#) (y #01#))))))", "f:1: unexpected data after"},
		{"(privkeys (account (name a)(protocol b)(private-key (dsa (p #01#) (q #01#) (g #01#) (y #01#)))))", "dsa key has no (x"},
		{"(privkeys (account (name a)(protocol b)(private-key (dsa (p #01#) (q #01#) (g #01#) (y #01#) (x (secret))))))", "(x …) has no number"},
		{"(privkeys 05:abcde)", "length prefix starts with 0"},
		{"(privkeys 9:abc)", "raw atom longer"},
		{"(privkeys \"\\q\")", "invalid escape"},
		{"(privkeys [[b]] c)", "nested display hint"},
		{"(privkeys {YWJj})", "unexpected character"},
		{"(privkeys\n(account (name a)(protocol b)(private-key (dsa (p #01#) (q #01#) (g #01#) (y #01#) (x \"\\x4\")))))", "f:2: invalid \\x escape"},
	}
	for _, c := range cases {
		_, err := ReadPrivKeys(strings.NewReader(c.in), "f")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ReadPrivKeys(%q) error = %v, want containing %q", c.in, err, c.want)
		}
	}
}

// TestPrivKeysErrorsHideSecret checks that a malformed x never shows up in
// the error.
func TestPrivKeysErrorsHideSecret(t *testing.T) {
	in := "(privkeys (account (name a)(protocol b)(private-key (dsa (p #01#) (q #01#) (g #01#) (y #01#) (x #DEADBEEFCAFE1#)))))"
	_, err := ReadPrivKeys(strings.NewReader(in), "f")
	if err == nil || strings.Contains(strings.ToUpper(err.Error()), "DEADBEEF") {
		t.Fatalf("error = %v", err)
	}
}

func TestWritePrivKeysFromBigInts(t *testing.T) {
	keys, err := ReadPrivKeys(bytes.NewReader(readFixture(t, "pidgin/otr.private_key")), "p")
	if err != nil {
		t.Fatal(err)
	}
	// Drop Raw: minimal two's complement gives the same bytes for files
	// libotr wrote.
	for _, k := range keys {
		k.Key.Native = nil
	}
	var out bytes.Buffer
	if err := WritePrivKeys(&out, keys); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), readFixture(t, "pidgin/otr.private_key")) {
		t.Errorf("written without Raw:\n%s", out.Bytes())
	}
	// A Raw that no longer matches the value is ignored; a padded Raw that
	// matches is kept.
	k := *keys[0].Key
	raw, _ := k.Native.(MPIs) // cleared above
	raw[1] = []byte{0, 0, 1}
	k.Q = big.NewInt(1)
	raw[2] = []byte{0x12}
	raw[4] = append([]byte{0, 0}, k.X.Bytes()...)
	k.Native = raw
	out.Reset()
	if err := WritePrivKeys(&out, []PrivKey{{Name: "me@x/Res", Protocol: "prpl-jabber", Key: &k}}); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	if !strings.Contains(s, "  (q #000001#)\n") {
		t.Errorf("q: matching padded Raw not kept: %s", s)
	}
	if !strings.Contains(s, "  (g #00"+strings.ToUpper(k.G.Text(16))+"#)\n") {
		t.Errorf("g: stale Raw used: %s", s)
	}
	if !strings.Contains(s, "  (x #0000"+strings.ToUpper(k.X.Text(16))) {
		t.Errorf("x padding not kept: %s", s)
	}
	if !strings.HasPrefix(s, "(privkeys\n (account\n(name \"me@x/Res\")\n(protocol prpl-jabber)\n(private-key \n (dsa \n  (p #00") {
		t.Errorf("layout: %s", s)
	}
}

func TestWritePrivKeysErrors(t *testing.T) {
	k := &keysync.DSAKey{P: big.NewInt(5), Q: big.NewInt(3), G: big.NewInt(2), Y: big.NewInt(4), X: big.NewInt(-1)}
	var out bytes.Buffer
	if err := WritePrivKeys(&out, []PrivKey{{Name: "a", Protocol: "b", Key: k}}); err == nil || !strings.Contains(err.Error(), "x: negative") {
		t.Errorf("negative x: %v", err)
	}
	k.X = nil
	if err := WritePrivKeys(&out, []PrivKey{{Name: "a", Protocol: "b", Key: k}}); err == nil || !strings.Contains(err.Error(), "x: missing") {
		t.Errorf("nil x: %v", err)
	}
	if err := WritePrivKeys(&out, []PrivKey{{Name: "a", Protocol: "b"}}); err == nil {
		t.Error("nil key: no error")
	}
	k.X = big.NewInt(2)
	if err := WritePrivKeys(&out, []PrivKey{{Name: "a\x00", Protocol: "b", Key: k}}); err == nil {
		t.Error("NUL in name: no error")
	}
}

// TestMPIAtomForms covers libgcrypt's choice of atom form for MPIs,
// including the rare quoted-string case, and that the reader takes it back.
func TestMPIAtomForms(t *testing.T) {
	cases := []struct {
		v    *big.Int
		want string
	}{
		{big.NewInt(0), `""`},
		{big.NewInt(0x80), `#0080#`},
		{big.NewInt(0x01), `#01#`},
		{new(big.Int).SetBytes([]byte("Hello, world")), `"Hello, world"`},
		{new(big.Int).SetBytes([]byte("abc")), `abc`},
		{new(big.Int).SetBytes([]byte("1abc")), `"1abc"`},
		{new(big.Int).SetBytes([]byte("a\"b\\c'\n")), `"a\"b\\c\'\n"`},
		{new(big.Int).SetBytes([]byte{'a', 0x7f}), `#617F#`},
		{new(big.Int).SetBytes([]byte{'a', 0xa1}), "\"a\xa1\""},
	}
	for _, c := range cases {
		k := &keysync.DSAKey{P: big.NewInt(7), Q: big.NewInt(7), G: big.NewInt(7), Y: big.NewInt(7), X: c.v}
		var out bytes.Buffer
		if err := WritePrivKeys(&out, []PrivKey{{Name: "n", Protocol: "p", Key: k}}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), "  (x "+c.want+")\n") {
			t.Errorf("x=%x: written\n%s\nwant atom %s", c.v, out.String(), c.want)
			continue
		}
		got, err := ReadPrivKeys(&out, "f")
		if err != nil {
			t.Fatal(err)
		}
		if got[0].Key.X.Cmp(c.v) != 0 {
			t.Errorf("x=%x: read back %x", c.v, got[0].Key.X)
		}
	}
}

func TestFingerprintsRoundTripSamples(t *testing.T) {
	for _, f := range fpFiles {
		in := readFixture(t, f)
		rows, err := ReadFingerprints(bytes.NewReader(in), f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var out bytes.Buffer
		if err := WriteFingerprints(&out, rows); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), in) {
			t.Errorf("%s: written file differs:\n%s", f, out.Bytes())
		}
	}
}

func TestFingerprintsSampleContents(t *testing.T) {
	rows, err := ReadFingerprints(bytes.NewReader(readFixture(t, "pidgin/otr.fingerprints")), "p")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"gptest@jabber.ccc.de|gptest@jabber.org/|prpl-jabber|a2cd015572d256703e7624840f91209160185410||1",
		"gptest@jabber.ccc.de|gptest@limun.org/|prpl-jabber|a2cd015572d256703e7624840f91209160185410|verified|2",
		"hans@eds.org|gptest@jabber.org/|prpl-jabber|ff66e8c909c4deb51cbd4a02b9e6af4d6af215f8||3",
		"hans@eds.org|gptest@limun.org/|prpl-jabber|f83fe8c909c4deb51c234574bab3e4f66af215f8||4",
		"n8fr8@foo_com|gptest@mycomputer|prpl-bonjour|92967e4743bc730e0a3396be1a6ea365cc38f0f3||5",
		"gptest@jabber_ccc_de|gptest@mycomputer|prpl-bonjour|a2cd015572d256703e7624840f91209160185410|verified|6",
	}
	if got := rowStrings(rows); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	rows, err = ReadFingerprints(bytes.NewReader(readFixture(t, "irssi/otr.fp")), "i")
	if err != nil {
		t.Fatal(err)
	}
	var trusts []string
	for _, r := range rows {
		trusts = append(trusts, r.Username+"="+string(r.Trust))
	}
	if s := strings.Join(trusts, ","); s != "bigbear=,goldy=,blue=smp,testymctest=manual" {
		t.Errorf("irssi trusts: %s", s)
	}
}

func rowStrings(rows []FingerprintRow) []string {
	var s []string
	for _, r := range rows {
		s = append(s, strings.Join([]string{r.Username, r.Account, r.Protocol, r.Fingerprint.String(), string(r.Trust), itoa(r.Line)}, "|"))
	}
	return s
}

func TestFingerprintsReaderRules(t *testing.T) {
	const fa = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	const fb = "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"
	in := "u\ta\tp\t" + fa + "\tverified\r\n" + // CRLF
		"\n" + // blank
		"u\ta\tp\t" + fb + "\n" + // 4 columns, upper-case hex
		"v\ta\tp\t" + fa + "\tsmp\n" +
		"\r\n" + // blank CRLF
		"u\ta\tp\t" + fa + "\t\n" + // duplicate: last trust wins, first position kept
		"u\ta2\tp\t" + fa + "\tx\ty\n" + // trust may hold a tab
		"w\ta\tp\t" + fa + "\tlast\r" // no LF, but CR: libotr takes it
	rows, err := ReadFingerprints(strings.NewReader(in), "f")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"u|a|p|" + fa + "||1",
		"u|a|p|" + strings.ToLower(fb) + "||3",
		"v|a|p|" + fa + "|smp|4",
		"u|a2|p|" + fa + "|x\ty|7",
		"w|a|p|" + fa + "|last|8",
	}
	if got := rowStrings(rows); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestFingerprintsReaderAllocations checks that account, protocol and
// trust strings are interned and usernames allocated in batches: reading
// 20,000 rows takes a few dozen allocations, not one or more per row.
func TestFingerprintsReaderAllocations(t *testing.T) {
	var b strings.Builder
	for i := range 20000 {
		fmt.Fprintf(&b, "contact%05d@example.org\tme%d@example.org/\tprpl-jabber\t%040x\tverified\n", i, i%3, i)
	}
	in := b.String()
	rows := 0
	allocs := testing.AllocsPerRun(3, func() {
		rows = 0
		if err := ScanFingerprints(strings.NewReader(in), "f", func(FingerprintRow) error { rows++; return nil }); err != nil {
			t.Fatal(err)
		}
	})
	if rows != 20000 || allocs > 100 {
		t.Errorf("%d rows took %.0f allocations, want at most 100", rows, allocs)
	}
}

func TestFingerprintsReaderErrors(t *testing.T) {
	const fa = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	long := strings.Repeat("x", MaxLineLen-len("\ta\tp\t"+fa+"\t")+1)
	cases := []struct{ in, want string }{
		{"ok\ta\tp\t" + fa + "\t\nbad line\n", "f:2: want tab-separated"},
		{"u\ta\n", "f:1: want tab-separated username, account, protocol, fingerprint, trust; have 1 tab"},
		{"u\ta\tp\n", "have 2 tabs"},
		{"u\ta\tp\t" + fa[1:] + "\n", "f:1: fingerprint has 39 characters"},
		{"u\ta\tp\t" + fa[1:] + "g\t\n", "f:1: fingerprint is not 40 hex digits"},
		{"\n\nu\ta\tp\t" + fa + "\t", "f:3: last line has no line end"},
		{"u\ta\tp\t" + fa + "\tv\rerified\n", "f:1: carriage return inside"},
		{"u\x00\ta\tp\t" + fa + "\t\n", "f:1: NUL byte"},
		{long + "\ta\tp\t" + fa + "\t\n", "f:1: line longer than 998"},
		{"\n" + long + strings.Repeat("y", 300000) + "\n", "f:2: line longer than 998"},
	}
	for _, c := range cases {
		_, err := ReadFingerprints(strings.NewReader(c.in), "f")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ReadFingerprints(%.60q) error = %v, want containing %q", c.in, err, c.want)
		}
	}
	// The longest line libotr reads whole is accepted.
	ok := long[1:] + "\ta\tp\t" + fa + "\t\n"
	if len(ok) != MaxLineLen+1 {
		t.Fatalf("test line has %d bytes", len(ok))
	}
	if rows, err := ReadFingerprints(strings.NewReader(ok), "f"); err != nil || len(rows) != 1 {
		t.Errorf("line of %d bytes: %v", MaxLineLen, err)
	}
}

func TestWriteFingerprintsErrors(t *testing.T) {
	for _, r := range []FingerprintRow{
		{Username: "a\tb", Account: "a", Protocol: "p"},
		{Username: "a", Account: "a\n", Protocol: "p"},
		{Username: "a", Account: "a", Protocol: "p\x00"},
		{Username: "a", Account: "a", Protocol: "p", Trust: "x\ry"},
		{Username: strings.Repeat("u", 1000), Account: "a", Protocol: "p"},
	} {
		if err := WriteFingerprints(&bytes.Buffer{}, []FingerprintRow{r}); err == nil {
			t.Errorf("WriteFingerprints(%.40q): no error", r.Username+"|"+r.Account+"|"+r.Protocol+"|"+string(r.Trust))
		}
	}
}

// TestFingerprintsLargeRoundTrip writes many rows with duplicates through a
// reader without a size hint and checks order and collapse.
func TestFingerprintsLargeRoundTrip(t *testing.T) {
	rows := genRows(20000)
	var buf bytes.Buffer
	if err := WriteFingerprints(&buf, rows); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	// Append every 7th row again with another trust.
	var dup bytes.Buffer
	dup.Write(data)
	var again []FingerprintRow
	for i := 0; i < len(rows); i += 7 {
		r := rows[i]
		r.Trust = "late"
		again = append(again, r)
	}
	if err := WriteFingerprints(&dup, again); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFingerprints(plainReader{bytes.NewReader(dup.Bytes())}, "big")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(rows) {
		t.Fatalf("%d rows, want %d", len(got), len(rows))
	}
	for i := range rows {
		w := rows[i]
		if i%7 == 0 {
			w.Trust = "late"
		}
		w.Line = i + 1
		if got[i] != w {
			t.Fatalf("row %d = %+v, want %+v", i, got[i], w)
		}
	}
}

func TestInstanceTags(t *testing.T) {
	in := InstagHeader + "\n" + "otrtest1\tprpl-aim\t27e32500\n" + "me@x/\tIRC\t00000100\r\n" + "\n"
	tags, err := ReadInstanceTags(strings.NewReader(in), "f")
	if err != nil {
		t.Fatal(err)
	}
	want := []InstanceTag{{"otrtest1", "prpl-aim", 0x27e32500, 2}, {"me@x/", "IRC", 0x100, 3}}
	if len(tags) != 2 || tags[0] != want[0] || tags[1] != want[1] {
		t.Fatalf("got %+v", tags)
	}
	var out bytes.Buffer
	if err := WriteInstanceTags(&out, tags); err != nil {
		t.Fatal(err)
	}
	if w := InstagHeader + "\notrtest1\tprpl-aim\t27e32500\nme@x/\tIRC\t00000100\n"; out.String() != w {
		t.Errorf("wrote %q", out.String())
	}
	for _, c := range []struct{ in, want string }{
		{"a\tb\t000000ff\n", "f:1: instance tag 000000ff is below 0x100"},
		{"#c\n\na\tb\t1234567\n", "f:3: instance tag has 7 characters"},
		{"a\tb\t1234567g\n", "not 8 hex digits"},
		{"a\tb\t12345678", "last line has no line end"},
		{"a b 12345678\n", "have no tab"},
		{"a\tb12345678\n", "have 1 tab"},
		{"a\tb\t1234\r5678\n", "carriage return inside"},
	} {
		if _, err := ReadInstanceTags(strings.NewReader(c.in), "f"); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ReadInstanceTags(%q) = %v, want %q", c.in, err, c.want)
		}
	}
	for _, bad := range []InstanceTag{{"a\tb", "p", 0x1000, 0}, {"a", "p", 0xff, 0}} {
		if err := WriteInstanceTags(&out, []InstanceTag{bad}); err == nil {
			t.Errorf("WriteInstanceTags(%+v): no error", bad)
		}
	}
}

func TestSortFingerprints(t *testing.T) {
	rows := genRows(5000)
	// Scramble deterministically; give some contexts several rows in a
	// known order.
	for i := range rows {
		j := (i * 7919) % len(rows)
		rows[i], rows[j] = rows[j], rows[i]
	}
	for i := range rows {
		rows[i].Line = i
		if i%3 == 0 {
			rows[i].Username = "same"
		}
	}
	want := slices.Clone(rows)
	slices.SortStableFunc(want, func(a, b FingerprintRow) int {
		return cmp.Or(strings.Compare(a.Username, b.Username), strings.Compare(a.Account, b.Account), strings.Compare(a.Protocol, b.Protocol))
	})
	SortFingerprints(rows)
	if !slices.Equal(rows, want) {
		t.Error("SortFingerprints differs from a stable sort")
	}
	SortFingerprints(rows) // already sorted: unchanged
	if !slices.Equal(rows, want) {
		t.Error("SortFingerprints changed sorted rows")
	}
}
