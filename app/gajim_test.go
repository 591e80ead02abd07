package app

import (
	"bytes"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/keysync/keysync"
	"github.com/keysync/keysync/format/potr"
	"github.com/keysync/keysync/internal/atomicfile"
	"github.com/keysync/keysync/internal/otrtest"
	"github.com/keysync/keysync/internal/peer"
)

// TestGajimSample checks the Gajim sample against doc/formats.md §11.1,
// §11.2 and §11.3.
func TestGajimSample(t *testing.T) {
	s, notices := read(t, "gajim", fixtures+"/gajim")
	if len(notices) != 0 {
		t.Errorf("notices: %v", notices)
	}
	equal(t, "keys", keyFingerprints(s), []string{"xmpp:gptest@guardianproject.info=203ed8dc97d55d979de3ed7620dd4fae14be9e46"})
	if err := s.Accounts[0].Keys[0].PrivateKey.Validate(); err != nil {
		t.Errorf("sample key: %v", err)
	}
	o := s.Accounts[0].Origins[0]
	if o.Name != "gptest@guardianproject.info/Gajim" || o.Protocol != "xmpp" || o.App != "gajim" {
		t.Errorf("spelling %+v", o)
	}
	const local = "xmpp:gptest@guardianproject.info|"
	equal(t, "fingerprints", rows(s), []string{
		local + "hans@guardianproject.info|df953988f5c05788c0327186d06d3bb4ddaaec7f|smp",
		local + "miron@hyper.to|3fed5b9b61a7669b4f140639df65af0233aec76c|",
		local + "steve.wyshywaniuk@gmail.com|367dd4fd52639242eb00a0e37f5d290934b4d37f|",
		local + "baghdadbot@gmail.com|30e756646687d75b61434667883779cd2ad3db1d|",
	})
}

func TestGajimSampleConfig(t *testing.T) {
	f, err := os.Open(fixtures + "/gajim/config")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	accts, err := readGajimConfig(f, "config")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range accts {
		got = append(got, fmt.Sprintf("%s %s %s %s %v", a.section, a.name, a.hostname, a.resource, a.zeroconf))
	}
	equal(t, "accounts", got, []string{
		"guardianproject.info gptest guardianproject.info Gajim false",
		"Local user xmpp gajim true",
		"guardianproject.info1 abel guardianproject.info Gajim false",
	})
}

// TestGajimConfigAsGajimReadsIt: Gajim's own pattern decides what a line
// means, values are unquoted and may hold " = ", the last value wins,
// CRLF and CR end lines as in Python's text mode, Python's \s includes
// Unicode spaces, and blank lines are ignored.
func TestGajimConfigAsGajimReadsIt(t *testing.T) {
	cfg := "version = 0.16\n" +
		"accounts.a.b.c.name = me\n" + // section "a.b.c"
		"accounts.a.b.c.hostname = example.org\r\n" +
		"accounts.a.b.c.resource = Res = ource\n" +
		"accounts.a.b.c.name = me2\r" +
		" \t\n" +
		"accounts.z.is_zeroconf\u00a0=\u20281\n" +
		"accounts.z.name = n\n" +
		"accounts.z.hostname = h\n" +
		"accounts.nosub = x\n" +
		"accounts.e.name =\n" + // \s=\s takes the line feed
		"accounts.t.hostname\t=\tno-newline"
	accts, err := readGajimConfig(strings.NewReader(cfg), "config")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range accts {
		got = append(got, fmt.Sprintf("%q %q %q %q %v %d", a.section, a.name, a.hostname, a.resource, a.zeroconf, a.line))
	}
	equal(t, "accounts", got, []string{
		`"a.b.c" "me2" "example.org" "Res = ource" false 2`,
		`"z" "n" "h" "" true 7`,
		`"e" "" "" "" false 11`,
		`"t" "" "no-newline" "" false 12`,
	})
}

// TestGajimConfigBounds: a huge file or too many sections are errors that
// name the file (and line) and quote nothing (the file holds passwords).
func TestGajimConfigBounds(t *testing.T) {
	big := "accounts.a.name = me\naccounts.a.password = " + strings.Repeat("secret", maxGajimConfigSize/6+1) + "\n"
	_, err := readGajimConfig(strings.NewReader(big), "config")
	if err == nil || err.Error() != fmt.Sprintf("config: larger than %d MiB, not a Gajim config", maxGajimConfigSize>>20) {
		t.Errorf("huge file: %v", err)
	}
	// A long line within the bound is read.
	ok := "accounts.a.password = " + strings.Repeat("s", 2<<20) + "\naccounts.a.name = me\n"
	if accts, err := readGajimConfig(strings.NewReader(ok), "config"); err != nil || len(accts) != 1 || accts[0].name != "me" {
		t.Errorf("2 MB line: %v %v", accts, err)
	}
	var many strings.Builder
	for i := 0; i <= maxGajimAccounts; i++ {
		fmt.Fprintf(&many, "accounts.s%d.name = secret\n", i)
	}
	_, err = readGajimConfig(strings.NewReader(many.String()), "config")
	if err == nil || err.Error() != fmt.Sprintf("config:%d: more than %d account sections", maxGajimAccounts+1, maxGajimAccounts) {
		t.Errorf("many sections: %v", err)
	}
}

// TestGajimConfigNotGajims: a file that is not Gajim's "option = value"
// lines (random bytes, text of another kind, bytes that are not UTF-8,
// which Gajim cannot read) is an error naming the file and the first such
// line, never accepted as a config without accounts; the error quotes
// nothing of the line, which may hold a password.
func TestGajimConfigNotGajims(t *testing.T) {
	random := make([]byte, 5000)
	rand.NewChaCha8([32]byte{1}).Read(random)
	for _, c := range []struct {
		name, data, want string
	}{
		{"random", string(random), "config:1: not UTF-8 text, which Gajim cannot read"},
		{"text", "accounts.a.name = me\naccounts.a.password secret\n", "config:2: not a line of Gajim's config (option = value)"},
		{"ini", "[accounts]\nname=secret\n", "config:1: not a line of Gajim's config (option = value)"},
		{"cr", "accounts.a.name = me\rsecret\n", "config:2: not a line of Gajim's config (option = value)"},
		{"latin1", "accounts.a.name = me\naccounts.a.password = s\xe9cret\n", "config:2: not UTF-8 text, which Gajim cannot read"},
		{"nul", "accounts.a.name = me\n\x00\x00secret\x00\n", "config:2: not a line of Gajim's config (option = value)"},
	} {
		_, err := readGajimConfig(strings.NewReader(c.data), "config")
		if err == nil || err.Error() != c.want {
			t.Errorf("%s: %v, want %s", c.name, err, c.want)
		}
	}
}

// gajimStore makes a Gajim folder with the sample's files.
func gajimStore(t *testing.T) string {
	dir := t.TempDir()
	for _, n := range []string{"config", "guardianproject.info.key3", "guardianproject.info.fpr"} {
		copyFile(t, filepath.Join(fixtures, "gajim", n), filepath.Join(dir, n))
	}
	return dir
}

func TestGajimRoundTripIsByteIdentical(t *testing.T) {
	dir := gajimStore(t)
	if n := roundTrip(t, "gajim", dir); n != 2 {
		t.Fatalf("wrote %d files, want the key and the fingerprints", n)
	}
	s, _ := read(t, "gajim", dir)
	files, _ := write(t, "gajim", dir, s)
	if !files[0].Secret || files[1].Secret || !strings.HasSuffix(files[0].Path, ".key3") {
		t.Errorf("secret flags: %s %v, %s %v", files[0].Path, files[0].Secret, files[1].Path, files[1].Secret)
	}
}

// TestGajimRowsGotrIgnores: rows of another account or protocol are left
// out and reported, as gotr ignores them; gotr's dictionary keeps one trust
// per (JID, fingerprint), the last.
func TestGajimRowsGotrIgnores(t *testing.T) {
	dir := gajimStore(t)
	const f = "df953988f5c05788c0327186d06d3bb4ddaaec7f"
	writeFile(t, filepath.Join(dir, "guardianproject.info.fpr"),
		"hans@guardianproject.info\tgptest@guardianproject.info\txmpp\t"+f+"\t\n"+
			"other@example.org\tsomeone@else.org\txmpp\t"+f+"\tsmp\n"+
			"irc\tgptest@guardianproject.info\tprpl-irc\t"+f+"\tsmp\n"+
			"hans@guardianproject.info/Laptop\tgptest@guardianproject.info\txmpp\t"+f+"\tverified\n")
	s, notices := read(t, "gajim", dir)
	equal(t, "rows", rows(s), []string{"xmpp:gptest@guardianproject.info|hans@guardianproject.info|" + f + "|verified"})
	if len(notices) != 1 || notices[0].Line != 2 || !strings.Contains(notices[0].Msg,
		`2 rows left out: Gajim reads only the rows of account "gptest@guardianproject.info" and protocol xmpp`) {
		t.Errorf("notices: %v", notices)
	}
}

// TestGajimWithoutConfig: keys are kept unmapped and rows filed under
// their account column; nothing can be written without the config.
func TestGajimWithoutConfig(t *testing.T) {
	dir := gajimStore(t)
	os.Remove(filepath.Join(dir, "config"))
	s, notices := read(t, "gajim", dir)
	equal(t, "keys", keyFingerprints(s), []string{"xmpp:gajim:guardianproject.info=203ed8dc97d55d979de3ed7620dd4fae14be9e46"})
	if len(notices) != 2 || !strings.Contains(notices[0].Msg, `key of Gajim account "guardianproject.info" kept unmapped: no Gajim config at `) ||
		!strings.Contains(notices[1].Msg, `rows of Gajim account "guardianproject.info" read under their account column: no Gajim config at `) {
		t.Errorf("notices: %v", notices)
	}
	if len(s.Fingerprints) != 4 || s.Fingerprints[0].Local().String() != "xmpp:gptest@guardianproject.info" {
		t.Errorf("rows %v", rows(s))
	}
	files, notices := write(t, "gajim", dir, s)
	if len(files) != 0 || len(notices) != 2 {
		t.Errorf("wrote %d files; notices %v", len(files), notices)
	}
	for _, n := range notices {
		if !strings.Contains(n.Msg, "(1 private key): no Gajim config at ") && !strings.Contains(n.Msg, "(4 fingerprints): no Gajim config at ") {
			t.Errorf("notice %v", n)
		}
	}
	if _, _, err := (gajimApp{}).Read(ReadRequest{Dir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), ErrNoStore.Error()) {
		t.Errorf("empty folder: %v", err)
	}
}

// TestGajimSkips: what Gajim cannot hold is reported, never written.
func TestGajimSkips(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "config"), gajimInteropConfig)
	s, _ := read(t, "pidgin", fixtures+"/pidgin")
	files, notices := write(t, "gajim", dir, s)
	var got []string
	for _, n := range notices {
		got = append(got, n.Msg)
	}
	equal(t, "notices", got, []string{
		"gajim: skipped xmpp:gptest@limun.org (1 private key, 2 fingerprints): Gajim's config has no account with this JID (create it in Gajim first)",
		"gajim: skipped bonjour:gptest@mycomputer (1 private key): invalid key, which potr refuses to load",
	})
	var paths []string
	for _, f := range files {
		paths = append(paths, filepath.Base(f.Path)+" "+f.Summary)
	}
	equal(t, "files", paths, []string{"jabber.org.key3 1 private key", "jabber.org.fpr 2 fingerprints", "Local.fpr 2 fingerprints"})
	// Read back, the zeroconf account's rows are Bonjour's again.
	for _, f := range files {
		if err := os.WriteFile(f.Path, f.Data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	back, _ := read(t, "gajim", dir)
	equal(t, "rows read back", rows(back), []string{
		"xmpp:gptest@jabber.org|gptest@jabber.ccc.de|a2cd015572d256703e7624840f91209160185410|",
		"xmpp:gptest@jabber.org|hans@eds.org|ff66e8c909c4deb51cbd4a02b9e6af4d6af215f8|",
		"bonjour:gptest@mycomputer|n8fr8@foo_com|92967e4743bc730e0a3396be1a6ea365cc38f0f3|",
		"bonjour:gptest@mycomputer|gptest@jabber_ccc_de|a2cd015572d256703e7624840f91209160185410|verified",
	})
	if got := string(mustRead(t, filepath.Join(dir, "Local.fpr"))); !strings.HasPrefix(got, "n8fr8@foo_com\tgptest@mycomputer\txmpp\t") {
		t.Errorf("zeroconf rows: %q", got)
	}

	s, _ = read(t, "irssi", fixtures+"/irssi")
	_, notices = write(t, "gajim", dir, s)
	if len(notices) != 1 || notices[0].Msg != "gajim: skipped irc:test@example.org (1 private key, 4 fingerprints): Gajim holds only XMPP accounts" {
		t.Errorf("irssi: %v", notices)
	}
}

// gajimInteropConfig has Gajim accounts for the XMPP accounts of the
// interop Pidgin store and of the Pidgin sample, and a zeroconf account.
const gajimInteropConfig = `accounts.example.org.name = alice
accounts.example.org.hostname = example.org
accounts.example.org.resource = Gajim
accounts.example.org.password = secret
accounts.jabber.org.name = bob
accounts.jabber.org.hostname = jabber.org
accounts.jabber.org.resource = 
accounts.jabber.org.name = gptest
accounts.Local.name = gptest
accounts.Local.hostname = mycomputer
accounts.Local.is_zeroconf = True
`

// gotrLoads checks every line of a .fpr as gotr's loadTrusts reads it:
// line[:-1].split('\t') must give five fields.
func gotrLoads(t *testing.T, path string) int {
	t.Helper()
	data := mustRead(t, path)
	if !bytes.HasSuffix(data, []byte("\n")) {
		t.Errorf("%s: no line feed at the end", path)
	}
	n := 0
	for _, l := range strings.SplitAfter(string(data), "\n") {
		if l == "" {
			continue
		}
		if f := strings.Split(l[:len(l)-1], "\t"); len(f) != 5 || f[2] != "xmpp" {
			t.Errorf("%s: line %q is not gotr's five fields", path, l)
		}
		n++
	}
	return n
}

// potrLoad loads each key file as Gajim's plugin does
// (potr.crypt.PK.parsePrivateKey(data)[0]) and prints its fingerprint.
const potrLoad = `
import sys
import potr.crypt
for path in sys.argv[1:]:
    with open(path, 'rb') as f:
        print(potr.crypt.PK.parsePrivateKey(f.read())[0].cfingerprint())
`

// TestLibotrPidginGajim: libotr's Pidgin store converted to Gajim loads in
// potr with the same fingerprints, gotr can read its rows, and converted
// back to Pidgin, libotr reads the XMPP keys and trust as they were.
func TestLibotrPidginGajim(t *testing.T) {
	otr := otrtest.Tool(t)
	pidgin := libotrPidgin(t, otr)
	orig := dump(t, otr, pidgin, "otr.private_key", "otr.fingerprints", "otr.instance_tags")

	gajim := t.TempDir()
	writeFile(t, filepath.Join(gajim, "config"), strings.Replace(gajimInteropConfig, "accounts.jabber.org.name = gptest\n", "", 1))
	notices := convert(t, "pidgin", pidgin, "gajim", gajim)
	if len(notices) != 1 || !strings.Contains(notices[0].Msg, "skipped irc:alice@irc.example.net (1 private key, 4 fingerprints): Gajim holds only XMPP accounts") {
		t.Errorf("notices: %v", notices)
	}
	s, _ := read(t, "pidgin", pidgin)
	var want []string
	for _, a := range []string{"alice@example.org", "bob@jabber.org"} {
		want = append(want, s.Account(keysync.Account{Protocol: "xmpp", Address: a}).Keys[0].PrivateKey.Fingerprint().String())
	}
	keys := []string{filepath.Join(gajim, "example.org.key3"), filepath.Join(gajim, "jabber.org.key3")}
	for _, k := range keys {
		if fi, err := os.Stat(k); err != nil || (runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600) {
			t.Errorf("%s: %v %v", k, fi, err)
		}
	}
	if n := gotrLoads(t, filepath.Join(gajim, "example.org.fpr")) + gotrLoads(t, filepath.Join(gajim, "jabber.org.fpr")); n != 6 {
		t.Errorf("%d rows in the .fpr files, want 6", n)
	}
	if err := exec.Command(potrPython, "-c", "import potr.crypt").Run(); err != nil {
		peer.Missing(t, "python3-potr under "+potrPython+": "+err.Error())
	} else {
		out, err := exec.Command(potrPython, append([]string{"-c", potrLoad}, keys...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("potr: %v\n%s", err, out)
		}
		equal(t, "potr's fingerprints of keysync's .key3 files", strings.Fields(string(out)), want)
	}

	back := t.TempDir()
	writeFile(t, filepath.Join(back, "accounts.xml"), pidginAccountsXML)
	convert(t, "gajim", gajim, "pidgin", back)
	got := dump(t, otr, back, "otr.private_key", "otr.fingerprints", "otr.instance_tags")
	if want := rename(orig, nil, nil, map[string]bool{"prpl-jabber": true}); got != want {
		t.Errorf("pidgin → gajim → pidgin:\n%s\nwant\n%s", got, want)
	}
}

// potrPython is Debian's python, where python3-potr lives.
const potrPython = "/usr/bin/python3"

// TestPotrKeyReadsInGajim: a key file potr serializes (as Gajim's plugin
// saves it) reads in keysync's gajim app with potr's fingerprint.
func TestPotrKeyReadsInGajim(t *testing.T) {
	if err := exec.Command(potrPython, "-c", "import potr.crypt").Run(); err != nil {
		peer.Missing(t, "python3-potr under "+potrPython+": "+err.Error())
	}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "config"), gajimInteropConfig)
	// The body of potr's DSAKey.generate, whose .key attribute Debian's
	// pycryptodome no longer has; then savePrivkey's serialization.
	const script = `
import sys
from Cryptodome.PublicKey import DSA
from potr.compatcrypto.pycrypto import DSAKey
d = DSA.generate(1024)
k = DSAKey((d.y, d.g, d.p, d.q, d.x), private=True)
with open(sys.argv[1], 'wb') as f:
    f.write(k.serializePrivateKey())
print(k.cfingerprint())
`
	out, err := exec.Command(potrPython, "-c", script, filepath.Join(dir, "example.org.key3")).CombinedOutput()
	if err != nil {
		t.Fatalf("potr: %v\n%s", err, out)
	}
	s, notices := read(t, "gajim", dir)
	if len(notices) != 0 {
		t.Errorf("notices: %v", notices)
	}
	equal(t, "keys", keyFingerprints(s), []string{"xmpp:alice@example.org=" + strings.TrimSpace(string(out))})
	if n := roundTrip(t, "gajim", dir); n != 1 {
		t.Errorf("round trip wrote %d files", n)
	}
}

func TestGajimDirs(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Setenv("APPDATA", `C:\Users\u\AppData\Roaming`)
		d, err := (gajimApp{}).DefaultDir()
		if err != nil || d != `C:\Users\u\AppData\Roaming\Gajim` || gajimConfigPath(d) != d+`\config` {
			t.Errorf("windows: %q %v", d, err)
		}
		return
	}
	t.Setenv("XDG_DATA_HOME", "/x/data")
	t.Setenv("XDG_CONFIG_HOME", "/x/config")
	d, err := (gajimApp{}).DefaultDir()
	if err != nil || d != "/x/data/gajim" {
		t.Errorf("DefaultDir %q %v", d, err)
	}
	if p := gajimConfigPath("/x/data/gajim/"); p != "/x/config/gajim/config" {
		t.Errorf("default data folder's config: %s", p)
	}
	if p := gajimConfigPath("/elsewhere"); p != "/elsewhere/config" {
		t.Errorf("gajim:DIR's config: %s", p)
	}
	t.Setenv("XDG_DATA_HOME", "")
	t.Setenv("HOME", "/home/u")
	if d, _ := (gajimApp{}).DefaultDir(); d != "/home/u/.local/share/gajim" {
		t.Errorf("without XDG_DATA_HOME: %s", d)
	}
}

// TestGajimReadRecordsSeen: the read records the config and the files it
// read, so that a write refuses them when they change.
func TestGajimReadRecordsSeen(t *testing.T) {
	dir := gajimStore(t)
	var seen Seen
	if _, _, err := (gajimApp{}).Read(ReadRequest{Dir: dir, Source: "gajim:" + dir, Seen: &seen}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"config", "guardianproject.info.key3", "guardianproject.info.fpr"} {
		if v := seen.Version(filepath.Join(dir, n)); v == (atomicfile.Version{}) || v == atomicfile.Missing {
			t.Errorf("%s not recorded", n)
		}
	}
}

// FuzzGajimConfig checks that reading a config never panics, that errors
// are short and never quote the file, and that sections are distinct.
func FuzzGajimConfig(f *testing.F) {
	f.Add([]byte(gajimInteropConfig))
	f.Add([]byte("accounts.a.b.c.name = x = y\r\naccounts..name = \naccounts.=.x = 1\n"))
	f.Add([]byte("accounts.a.password = secret" + strings.Repeat("s", 70<<10) + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		accts, err := readGajimConfig(bytes.NewReader(data), "config")
		checkMessages(t, err, nil)
		if err != nil {
			if len(err.Error()) > 100 || strings.Contains(err.Error(), "secret") {
				t.Fatalf("error %q", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, a := range accts {
			if seen[a.section] {
				t.Fatalf("section %q twice", a.section)
			}
			seen[a.section] = true
		}
	})
}

// FuzzGajimFingerprints reads any .fpr with the sample's config and key:
// it never panics, errors are short, and what is read is written and read
// back to the same rows.
func FuzzGajimFingerprints(f *testing.F) {
	// Small seeds and the sample's account alone rather than its 29 KB
	// config: the engine minimises every new input in time quadratic in
	// its length, and each run reads and writes a store. The sample's
	// rows and config are read by TestGajimSample.
	f.Add([]byte("hans@guardianproject.info\tgptest@guardianproject.info\txmpp\tdf953988f5c05788c0327186d06d3bb4ddaaec7f\tsmp\n"))
	f.Add([]byte("a/b\tgptest@guardianproject.info\txmpp\t" + strings.Repeat("ab", 20) + "\tsmp\r\n\n" +
		"a\tgptest@guardianproject.info\txmpp\t" + strings.Repeat("AB", 20) + "\n"))
	f.Add([]byte(strings.Repeat("x", 200) + "\n")) // longer seeds stall minimisation
	dir := f.TempDir()
	config := []byte("accounts.guardianproject.info.resource = Gajim\naccounts.guardianproject.info.name = gptest\n" +
		"accounts.guardianproject.info.hostname = guardianproject.info\n")
	for n, data := range map[string][]byte{"config": config, "guardianproject.info.key3": fuzzRead(f, filepath.Join(fixtures, "gajim", "guardianproject.info.key3"))} {
		if err := os.WriteFile(filepath.Join(dir, n), data, 0o600); err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fpr := filepath.Join(dir, "guardianproject.info.fpr")
		if err := os.WriteFile(fpr, data, 0o600); err != nil {
			t.Fatal(err)
		}
		s, notices, err := (gajimApp{}).Read(ReadRequest{Dir: dir, Source: "gajim:" + dir})
		checkMessages(t, err, notices)
		if err != nil {
			return
		}
		plan, notices, err := (gajimApp{}).Write(dir, "gajim:"+dir, s)
		checkMessages(t, nil, notices)
		if err != nil {
			t.Fatal(err)
		}
		for _, file := range plan.Files {
			var b bytes.Buffer
			file.Content.WriteTo(&b)
			if err := os.WriteFile(file.Path, b.Bytes(), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		s2, _, err := (gajimApp{}).Read(ReadRequest{Dir: dir, Source: "gajim:" + dir})
		if err != nil {
			t.Fatalf("reading what was written: %v", err)
		}
		if got, want := strings.Join(rows(s2), "\n"), strings.Join(rows(s), "\n"); got != want {
			t.Fatalf("rows changed:\n%s\nwant\n%s", got, want)
		}
	})
}

func fuzzRead(f *testing.F, path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	return b
}

// TestEverySampleFileInGajimParsers feeds every sample file of every app
// to the Gajim parsers: errors are fine, panics are not, and no file but
// the Gajim sample's key reads as a potr key.
func TestEverySampleFileInGajimParsers(t *testing.T) {
	n := 0
	err := filepath.WalkDir(fixtures, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		n++
		readGajimConfig(bytes.NewReader(data), path)
		if _, err := potr.ParsePrivKey(data, path); err == nil && !strings.HasSuffix(path, ".key3") {
			t.Errorf("%s reads as a potr key", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 40 {
		t.Fatalf("walked only %d sample files", n)
	}
}
