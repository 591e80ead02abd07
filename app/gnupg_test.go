package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/keysync/keysync"
	"github.com/keysync/keysync/format/gpgcolon"
	"github.com/keysync/keysync/internal/atomicfile"
	"github.com/keysync/keysync/internal/gpgtest"
	"github.com/keysync/keysync/internal/peer"
)

// The GnuPG tests let the real gpg make keys in temporary homes, read them
// with keysync, convert one home into another through gpg imports and
// check with gpg what arrived.

// gpgHome makes an empty GnuPG home with a short path (gpg-agent's socket
// lives in it, and socket paths are short) and stops its agent at the
// end of the test.
func gpgHome(t *testing.T) string {
	t.Helper()
	base := os.TempDir()
	if runtime.GOOS != "windows" {
		base = "/tmp" // TMPDIR may be long, or pointed elsewhere by the test
	}
	dir, err := os.MkdirTemp(base, "ksg")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if p, err := exec.LookPath("gpgconf"); err == nil {
			exec.Command(p, "--homedir", dir, "--kill", "gpg-agent").Run()
		}
		os.RemoveAll(dir)
	})
	return dir
}

// gpgCmd runs the real gpg on home and returns its standard output.
func gpgCmd(t *testing.T, home string, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(peer.Need(t, "gpg"), append([]string{"--homedir", home, "--batch", "--no-tty"}, args...)...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	cmd.Stdin = strings.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("gpg %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// genKey has gpg make a key for uid, protected by pass ("" for none), and
// returns its fingerprint.
func genKey(t *testing.T, home, uid, algo, pass string) string {
	t.Helper()
	gpgCmd(t, home, "", "--pinentry-mode", "loopback", "--passphrase", pass, "--quick-gen-key", uid, algo, "default", "never")
	fprs := gpgListing(t, home, "--list-keys", uid)
	if len(fprs) != 1 {
		t.Fatalf("gpg lists %d keys for %s", len(fprs), uid)
	}
	return fprs[0]
}

// gpgListing returns the primary fingerprints gpg lists, read with string
// operations of its own rather than package gpgcolon.
func gpgListing(t *testing.T, home string, args ...string) []string {
	t.Helper()
	var fprs []string
	primary := false
	for _, l := range strings.Split(gpgCmd(t, home, "", append([]string{"--with-colons", "--with-fingerprint"}, args...)...), "\n") {
		f := strings.Split(l, ":")
		switch {
		case f[0] == "pub" || f[0] == "sec":
			primary = true
		case f[0] == "fpr" && primary:
			fprs = append(fprs, f[9])
			primary = false
		}
	}
	return fprs
}

// gpgOwnertrust returns the lines of gpg --export-ownertrust, sorted,
// without comments.
func gpgOwnertrust(t *testing.T, home string) []string {
	var lines []string
	for _, l := range strings.Split(gpgCmd(t, home, "", "--export-ownertrust"), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	return sortedStrings(lines)
}

func sortedStrings(s []string) []string {
	s = append([]string(nil), s...)
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s
}

func hexFP(f keysync.Fingerprint) string { return strings.ToUpper(f.String()) }

// pgpHomes is a home A with: Alice's key, secret and unprotected, with a
// second user ID; Carol's, secret and protected by a passphrase; Bob's
// public key only, made in another home, with marginal ownertrust.
type pgpHomes struct {
	a                  string
	alice, bob, carol  string // fingerprints
	aliceUIDs, bobUIDs []string
}

const carolPass = "carol's passphrase"

func makePGPHomes(t *testing.T) pgpHomes {
	h := pgpHomes{a: gpgHome(t)}
	other := gpgHome(t)
	h.aliceUIDs = []string{"Alice <alice@example.org>", "Alice (work: keys) <alice@work.example>"}
	h.alice = genKey(t, h.a, h.aliceUIDs[0], "ed25519", "")
	gpgCmd(t, h.a, "", "--quick-add-uid", h.alice, h.aliceUIDs[1])
	h.carol = genKey(t, h.a, "Carol <carol@example.org>", "ed25519", carolPass)
	h.bobUIDs = []string{"Bob <bob@example.net>"}
	h.bob = genKey(t, other, h.bobUIDs[0], "rsa2048", "")
	gpgCmd(t, h.a, gpgCmd(t, other, "", "--export", h.bob), "--import")
	gpgCmd(t, h.a, h.bob+":4:\n", "--import-ownertrust")
	return h
}

func readGnupg(t *testing.T, dir string, prompt Prompt) (*keysync.Model, []Notice) {
	t.Helper()
	a, _ := Lookup("gnupg")
	m, notices, err := a.Read(ReadRequest{Dir: dir, Source: "gnupg:" + dir, Prompt: prompt})
	if err != nil {
		t.Fatal(err)
	}
	return m, notices
}

func TestGnupgReadInterop(t *testing.T) {
	h := makePGPHomes(t)
	m, notices := readGnupg(t, h.a, nil)
	byFP := map[string]keysync.OpenPGPKey{}
	var order []string
	for _, k := range m.OpenPGPKeys {
		if k.Fingerprint.Kind != keysync.OpenPGP {
			t.Errorf("key %s of kind %v", k.Fingerprint, k.Fingerprint.Kind)
		}
		byFP[hexFP(k.Fingerprint)] = k
		order = append(order, hexFP(k.Fingerprint))
	}
	if want := gpgListing(t, h.a, "--list-keys"); !reflect.DeepEqual(order, want) {
		t.Fatalf("keysync read keys %q, gpg lists %q", order, want)
	}
	alice, bob, carol := byFP[h.alice], byFP[h.bob], byFP[h.carol]
	if !reflect.DeepEqual(sortedStrings(alice.UserIDs), sortedStrings(h.aliceUIDs)) || !reflect.DeepEqual(bob.UserIDs, h.bobUIDs) {
		t.Errorf("user IDs: Alice %q, Bob %q", alice.UserIDs, bob.UserIDs)
	}
	if alice.Ownertrust != keysync.OwnertrustUltimate || bob.Ownertrust != keysync.OwnertrustMarginal {
		t.Errorf("ownertrust: Alice %v, Bob %v; want ultimate, marginal", alice.Ownertrust, bob.Ownertrust)
	}
	if !alice.HasSecret || alice.Secret == nil || bob.HasSecret || bob.Secret != nil {
		t.Errorf("secrets: Alice %v/%d bytes, Bob %v/%d bytes", alice.HasSecret, len(alice.Secret), bob.HasSecret, len(bob.Secret))
	}
	if !carol.HasSecret || carol.Secret != nil {
		t.Errorf("Carol's protected key read without a passphrase: %v/%d bytes", carol.HasSecret, len(carol.Secret))
	}
	if len(notices) != 1 || !strings.Contains(notices[0].Msg, `secret key "Carol <carol@example.org>"`) ||
		!strings.Contains(notices[0].Msg, "passphrase") {
		t.Errorf("notices = %v, want one about Carol's passphrase", notices)
	}
	if got := string(alice.Public); got != gpgCmd(t, h.a, "", "--export-options", "export-local-sigs", "--export", h.alice) {
		t.Errorf("Alice's packets (%d bytes) differ from gpg --export's", len(got))
	}

	// With a prompt, Carol's key is exported with the passphrase asked for.
	var asked []string
	m, notices = readGnupg(t, h.a, func(what string) ([]byte, error) {
		asked = append(asked, what)
		return []byte(carolPass), nil
	})
	for _, k := range m.OpenPGPKeys {
		if hexFP(k.Fingerprint) == h.carol && k.Secret == nil {
			t.Errorf("Carol's key not read with its passphrase; notices %v", notices)
		}
	}
	if len(asked) != 1 || !strings.Contains(asked[0], "Carol") {
		t.Errorf("asked %q, want Carol's passphrase once", asked)
	}
}

// TestGnupgConvertInterop converts home A into an empty home B through
// keysync and checks with gpg that B holds A's public and secret keys and
// ownertrust, that A is as it was, that no gpg-agent was left running
// for either (none ran before), and that no file is left in TMPDIR.
func TestGnupgConvertInterop(t *testing.T) {
	h := makePGPHomes(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	b := gpgHome(t)
	stopAgent(t, h.a)
	agedFiles(t, h.a)
	before := gpgtest.Take(t, h.a)
	a, _ := Lookup("gnupg")
	from := []Location{{App: a, Dir: h.a, Name: "gnupg:" + h.a}}
	to := []Location{{App: a, Dir: b, Name: "gnupg:" + b}}
	conv, err := Convert(from, to, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(conv.Conflicts) != 0 {
		t.Fatalf("conflicts: %+v", conv.Conflicts)
	}
	var summaries []string
	for _, c := range conv.Plan.Commands {
		summaries = append(summaries, c.Summary)
		if c.Secret != strings.Contains(c.Summary, "secret") {
			t.Errorf("command %s (%s): Secret = %v", c, c.Summary, c.Secret)
		}
	}
	if want := []string{"3 public keys", "1 secret key", "3 ownertrust values", "stop the gpg-agent started by the imports"}; !reflect.DeepEqual(summaries, want) {
		t.Fatalf("commands %q, want %q", summaries, want)
	}
	prepared, err := conv.Plan.Prepare(conv.Seen, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := prepared.Apply(); err != nil {
		t.Fatal(err)
	}
	for _, d := range before.Diff(gpgtest.Take(t, h.a)) {
		t.Errorf("converting from A changed A's %s", d)
	}
	waitNoAgent(t, h.a)
	waitNoAgent(t, b)

	if got, want := sortedStrings(gpgListing(t, b, "--list-keys")), sortedStrings([]string{h.alice, h.bob, h.carol}); !reflect.DeepEqual(got, want) {
		t.Errorf("B lists keys %q, want %q", got, want)
	}
	if got := gpgListing(t, b, "--list-secret-keys"); !reflect.DeepEqual(got, []string{h.alice}) {
		t.Errorf("B lists secret keys %q, want Alice's (Carol's was not readable)", got)
	}
	if got, want := gpgOwnertrust(t, b), gpgOwnertrust(t, h.a); !reflect.DeepEqual(got, want) {
		t.Errorf("B's ownertrust %q, want A's %q", got, want)
	}
	// B now holds everything A can give: converting again plans nothing.
	conv, err = Convert(from, to, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(conv.Plan.Commands) != 0 {
		t.Errorf("second conversion plans %d commands, want none", len(conv.Plan.Commands))
	}
	// B's secret key works: gpg signs with it.
	gpgCmd(t, b, "hello", "--local-user", h.alice, "--sign")

	// And keysync reads B as it read A, but for Carol's secret part.
	mb, _ := readGnupg(t, b, nil)
	if len(mb.OpenPGPKeys) != 3 {
		t.Errorf("read back %d keys from B, want 3", len(mb.OpenPGPKeys))
	}

	err = filepath.WalkDir(tmp, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			t.Errorf("file left in TMPDIR: %s", path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestGnupgReadSample reads the GnuPG 1.x sample home (copied: gpg 2
// migrates its secret keyring) and gets its two keys, the test key with
// its unprotected secret key and ultimate ownertrust.
func TestGnupgReadSample(t *testing.T) {
	peer.Need(t, "gpg")
	home := gpgHome(t)
	for _, name := range []string{"pubring.gpg", "secring.gpg", "trustdb.gpg"} {
		data, err := os.ReadFile(filepath.Join(fixtures, "gnupg", name))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(home, name), string(data))
	}
	m, notices := readGnupg(t, home, nil)
	if len(notices) != 0 {
		t.Errorf("notices: %v", notices)
	}
	if len(m.OpenPGPKeys) != 2 {
		t.Fatalf("%d keys, want 2", len(m.OpenPGPKeys))
	}
	k := m.OpenPGPKeys[0]
	if got, want := k.Fingerprint.Human(), "DD74 20C6 E2CE D2A4 B02F  AF53 C3C1 9690 0EDC CD44"; got != want {
		t.Errorf("first key %s, want %s", got, want)
	}
	if k.UserIDs[0] != "jabber (otr:1E96FCDD) <bobtester@guardianproject.info>" || !k.HasSecret || k.Secret == nil ||
		k.Ownertrust != keysync.OwnertrustUltimate {
		t.Errorf("test key: %q, secret %v/%d bytes, ownertrust %v", k.UserIDs, k.HasSecret, len(k.Secret), k.Ownertrust)
	}
	if h := m.OpenPGPKeys[1]; h.HasSecret || len(h.UserIDs) != 6 || h.Ownertrust != keysync.OwnertrustUnset {
		t.Errorf("second key: %q, secret %v, ownertrust %v", h.UserIDs, h.HasSecret, h.Ownertrust)
	}
}

// TestGnupgCommandErrorsKeepSecrets shows that a failing import of secret
// input quotes nothing gpg said (it may echo its input), while a failing
// public import does.
func TestGnupgCommandErrorsKeepSecrets(t *testing.T) {
	gpg := peer.Need(t, "gpg")
	home := gpgHome(t)
	const marker = "SECRET-MARKER-0123456789"
	junk := "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n" + marker + "\n-----END PGP PRIVATE KEY BLOCK-----\n"
	for _, secret := range []bool{true, false} {
		c := Command{Path: gpg, Args: append(gpgOptions(home), "--import"), Stdin: atomicfile.Bytes(junk), Secret: secret}
		err := c.run()
		if err == nil {
			t.Fatalf("gpg imported junk")
		}
		t.Logf("secret %v: %v", secret, err)
		quoted := strings.Contains(err.Error(), "exit status 2: ")
		if secret && (quoted || strings.Contains(err.Error(), marker)) {
			t.Errorf("secret import's error quotes gpg: %v", err)
		}
		if !secret && !quoted {
			t.Errorf("public import's error does not quote gpg: %v", err)
		}
	}
}

// fakeGPG puts a shell script called gpg first in PATH.
func fakeGPG(t *testing.T, script string) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("shell scripts")
	}
	bin := t.TempDir()
	writeFile(t, filepath.Join(bin, "gpg"), "#!/bin/sh\n"+script+"\n")
	if err := os.Chmod(filepath.Join(bin, "gpg"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	home := t.TempDir()
	writeFile(t, filepath.Join(home, "pubring.kbx"), "")
	return home
}

// TestGnupgReadBounded shows that a gpg that never ends or never stops
// talking makes Read fail in bounded time and memory.
func TestGnupgReadBounded(t *testing.T) {
	defer func(d time.Duration, n int) { gpgTimeout, gpgMaxOutput = d, n }(gpgTimeout, gpgMaxOutput)
	gpgTimeout, gpgMaxOutput = 500*time.Millisecond, 1<<20
	a, _ := Lookup("gnupg")
	for _, c := range []struct{ script, want string }{
		{"exec sleep 30", "gpg --list-keys: no result within 500ms"},
		{"exec yes pub:u:1:1:X:1:::u:::sc:", "gpg --list-keys: output beyond 1 MiB"},
		{"echo 'pub:u:1:1:X:1:::u:::sc:'; echo 'uid:u::::::::x:'", "gpg --list-keys output: key of line 1 has no fingerprint"},
		{"echo 'gpg: keyring broken' >&2; exit 2", "gpg --list-keys: exit status 2: gpg: keyring broken"},
		{`printf 'gpg: key "\033[2J" broken\n' >&2; exit 2`, "gpg --list-keys: exit status 2: gpg: key \"\\x1b[2J\" broken"},
	} {
		home := fakeGPG(t, c.script)
		start := time.Now()
		_, _, err := a.Read(ReadRequest{Dir: home, Source: "gnupg:" + home})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("gpg %q: Read = %v, want %q", c.script, err, c.want)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("gpg %q: Read took %v", c.script, d)
		}
	}
}

func TestGnupgNoStore(t *testing.T) {
	a, _ := Lookup("gnupg")
	_, _, err := a.Read(ReadRequest{Dir: t.TempDir()})
	if !errors.Is(err, ErrNoStore) {
		t.Errorf("Read of an empty folder = %v, want ErrNoStore", err)
	}
}

// TestGnupgWriteSkips shows what the gnupg writer cannot hold, and a
// libotr writer skipping OpenPGP keys.
func TestGnupgWriteSkips(t *testing.T) {
	m := &keysync.Model{
		OpenPGPKeys: []keysync.OpenPGPKey{
			{Fingerprint: keysync.OpenPGPFingerprint([20]byte{1}), Public: []byte("p1"), HasSecret: true, Ownertrust: keysync.OwnertrustFull},
			{Fingerprint: keysync.OpenPGPFingerprint([20]byte{2}), Public: []byte("p2"), HasSecret: true, Secret: []byte("SECRET-PACKETS-2")},
		},
		Fingerprints: []keysync.KnownFingerprint{{Contact: "bob", Fingerprint: keysync.OTRFingerprint([20]byte{3}),
			Origin: &keysync.Origin{Local: keysync.Account{Protocol: "xmpp", Address: "a@x"}}}},
	}
	la := m.AddAccount(keysync.Account{Protocol: "xmpp", Address: "a@x"})
	la.Keys = []keysync.Key{{PrivateKey: &keysync.DSAKey{P: big.NewInt(23), Q: big.NewInt(11), G: big.NewInt(4), Y: big.NewInt(8), X: big.NewInt(3)},
		Origin: &keysync.Origin{}}}
	if _, err := exec.LookPath("gpg"); err != nil {
		peer.Missing(t, "gpg not found")
	}
	a, _ := Lookup("gnupg")
	dir := t.TempDir()
	plan, notices, err := a.Write(dir, "gnupg:"+dir, m)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, n := range notices {
		msgs = append(msgs, n.Msg)
	}
	want := []string{
		"gnupg: skipped 1 OTR private key: GnuPG holds only OpenPGP keys",
		"gnupg: skipped 1 OTR fingerprint: GnuPG holds only OpenPGP keys",
		"gnupg: 1 secret key not written: the stores they came from could not export them (see the notices of reading)",
	}
	if !reflect.DeepEqual(msgs, want) {
		t.Errorf("notices:\n%s\nwant:\n%s", strings.Join(msgs, "\n"), strings.Join(want, "\n"))
	}
	if len(plan.Files) != 0 || len(plan.Commands) != 4 {
		t.Fatalf("plan: %d files, %d commands", len(plan.Files), len(plan.Commands))
	}
	// No agent runs for dir: the last command stops the one gpg starts.
	if c := plan.Commands[3]; !c.Always || filepath.Base(c.Path) != "gpgconf" ||
		!reflect.DeepEqual(c.Args, []string{"--homedir", dir, "--kill", "gpg-agent"}) {
		t.Errorf("last command %s (always %v), want gpgconf --kill gpg-agent", c, c.Always)
	}
	var stdin bytes.Buffer
	plan.Commands[2].Stdin.WriteTo(&stdin)
	if got, want := stdin.String(), "0100000000000000000000000000000000000000:5:\n"; got != want {
		t.Errorf("ownertrust input %q, want %q", got, want)
	}
	for _, c := range plan.Commands {
		if strings.Contains(c.String(), "SECRET-PACKETS") {
			t.Errorf("command line holds key material: %s", c)
		}
	}

	if _, _, err := a.Write(filepath.Join(dir, "missing"), "gnupg:x", m); err == nil || !strings.Contains(err.Error(), "create it") {
		t.Errorf("Write into a missing folder = %v", err)
	}

	pidgin, _ := Lookup("pidgin")
	_, notices, err = pidgin.Write(t.TempDir(), "pidgin:x", &keysync.Model{OpenPGPKeys: m.OpenPGPKeys})
	if err != nil {
		t.Fatal(err)
	}
	if len(notices) != 1 || !strings.Contains(notices[0].Msg, "skipped 2 OpenPGP keys") {
		t.Errorf("pidgin notices = %v, want the OpenPGP keys skipped", notices)
	}
}

// TestReportOpenPGP checks the report of OpenPGP keys and of an
// ownertrust conflict: the JSON is encoding/json's, and no key material
// is in it.
func TestReportOpenPGP(t *testing.T) {
	fp := keysync.OpenPGPFingerprint([20]byte{0xDD, 0x74})
	key := func(source string, trust keysync.Ownertrust) keysync.Source {
		return keysync.Source{Name: source, Model: &keysync.Model{OpenPGPKeys: []keysync.OpenPGPKey{{
			Fingerprint: fp, UserIDs: []string{"Alice <a@x>"}, Ownertrust: trust, Public: []byte("PUBLIC-PACKETS"),
			HasSecret: true, Secret: []byte("SECRET-PACKETS"), Origin: &keysync.Origin{Source: source, App: "gnupg"},
		}}}}
	}
	m, conflicts := keysync.Merge([]keysync.Source{key("gnupg:a", keysync.OwnertrustFull), key("gnupg:b", keysync.OwnertrustNever)}, "")
	r := NewReport(nil, m, conflicts, nil)
	want := []OpenPGPReport{{Fingerprint: "DD74 0000 0000 0000 0000  0000 0000 0000 0000 0000", UserIDs: []string{"Alice <a@x>"},
		Ownertrust: "full", HasSecret: true, Source: "gnupg:a"}}
	if !reflect.DeepEqual(r.OpenPGPKeys, want) {
		t.Errorf("OpenPGP keys = %+v, want %+v", r.OpenPGPKeys, want)
	}
	if len(r.Conflicts) != 1 || r.Conflicts[0].Account != "" || r.Conflicts[0].Contact != "Alice <a@x>" ||
		r.Conflicts[0].Fingerprint != want[0].Fingerprint {
		t.Errorf("conflicts = %+v", r.Conflicts)
	}
	var wantJSON, got bytes.Buffer
	enc := json.NewEncoder(&wantJSON)
	enc.SetIndent("", "  ")
	if err := enc.Encode(fullReport{Sources: r.Sources, Accounts: []fullAccount{}, OpenPGPKeys: r.OpenPGPKeys,
		Conflicts: r.Conflicts, Notices: r.Notices}); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteJSON(&got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), wantJSON.Bytes()) {
		t.Errorf("WriteJSON gave\n%s\nwant\n%s", got.Bytes(), wantJSON.Bytes())
	}
	if bytes.Contains(got.Bytes(), []byte("PACKETS")) {
		t.Errorf("the JSON holds key packets")
	}
}

// TestGnupgSecretElsewhere shows the reasons given for secret keys that
// are not in the home, without running gpg.
func TestGnupgSecretElsewhere(t *testing.T) {
	for token, want := range map[string]string{
		"#":                                "only a stub",
		"D2760001240102000005000012340000": `on the smartcard "D2760001240102000005000012340000"`,
		"":                                 "does not say",
	} {
		out, why := gpgRun{}.exportSecret(&gpgcolon.Key{Secret: true, Token: token}, nil, "x")
		if out != nil || !strings.Contains(why, want) {
			t.Errorf("token %q: %d bytes, %q; want %q", token, len(out), why, want)
		}
	}
}

// stopAgent stops the gpg-agent of home, if one runs, and waits until it
// is gone.
func stopAgent(t *testing.T, home string) {
	t.Helper()
	if p, err := exec.LookPath("gpgconf"); err == nil {
		exec.Command(p, "--homedir", home, "--kill", "gpg-agent").Run()
	}
	waitNoAgent(t, home)
}

// waitNoAgent fails the test if a gpg-agent for a home under dir is still
// running a few seconds on.
func waitNoAgent(t *testing.T, dir string) {
	t.Helper()
	for start := time.Now(); ; time.Sleep(50 * time.Millisecond) {
		agents, ok := gpgtest.Agents(dir)
		if !ok {
			t.Log("no /proc: running agents not checked")
			return
		}
		if len(agents) == 0 {
			return
		}
		if time.Since(start) > 3*time.Second {
			t.Errorf("gpg-agent still running for %s: %q", dir, agents)
			return
		}
	}
}

// agedFiles sets the modification time of every file under dir, and of
// dir, an hour back, so that a file gpg touches shows in a Snapshot.
func agedFiles(t *testing.T, dir string) {
	t.Helper()
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	var paths []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		paths = append(paths, p)
		return err
	})
	for i := len(paths) - 1; i >= 0; i-- {
		if err := os.Chtimes(paths[i], old, old); err != nil {
			t.Fatal(err)
		}
	}
}

// privateCopies points keysync's private copies of GnuPG homes into a
// folder of the test and checks at its end that none is left, nor an
// agent of one.
func privateCopies(t *testing.T) string {
	t.Helper()
	tmp := gpgHome(t)
	old := gpgTempDir
	gpgTempDir = tmp
	t.Cleanup(func() {
		gpgTempDir = old
		waitNoAgent(t, tmp)
		if left, _ := os.ReadDir(tmp); len(left) > 0 {
			t.Errorf("left in the folder of private copies: %v", left)
		}
	})
	return tmp
}

// TestGnupgReadLeavesHome reads a GnuPG 2 home (one key protected by a
// passphrase, given), the GnuPG 1.x sample (secring.gpg, which gpg 2
// migrates on first use) and a home with a broken keyring, none with an
// agent running, and checks that every file and folder of each is as it
// was (names, modes, sizes, times), that no gpg-agent is left running for
// it, and that keysync's private copy is gone.
func TestGnupgReadLeavesHome(t *testing.T) {
	peer.Need(t, "gpg")
	privateCopies(t)
	h := makePGPHomes(t)
	v1 := gpgHome(t)
	for _, name := range []string{"pubring.gpg", "secring.gpg", "trustdb.gpg", "random_seed"} {
		data, err := os.ReadFile(filepath.Join(fixtures, "gnupg", name))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(v1, name), string(data))
	}
	broken := gpgHome(t)
	writeFile(t, filepath.Join(broken, "pubring.gpg"), "garbage\n")
	prompt := func(string) ([]byte, error) { return []byte(carolPass), nil }
	a, _ := Lookup("gnupg")
	for _, c := range []struct {
		name, home string
		keys       int // -1: Read fails
	}{{"GnuPG 2", h.a, 3}, {"GnuPG 1.x", v1, 2}, {"broken", broken, -1}} {
		stopAgent(t, c.home)
		agedFiles(t, c.home)
		before := gpgtest.Take(t, c.home)
		m, _, err := a.Read(ReadRequest{Dir: c.home, Source: "gnupg:" + c.home, Prompt: prompt})
		switch {
		case c.keys < 0 && err == nil:
			t.Errorf("%s: Read succeeded", c.name)
		case c.keys >= 0 && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.keys >= 0:
			secrets := 0
			for _, k := range m.OpenPGPKeys {
				if k.Secret != nil {
					secrets++
				}
			}
			if len(m.OpenPGPKeys) != c.keys || secrets != c.keys-1 {
				t.Errorf("%s: %d keys, %d secret; want %d, %d", c.name, len(m.OpenPGPKeys), secrets, c.keys, c.keys-1)
			}
		}
		if err != nil && strings.Contains(err.Error(), gpgTempDir) {
			t.Errorf("%s: the error names the private copy: %v", c.name, err)
		}
		for _, d := range before.Diff(gpgtest.Take(t, c.home)) {
			t.Errorf("%s: reading changed %s", c.name, d)
		}
		waitNoAgent(t, c.home)
	}
}

// TestGnupgWriteKeepsRunningAgent shows that a gpg-agent that ran for the
// target before a write is left running: only one keysync's imports
// started is stopped.
func TestGnupgWriteKeepsRunningAgent(t *testing.T) {
	h := makePGPHomes(t) // gpg made keys in h.a: its agent runs
	if agents, ok := gpgtest.Agents(h.a); !ok || len(agents) == 0 {
		t.Skipf("no gpg-agent seen for the home (%v, /proc %v)", agents, ok)
	}
	m, _ := readGnupg(t, h.a, nil)
	for i := range m.OpenPGPKeys {
		if hexFP(m.OpenPGPKeys[i].Fingerprint) == h.bob {
			m.OpenPGPKeys[i].Ownertrust = keysync.OwnertrustFull
		}
	}
	a, _ := Lookup("gnupg")
	plan, _, err := a.Write(h.a, "gnupg:"+h.a, m)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Commands) != 1 || plan.Commands[0].Summary != "1 ownertrust value" {
		for _, c := range plan.Commands {
			t.Errorf("command %s (%s)", c, c.Summary)
		}
		t.Fatalf("want only the ownertrust import")
	}
	prepared, err := plan.Prepare(nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := prepared.Apply(); err != nil {
		t.Fatal(err)
	}
	if agents, _ := gpgtest.Agents(h.a); len(agents) == 0 {
		t.Errorf("the home's own gpg-agent was stopped")
	}
}

// TestApplyAlwaysAfterFailure shows that after a failed command only the
// commands marked Always run, and the first failure is returned.
func TestApplyAlwaysAfterFailure(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("shell commands")
	}
	dir := t.TempDir()
	sh := func(script string, always bool) Command {
		return Command{Path: "/bin/sh", Args: []string{"-c", script}, Always: always}
	}
	p := &Prepared{Commands: []Command{
		sh("echo first failure >&2; exit 3", false),
		sh("touch "+filepath.Join(dir, "skipped"), false),
		sh("exit 4", true),
		sh("touch "+filepath.Join(dir, "cleaned"), true),
	}}
	_, err := p.Apply()
	if err == nil || !strings.Contains(err.Error(), "first failure") {
		t.Errorf("Apply = %v, want the first failure", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "skipped")); err == nil {
		t.Errorf("a command not marked Always ran after a failure")
	}
	if _, err := os.Stat(filepath.Join(dir, "cleaned")); err != nil {
		t.Errorf("a command marked Always did not run after failures: %v", err)
	}
}

// TestGnupgReadInterrupted interrupts a keysync process (this test's
// binary, run again) while its read of a home waits for a passphrase, and
// checks that the process ends by the signal, the private copy with its
// secret keys is gone, no agent is left running and the home is as it was.
func TestGnupgReadInterrupted(t *testing.T) {
	if home := os.Getenv("KEYSYNC_TEST_GNUPG_HOME"); home != "" {
		gpgTempDir = os.Getenv("KEYSYNC_TEST_GNUPG_COPIES")
		a, _ := Lookup("gnupg")
		a.Read(ReadRequest{Dir: home, Prompt: func(string) ([]byte, error) {
			os.Stdout.WriteString("prompt\n")
			select {} // until the signal
		}})
		t.Fatal("the read ended")
	}
	if runtime.GOOS == "windows" {
		t.Skip("no SIGINT")
	}
	peer.Need(t, "gpg")
	h := makePGPHomes(t) // Carol's key asks for a passphrase
	stopAgent(t, h.a)
	agedFiles(t, h.a)
	before := gpgtest.Take(t, h.a)
	copies := gpgHome(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestGnupgReadInterrupted$")
	cmd.Env = append(os.Environ(), "KEYSYNC_TEST_GNUPG_HOME="+h.a, "KEYSYNC_TEST_GNUPG_COPIES="+copies)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line := make([]byte, 7)
	if _, err := io.ReadFull(out, line); err != nil || string(line) != "prompt\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("no prompt: %q, %v", line, err)
	}
	if left, _ := os.ReadDir(copies); len(left) != 1 {
		t.Errorf("while prompting, %d private copies", len(left))
	}
	cmd.Process.Signal(os.Interrupt)
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGINT {
		t.Errorf("the process ended with %v, want by SIGINT", err)
	}
	if left, _ := os.ReadDir(copies); len(left) > 0 {
		t.Errorf("left after the interrupt: %v", left)
	}
	waitNoAgent(t, copies)
	waitNoAgent(t, h.a)
	for _, d := range before.Diff(gpgtest.Take(t, h.a)) {
		t.Errorf("the interrupted read changed %s", d)
	}
}

// A private copy left by a keysync killed mid-read (SIGKILL, the one way
// it outlives its read) is removed by the next read; copies of running
// processes are not.
func TestSweepCopiesOfGoneProcesses(t *testing.T) {
	base := t.TempDir()
	child := exec.Command("true")
	if err := child.Run(); err != nil {
		t.Fatal(err)
	}
	gone := fmt.Sprintf("%s%d-1", gpgCopyPrefix, child.Process.Pid)
	live := fmt.Sprintf("%s%d-2", gpgCopyPrefix, os.Getppid())
	own := fmt.Sprintf("%s%d-3", gpgCopyPrefix, os.Getpid())
	for _, d := range []string{gone, live, own, "keysync-gnupg-x-4", "other"} {
		if err := os.Mkdir(filepath.Join(base, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	gpgRun{conf: "true"}.sweepCopies(base)
	for d, want := range map[string]bool{gone: false, live: true, own: true, "keysync-gnupg-x-4": true, "other": true} {
		if _, err := os.Stat(filepath.Join(base, d)); (err == nil) != want {
			t.Errorf("%s: there %v, want %v", d, err == nil, want)
		}
	}
}
