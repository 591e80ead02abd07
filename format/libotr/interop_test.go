package libotr_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/keysync/keysync"
	"github.com/keysync/keysync/format/libotr"
	"github.com/keysync/keysync/internal/otrtest"
)

const fixtures = "../../testdata/fixtures"

// view is keysync's reading of the files in otrtest's dump format.
func view(t *testing.T, priv, fp, tags string) string {
	t.Helper()
	var lines []string
	if priv != "" {
		for _, k := range readKeys(t, priv) {
			lines = append(lines, otrtest.KeyLine(k.Name, k.Protocol, k.Key))
		}
	}
	if fp != "" {
		for _, r := range readFPs(t, fp) {
			lines = append(lines, otrtest.FPLine(r.Username, r.Account, r.Protocol, r.Fingerprint, r.Trust))
		}
	}
	if tags != "" {
		for _, g := range readTags(t, tags) {
			lines = append(lines, otrtest.TagLine(g.Account, g.Protocol, g.Tag))
		}
	}
	return otrtest.SortLines(lines)
}

func open(t *testing.T, name string) *os.File {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func readKeys(t *testing.T, name string) []libotr.PrivKey {
	t.Helper()
	k, err := libotr.ReadPrivKeys(open(t, name), name)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func readFPs(t *testing.T, name string) []libotr.FingerprintRow {
	t.Helper()
	r, err := libotr.ReadFingerprints(open(t, name), name)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func readTags(t *testing.T, name string) []libotr.InstanceTag {
	t.Helper()
	g, err := libotr.ReadInstanceTags(open(t, name), name)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func writeFile(t *testing.T, name string, write func(*bytes.Buffer) error) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := write(&b); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func fp(b byte) keysync.Fingerprint {
	var sum [20]byte
	for i := range sum {
		sum[i] = b ^ byte(i*37)
	}
	return keysync.OTRFingerprint(sum)
}

// TestLibotrWrittenFilesRoundTrip has libotr generate keys, instance tags
// and fingerprints (several accounts, contacts with two fingerprints, every
// trust value); keysync must read what libotr reads and write the same
// bytes back.
func TestLibotrWrittenFilesRoundTrip(t *testing.T) {
	o := otrtest.Tool(t)
	dir := t.TempDir()
	accts := []otrtest.Account{
		{Name: "me@example.org/", Protocol: "prpl-jabber"}, {Name: "1", Protocol: "libpurple-Jabber"},
		{Name: "nick", Protocol: "IRC"}, {Name: "with space\"quote", Protocol: "prpl-irc"},
	}
	var fps []otrtest.FP
	trusts := []keysync.Trust{"", "verified", "smp", "manual", "some other value"}
	for i, tr := range trusts {
		for j, a := range accts[:2] {
			c := []string{"bob@example.net", "alice@example.com", "zed", "Émile@example.fr", "carol"}[i]
			fps = append(fps,
				otrtest.FP{Contact: c, Account: a.Name, Protocol: a.Protocol, Fingerprint: fp(byte(10*i + j)), Trust: tr},
				otrtest.FP{Contact: c, Account: a.Name, Protocol: a.Protocol, Fingerprint: fp(byte(10*i + j + 100)), Trust: trusts[(i+1)%len(trusts)]})
		}
	}
	o.Generate(t, dir, otrtest.Spec{
		PrivKeys: "otr.private_key", Keys: accts,
		InstanceTags: "otr.instance_tags", Tags: accts,
		Fingerprints: "otr.fingerprints", FPs: fps,
	})
	priv, fpf, tagf := filepath.Join(dir, "otr.private_key"), filepath.Join(dir, "otr.fingerprints"), filepath.Join(dir, "otr.instance_tags")

	if got, want := view(t, priv, fpf, tagf), o.Dump(t, priv, fpf, tagf); got != want {
		t.Errorf("keysync reads\n%s\nlibotr reads\n%s", got, want)
	}
	if n := len(readFPs(t, fpf)); n != len(fps) {
		t.Errorf("%d fingerprint rows, want %d", n, len(fps))
	}
	out := t.TempDir()
	checks := []struct {
		in    string
		write func(*bytes.Buffer) error
	}{
		{priv, func(b *bytes.Buffer) error { return libotr.WritePrivKeys(b, readKeys(t, priv)) }},
		{fpf, func(b *bytes.Buffer) error { return libotr.WriteFingerprints(b, readFPs(t, fpf)) }},
		{tagf, func(b *bytes.Buffer) error { return libotr.WriteInstanceTags(b, readTags(t, tagf)) }},
	}
	for _, c := range checks {
		got := writeFile(t, filepath.Join(out, filepath.Base(c.in)), c.write)
		if want := mustRead(t, c.in); !bytes.Equal(got, want) {
			t.Errorf("%s: keysync wrote\n%s\nlibotr wrote\n%s", filepath.Base(c.in), got, want)
		}
	}
}

// TestSamplesAsLibotrSeesThem compares keysync's reading of the sample
// files with libotr's.
func TestSamplesAsLibotrSeesThem(t *testing.T) {
	o := otrtest.Tool(t)
	for _, c := range [][2]string{
		{"pidgin/otr.private_key", "pidgin/otr.fingerprints"},
		{"adium/otr.private_key", "adium/otr.fingerprints"},
		{"irssi/otr.key", "irssi/otr.fp"},
		{"SAMENESS/pidgin/otr.private_key", "SAMENESS/pidgin/otr.fingerprints"},
		{"SAMENESS/adium/otr.private_key", "SAMENESS/adium/otr.fingerprints"},
	} {
		priv, fpf := filepath.Join(fixtures, c[0]), filepath.Join(fixtures, c[1])
		if got, want := view(t, priv, fpf, ""), o.Dump(t, priv, fpf, ""); got != want {
			t.Errorf("%s: keysync reads\n%s\nlibotr reads\n%s", c[0], got, want)
		}
	}
}

// blocks returns the account blocks of a key file, sorted, with the file's
// first and last lines.
func blocks(b []byte) string {
	parts := strings.Split(string(b), "\n (account\n")
	if len(parts) < 2 {
		return string(b)
	}
	last := parts[len(parts)-1]
	i := strings.LastIndex(last, " )\n")
	if i < 0 {
		return string(b)
	}
	parts[len(parts)-1] = last[:i+2]
	tail := last[i+2:]
	head := parts[0]
	body := parts[1:]
	sort.Strings(body)
	return head + "|" + strings.Join(body, "|") + "|" + tail
}

// printableKey returns a key whose MPIs are all printable bytes, so that
// libgcrypt prints them as quoted strings or tokens (the rare case).
func printableKey() *keysync.DSAKey {
	n := func(s string) *big.Int { return new(big.Int).SetBytes([]byte(s)) }
	return &keysync.DSAKey{
		P: n("Hello, world! This is p."), Q: n("q-token_value.1"),
		G: n("1starts with a digit"), Y: n("y 'quoted' \"string\" \\ \t\n"), X: n("x=printable/20bytes"),
	}
}

// TestKeysyncWrittenFilesLibotrView writes files with keysync (keys built
// from big.Ints without Raw, odd account names, every trust value, tags)
// and checks that libotr reads the same thing and, printing the keys with
// libgcrypt, writes the same bytes.
func TestKeysyncWrittenFilesLibotrView(t *testing.T) {
	o := otrtest.Tool(t)
	dir := t.TempDir()
	var keys []libotr.PrivKey
	for _, f := range []string{"pidgin/otr.private_key", "adium/otr.private_key", "irssi/otr.key"} {
		for _, k := range readKeys(t, filepath.Join(fixtures, f)) {
			k.Key.Native = nil
			keys = append(keys, k)
		}
	}
	names := []string{"1", "me@host/Res", "tab\there", "quote\"back\\slash", "ctl\x01\x7f", "hi\x85bit", "\xc3\xa9t\xc3\xa9", "é at end", "", "token-name.x:y*z+w=v/_"}
	for i, n := range names {
		keys = append(keys, libotr.PrivKey{Name: n, Protocol: "prpl-" + string(rune('a'+i)), Key: keys[i%len(keys)].Key})
	}
	keys = append(keys, libotr.PrivKey{Name: "printable", Protocol: "x", Key: printableKey()})
	priv := filepath.Join(dir, "otr.private_key")
	written := writeFile(t, priv, func(b *bytes.Buffer) error { return libotr.WritePrivKeys(b, keys) })
	for _, want := range []string{"(x x=printable/20bytes)", "(g \"1starts with a digit\")", "(y \"y \\'quoted\\' \\\"string\\\" \\\\ \\t\\n\")"} {
		if !strings.Contains(string(written), want) {
			t.Errorf("want %s in\n%s", want, written)
		}
	}

	trusts := []keysync.Trust{"", "verified", "smp", "manual", "custom trust"}
	var rows []libotr.FingerprintRow
	for i := range 12 {
		rows = append(rows, libotr.FingerprintRow{
			Username: []string{"bob@example.net", "alice", "Émile", "x y"}[i%4],
			Account:  []string{"me@host/Res", "1"}[i%2], Protocol: "prpl-jabber",
			Fingerprint: fp(byte(i)), Trust: trusts[i%len(trusts)],
		})
	}
	fpf := filepath.Join(dir, "otr.fingerprints")
	writeFile(t, fpf, func(b *bytes.Buffer) error { return libotr.WriteFingerprints(b, rows) })
	tags := []libotr.InstanceTag{{Account: "me@host/Res", Protocol: "prpl-jabber", Tag: 0x100}, {Account: "1", Protocol: "prpl-jabber", Tag: 0xfedcba98}}
	tagf := filepath.Join(dir, "otr.instance_tags")
	writeFile(t, tagf, func(b *bytes.Buffer) error { return libotr.WriteInstanceTags(b, tags) })

	var want []string
	for _, k := range keys {
		want = append(want, otrtest.KeyLine(k.Name, k.Protocol, k.Key))
	}
	for _, r := range rows {
		want = append(want, otrtest.FPLine(r.Username, r.Account, r.Protocol, r.Fingerprint, r.Trust))
	}
	for _, g := range tags {
		want = append(want, otrtest.TagLine(g.Account, g.Protocol, g.Tag))
	}
	if got := o.Dump(t, priv, fpf, tagf); got != otrtest.SortLines(want) {
		t.Errorf("libotr reads\n%s\nkeysync wrote\n%s", got, otrtest.SortLines(want))
	}

	out := t.TempDir()
	o.Rewrite(t, priv, "", tagf, filepath.Join(out, "k"), "", filepath.Join(out, "t"))
	// libotr keeps its keys in reverse file order: compare the blocks.
	if got := mustRead(t, filepath.Join(out, "k")); blocks(got) != blocks(written) {
		t.Errorf("libgcrypt prints the keys as\n%s\nkeysync wrote\n%s", got, written)
	}
	// libotr keeps its tags in reverse file order: compare sorted lines.
	lines := func(b []byte) string { return otrtest.SortLines(strings.Split(string(b), "\n")) }
	if got, want := mustRead(t, filepath.Join(out, "t")), mustRead(t, tagf); lines(got) != lines(want) {
		t.Errorf("libotr writes the tags as\n%s\nkeysync wrote\n%s", got, want)
	}
}

// TestReaderRulesAgreeWithLibotr feeds a hand-made fingerprints file
// (CRLF, 4 columns, upper-case hex, duplicates with changing trust, the
// longest line libotr reads whole, a last line ended by CR only) to both
// readers.
func TestReaderRulesAgreeWithLibotr(t *testing.T) {
	o := otrtest.Tool(t)
	const fa = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	const fb = "0123456789ABCDEFabcdef0123456789ABCDEFab"
	long := strings.Repeat("l", libotr.MaxLineLen-len("\ta\tp\t"+fa+"\t"))
	in := "u\ta\tp\t" + fa + "\tverified\r\n" +
		"\n" +
		"u\ta\tp\t" + fb + "\n" +
		"u\ta\tp\t" + fa + "\tsmp\n" +
		"v\ta\tp\t" + fa + "\t\n" +
		"u\ta\tp\t" + fb + "\tmanual\n" +
		long + "\ta\tp\t" + fa + "\t\n" +
		"w\ta\tp\t" + fa + "\tx\ty\n" +
		"u\ta\tp\t" + fa + "\tlast\r"
	name := filepath.Join(t.TempDir(), "fp")
	if err := os.WriteFile(name, []byte(in), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, want := view(t, "", name, ""), o.Dump(t, "", name, ""); got != want {
		t.Errorf("keysync reads\n%s\nlibotr reads\n%s", got, want)
	}
}

// TestFlexibleSyntaxAgreesWithLibotr writes the irssi sample key in other
// libgcrypt spellings and element orders and checks that both readers see
// the same key.
func TestFlexibleSyntaxAgreesWithLibotr(t *testing.T) {
	o := otrtest.Tool(t)
	k := readKeys(t, filepath.Join(fixtures, "irssi/otr.key"))[0].Key
	h := func(v *big.Int) string { return strings.ToLower(hex.EncodeToString(v.Bytes())) }
	b64 := func(v *big.Int) string { return strings.TrimRight(base64.StdEncoding.EncodeToString(v.Bytes()), "=") }
	y := k.Y.Bytes()
	p := h(k.P)
	text := "\r\n(privkeys\t(account [display hint]\f(private-key\v(dsa (x #" + h(k.X) + "#)" +
		"(y " + strconv.Itoa(len(y)) + ":" + string(y) + ")" +
		"(q #" + h(k.Q) + "# [hint])" +
		"(p 129#00" + p[:10] + " \n\t" + p[10:] + "#)" +
		"(g |" + b64(k.G) + "|)))" +
		"(unknown element)(protocol \"I\\x52\\103\")\n(name 16:test@example.org)))\n"
	name := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(name, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	got, want := view(t, name, "", ""), o.Dump(t, name, "", "")
	if got != want {
		t.Errorf("keysync reads\n%s\nlibotr reads\n%s", got, want)
	}
	if !strings.Contains(got, "key\ttest@example.org\tIRC\t"+k.Fingerprint().Human()) {
		t.Errorf("unexpected key: %s", got)
	}
}

// TestInstagRulesAgreeWithLibotr feeds a hand-made instance tags file
// (comment, blank line, CRLF, upper-case hex, a last line ended by CR) to
// both readers.
func TestInstagRulesAgreeWithLibotr(t *testing.T) {
	o := otrtest.Tool(t)
	in := "# a comment\n\nme@x/\tprpl-jabber\t0000ABCD\r\n" + libotr.InstagHeader + "\n" +
		"#not a comment\tIRC\tfedcba98\n" + "nick\tIRC\t00000100\r"
	name := filepath.Join(t.TempDir(), "tags")
	if err := os.WriteFile(name, []byte(in), 0o600); err != nil {
		t.Fatal(err)
	}
	got, want := view(t, "", "", name), o.Dump(t, "", "", name)
	if got != want {
		t.Errorf("keysync reads\n%s\nlibotr reads\n%s", got, want)
	}
	if n := strings.Count(got, "\n"); n != 3 {
		t.Errorf("%d tags, want 3:\n%s", n, got)
	}
}
