package app

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/keysync/keysync"
	"github.com/keysync/keysync/format/ofcaes"
	"github.com/keysync/keysync/internal/peer"
)

// chatSecurePassword is the sample's documented password (doc/formats.md §11.4).
const chatSecurePassword = "6QpT40Omhp6YRX73BzxnPlSvvr7ZsPP6VaS4aqWOyqE="

const chatSecureSamples = "../testdata/fixtures/chatsecure"

// passwordPrompt answers every question with pw.
func passwordPrompt(pw string) Prompt {
	return func(string) ([]byte, error) { return []byte(pw), nil }
}

// readChatSecure reads the ChatSecure store in dir.
func readChatSecure(t *testing.T, dir string, prompt Prompt) (*keysync.Model, []Notice, error) {
	t.Helper()
	a, ok := Lookup("chatsecure")
	if !ok {
		t.Fatal("no chatsecure app")
	}
	return a.Read(ReadRequest{Dir: dir, Source: "chatsecure:" + dir, Prompt: prompt})
}

// modelLines describes m: "key ACCOUNT FP" and "fp LOCAL CONTACT FP TRUST".
func modelLines(m *keysync.Model) []string {
	var out []string
	for _, la := range m.Accounts {
		for _, k := range la.Keys {
			out = append(out, fmt.Sprintf("key %s %s", la.Account, k.PrivateKey.Fingerprint()))
		}
	}
	for _, f := range m.Fingerprints {
		out = append(out, fmt.Sprintf("fp %s %s %s %q", f.Local(), f.Contact, f.Fingerprint, f.Trust))
	}
	return out
}

func checkLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n%s\nwant:\n%s", what, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestChatSecureExchangeSample: the sample exchange file yields the 11 ids
// of doc/formats.md §11.4, the fingerprint-only ones included, with the
// flags as the file has them.
func TestChatSecureExchangeSample(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile(filepath.Join(chatSecureSamples, chatSecureExchange))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, chatSecureExchange), data, 0o600); err != nil {
		t.Fatal(err)
	}
	m, notices, err := readChatSecure(t, dir, passwordPrompt(chatSecurePassword+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	const local = "xmpp:guardianproject@gmail.com"
	checkLines(t, "model", modelLines(m), []string{
		"key " + local + " 9e9448fa7bbf7b236936d2cb4808ae91bb39507b",
		"fp " + local + ` bigbear fffffffffffffcdfdddddeeeeee8aaaaaad00000 "verified"`,
		"fp " + local + ` blue bbbbbbbbbb223444455566666777778889990aab "verified"`,
		"fp " + local + ` goldy 0000111122223444455566666777778889990aab "verified"`,
		"fp " + local + ` gptest@jabber.org 39e90112c19d45cecb968ff981d32e9c9a5fe284 "verified"`,
		"fp " + local + ` gptest@limun.org 64d5417f685ec59424ade08cd68911873642840c "verified"`,
		"fp " + local + ` gptest@slipjack.com 8d0f48cb59348f3aa596dc7b1f5048c14368cf5d "verified"`,
		"fp " + local + ` hans@eds.org ff66e8c909c4deb51cbd4a02b9e6af4d6af215f8 "verified"`,
		"fp " + local + ` hans@guardianproject.info df953988f5c05788c0327186d06d3bb4ddaaec7f "verified"`,
		"fp " + local + ` test@example.org 1e6152121c8a6dfefb5d84553c2111a2ff0e84d7 ""`,
		"fp " + local + ` testymctest eeeeee1122223444455566666777778889990aab "verified"`,
	})
	if err := m.Accounts[0].Keys[0].PrivateKey.Validate(); err != nil {
		t.Error(err)
	}
	for _, n := range notices {
		t.Errorf("notice: %s", n)
	}
	// Nothing but the exchange file is in the folder: no plaintext left.
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("the folder holds %d files after reading", len(entries))
	}
}

// TestChatSecurePlaintextSample: the 2011 Gibberbot keystore, base64
// wrapped with \n escapes and an upper-case verification token.
func TestChatSecurePlaintextSample(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile(filepath.Join(chatSecureSamples, chatSecurePlaintext))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, chatSecurePlaintext), data, 0o600); err != nil {
		t.Fatal(err)
	}
	m, notices, err := readChatSecure(t, dir, nil) // no password needed
	if err != nil {
		t.Fatal(err)
	}
	checkLines(t, "model", modelLines(m), []string{
		"key xmpp:gptest@jabber.org 807493f49a027e8b81735bf3c7b9692b409dfc08",
		`fp xmpp:gptest@jabber.org hans@eds.org ff66e8c909c4deb51cbd4a02b9e6af4d6af215f8 "verified"`,
	})
	for _, n := range notices {
		t.Errorf("notice: %s", n)
	}
}

// TestChatSecureSamplesTogether reads the fixture folder itself, which
// holds both files: the keys of both, the contacts under each.
func TestChatSecureSamplesTogether(t *testing.T) {
	m, _, err := readChatSecure(t, chatSecureSamples, passwordPrompt(chatSecurePassword))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Accounts) != 2 || len(m.Fingerprints) != 2*10 {
		t.Errorf("%d accounts, %d fingerprints; want 2 and 20", len(m.Accounts), len(m.Fingerprints))
	}
}

// TestChatSecureWrongPassword: a wrong password, a missing one and a
// plaintext that is not a keystore are errors that never quote the
// password or the plaintext.
func TestChatSecureWrongPassword(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(chatSecureSamples, chatSecureExchange))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, chatSecureExchange)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	// A wrong password that the padding does not reveal (about 1 in
	// 256): found by trying, the same one every run.
	lucky := ""
	for i := 0; lucky == ""; i++ {
		pw := fmt.Sprintf("not-the-password-%d", i)
		if _, err := ofcaes.Decrypt(data, []byte(pw)); err == nil {
			lucky = pw
		}
	}
	for _, pw := range []string{"not-it", strings.ToLower(chatSecurePassword), lucky} {
		_, _, err := readChatSecure(t, dir, passwordPrompt(pw))
		if !errors.Is(err, ErrWrongPassword) {
			t.Errorf("password %q: %v, want ErrWrongPassword", pw, err)
			continue
		}
		if strings.Contains(err.Error(), pw) || !strings.Contains(err.Error(), path) {
			t.Errorf("error %q: quotes the password or misses the file", err)
		}
	}
	if _, _, err := readChatSecure(t, dir, nil); !errors.Is(err, ErrNoPassword) {
		t.Errorf("no prompt: %v", err)
	}
	if _, _, err := readChatSecure(t, dir, passwordPrompt(" \n")); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty password: %v", err)
	}
	asked := errors.New("no terminal")
	if _, _, err := readChatSecure(t, dir, func(string) ([]byte, error) { return nil, asked }); !errors.Is(err, asked) {
		t.Errorf("failing prompt: %v", err)
	}
	// Right password, but not a keystore inside.
	enc, err := ofcaes.Encrypt([]byte("secret.plan=not a keystore\n"), []byte("pw"), bytes.NewReader(make([]byte, 8)))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, enc, 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err = readChatSecure(t, dir, passwordPrompt("pw"))
	if !errors.Is(err, ErrWrongPassword) || strings.Contains(err.Error(), "secret") {
		t.Errorf("not a keystore: %v", err)
	}
}

// writeChatSecure converts the stores froms into a ChatSecure exchange
// file in a new folder, encrypted with pw, and returns its path.
func writeChatSecure(t *testing.T, pw, prefer string, froms ...string) (string, *Conversion) {
	t.Helper()
	locs, err := ParseLocations(froms)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	to, err := ParseLocation("chatsecure:" + dir)
	if err != nil {
		t.Fatal(err)
	}
	to.Password = []byte(pw)
	conv, err := Convert(locs, []Location{to}, prefer, nil)
	if err != nil {
		t.Fatal(err)
	}
	if conv.Unresolved > 0 {
		t.Fatalf("%d unresolved conflicts: %v", conv.Unresolved, conv.Conflicts)
	}
	for _, n := range conv.Notices {
		t.Logf("notice: %s", n)
	}
	prepared, err := conv.Plan.Prepare(conv.Seen, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := prepared.Apply(); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != chatSecureExchange {
		t.Fatalf("the folder holds %v, want only %s", entries, chatSecureExchange)
	}
	return filepath.Join(dir, chatSecureExchange), conv
}

// opensslDecrypt decrypts path with `openssl enc -d -aes-256-cbc -md md5`,
// the password in its environment.
func opensslDecrypt(t *testing.T, path, pw string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(peer.Need(t, "openssl"), "enc", "-d", "-aes-256-cbc", "-md", "md5", "-in", path, "-pass", "env:KEYSYNC_TEST_PW")
	cmd.Env = append(os.Environ(), "KEYSYNC_TEST_PW="+pw)
	return cmd
}

// TestChatSecureWrite converts Pidgin and Adium into an exchange file and
// checks it: openssl decrypts it, the properties are those ChatSecure
// looks up (upper-case tokens, only verified fingerprints, keys of every
// XMPP account), and keysync reads it back.
func TestChatSecureWrite(t *testing.T) {
	const pw = "Zm9yIHRoZSB0ZXN0IG9ubHk7IG5vdCBhIHJlYWwgb25lIQ=="
	path, conv := writeChatSecure(t, pw, "pidgin:../testdata/fixtures/pidgin", "pidgin:../testdata/fixtures/pidgin", "adium:../testdata/fixtures/adium")
	out, err := opensslDecrypt(t, path, pw).Output()
	if err != nil {
		t.Fatalf("openssl: %v", err)
	}
	var props []string
	for _, line := range strings.Split(string(out), "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, _ := strings.Cut(line, "=")
		if strings.HasSuffix(k, "Key") {
			v = "…"
		}
		props = append(props, k+"="+v)
	}
	slices.Sort(props)
	checkLines(t, "properties", props, []string{
		"gptest@jabber.ccc.de.A2CD015572D256703E7624840F91209160185410.publicKey.verified=true",
		"gptest@jabber.org.39E90112C19D45CECB968FF981D32E9C9A5FE284.publicKey.verified=true",
		"gptest@jabber.org.F83FE8C909C4DEB51C234574BAB3E4F66AF215F8.publicKey.verified=true",
		"gptest@jabber.org.fingerprint=F247F8B86842FFC7BA0B8348440F154D520169EB",
		"gptest@jabber.org.privateKey=…",
		"gptest@jabber.org.publicKey=…",
		"gptest@limun.org.fingerprint=64D5417F685EC59424ADE08CD68911873642840C",
		"gptest@limun.org.privateKey=…",
		"gptest@limun.org.publicKey=…",
		"gptest@slipjack.com.8D0F48CB59348F3AA596DC7B1F5048C14368CF5D.publicKey.verified=true",
		"gptest@slipjack.com.fingerprint=8D0F48CB59348F3AA596DC7B1F5048C14368CF5D",
		"gptest@slipjack.com.privateKey=…",
		"gptest@slipjack.com.publicKey=…",
		"hans@eds.org.FF66E8C909C4DEB51CBD4A02B9E6AF4D6AF215F8.publicKey.verified=true",
	})
	// The notices say what was left out and why.
	var msgs []string
	for _, n := range conv.Notices {
		msgs = append(msgs, n.Msg)
	}
	for _, want := range []string{
		"chatsecure: skipped bonjour:gptest@mycomputer (1 private key): ChatSecure holds only XMPP accounts",
		"chatsecure: skipped 2 fingerprints of other protocols or kinds: ChatSecure holds only XMPP's OTR fingerprints",
		"chatsecure: 1 unverified fingerprint not written: ChatSecure learns keys when it talks to a contact, and only verifications are carried over",
	} {
		if !slices.Contains(msgs, want) {
			t.Errorf("no notice %q in:\n%s", want, strings.Join(msgs, "\n"))
		}
	}

	// keysync reads back what it wrote: the keys, and the verified
	// fingerprints under each local account.
	m, notices, err := readChatSecure(t, filepath.Dir(path), passwordPrompt(pw))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range notices {
		t.Errorf("notice: %s", n)
	}
	var keys []string
	verified := map[string]int{}
	for _, l := range modelLines(m) {
		if strings.HasPrefix(l, "key ") {
			keys = append(keys, l)
			continue
		}
		f := strings.Fields(l)
		if f[4] != `"verified"` {
			t.Errorf("read back unverified: %s", l)
		}
		verified[f[2]+" "+f[3]]++
	}
	checkLines(t, "keys read back", keys, []string{
		"key xmpp:gptest@jabber.org f247f8b86842ffc7ba0b8348440f154d520169eb",
		"key xmpp:gptest@limun.org 64d5417f685ec59424ade08cd68911873642840c",
		"key xmpp:gptest@slipjack.com 8d0f48cb59348f3aa596dc7b1f5048c14368cf5d",
	})
	if len(verified) != 5 {
		t.Errorf("read back %d verified fingerprints, want 5: %v", len(verified), verified)
	}
	for k, n := range verified {
		if n != 3 {
			t.Errorf("%s under %d accounts, want all 3", k, n)
		}
	}
}

// TestChatSecureJava: Java reads the written keystore as ChatSecure does
// (java.util.Properties, KeyFactory "DSA"), gets keys that Java encodes to
// the same bytes, with the fingerprints keysync wrote. The plaintext goes
// from openssl to Java through a pipe, never to disk.
func TestChatSecureJava(t *testing.T) {
	java := peer.Need(t, "java")
	const pw = "dGhpcyBpcyBhIHRlc3QgcGFzc3dvcmQsIG5vdCByZWFs"
	path, _ := writeChatSecure(t, pw, "pidgin:../testdata/fixtures/pidgin", "pidgin:../testdata/fixtures/pidgin", "adium:../testdata/fixtures/adium")
	dec := opensslDecrypt(t, path, pw)
	run := exec.Command(java, "testdata/ChatSecureKeystore.java")
	pipe, err := dec.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	run.Stdin = pipe
	var stderr bytes.Buffer
	run.Stderr = &stderr
	if err := dec.Start(); err != nil {
		t.Fatal(err)
	}
	out, err := run.Output()
	if werr := dec.Wait(); werr != nil {
		t.Fatalf("openssl: %v", werr)
	}
	if err != nil {
		t.Fatalf("java: %v: %s", err, stderr.String())
	}
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if !strings.HasSuffix(l, "publicKey.verified=true") {
			got = append(got, l)
		}
	}
	checkLines(t, "java", got, []string{
		"gptest@jabber.org.fingerprint=F247F8B86842FFC7BA0B8348440F154D520169EB",
		"gptest@jabber.org.privateKey private F247F8B86842FFC7BA0B8348440F154D520169EB",
		"gptest@jabber.org.publicKey public F247F8B86842FFC7BA0B8348440F154D520169EB",
		"gptest@limun.org.fingerprint=64D5417F685EC59424ADE08CD68911873642840C",
		"gptest@limun.org.privateKey private 64D5417F685EC59424ADE08CD68911873642840C",
		"gptest@limun.org.publicKey public 64D5417F685EC59424ADE08CD68911873642840C",
		"gptest@slipjack.com.fingerprint=8D0F48CB59348F3AA596DC7B1F5048C14368CF5D",
		"gptest@slipjack.com.privateKey private 8D0F48CB59348F3AA596DC7B1F5048C14368CF5D",
		"gptest@slipjack.com.publicKey public 8D0F48CB59348F3AA596DC7B1F5048C14368CF5D",
	})
}

// keystoreModel reads plaintext keystore properties as the app does.
func keystoreModel(text string) (*keysync.Model, []Notice, error) {
	ks := &csKeystore{source: "test"}
	if err := ks.load([]byte(text), "ks", false); err != nil {
		return nil, nil, err
	}
	m, err := ks.model()
	return m, ks.notices, err
}

// sampleKeyLines returns the private and public key properties of the
// Gibberbot sample, renamed to jid.
func sampleKeyLines(t *testing.T, jid string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(chatSecureSamples, chatSecurePlaintext))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, l := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(l, "gptest@jabber.org."); ok {
			b.WriteString(jid + "." + rest + "\n")
		}
	}
	return b.String()
}

// TestChatSecureOldToolBugs holds the reader and writer to doc/formats.md
// §10.12–§10.14: "false" and an empty trust are not verified, tokens are
// matched and written in upper case, fingerprint-only ids are kept, and no
// contact's key is written under a bare JID.
func TestChatSecureOldToolBugs(t *testing.T) {
	keys := sampleKeyLines(t, "me@example.org")
	m, notices, err := keystoreModel(keys +
		"a@example.org.fingerprint=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n" +
		"a@example.org.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.publicKey.verified=false\n" +
		"b@example.org/phone.fingerprint=bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\n" +
		"b@example.org.BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB.publicKey.verified=true\n" +
		"c@example.org.cccccccccccccccccccccccccccccccccccccccc.publicKey.verified=true\n")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range notices {
		t.Errorf("notice: %s", n)
	}
	checkLines(t, "model", modelLines(m), []string{
		"key xmpp:me@example.org 807493f49a027e8b81735bf3c7b9692b409dfc08",
		`fp xmpp:me@example.org a@example.org aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa ""`,
		`fp xmpp:me@example.org b@example.org bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb "verified"`,
		`fp xmpp:me@example.org c@example.org cccccccccccccccccccccccccccccccccccccccc "verified"`,
	})
	if got := m.Fingerprints[1].ContactName; got != "b@example.org/phone" {
		t.Errorf("contact spelled %q", got)
	}

	// Writing: the verified ones only, upper case, under bare JIDs; an
	// smp or manual trust counts, an empty one does not.
	m.Fingerprints = append(m.Fingerprints,
		keysync.KnownFingerprint{Contact: "d@example.org", Fingerprint: m.Fingerprints[0].Fingerprint, Trust: keysync.SMP, Origin: m.Fingerprints[0].Origin},
		keysync.KnownFingerprint{Contact: "e@example.org", Fingerprint: m.Fingerprints[0].Fingerprint, Trust: keysync.Unverified, Origin: m.Fingerprints[0].Origin})
	plan, _, err := chatSecure{}.WriteSecret("dir", "chatsecure:dir", m, []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	var enc bytes.Buffer
	if _, err := plan.Files[0].Content.WriteTo(&enc); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(enc.Bytes(), []byte("privateKey")) || !plan.Files[0].Secret {
		t.Error("the file is not encrypted, or not secret")
	}
	plain, err := ofcaes.Decrypt(enc.Bytes(), []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	var props []string
	for _, l := range strings.Split(string(plain), "\n") {
		if l != "" && l[0] != '#' && !strings.Contains(l, "Key=") {
			props = append(props, l)
		}
	}
	checkLines(t, "written", props, []string{
		"b@example.org.BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB.publicKey.verified=true",
		"c@example.org.CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC.publicKey.verified=true",
		"d@example.org.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.publicKey.verified=true",
		"me@example.org.fingerprint=807493F49A027E8B81735BF3C7B9692B409DFC08",
	})
}

// TestChatSecureNotices: what the reader cannot use is reported and
// skipped, never taken silently; malformed keys are errors naming the
// file and line, never quoting the value.
func TestChatSecureNotices(t *testing.T) {
	keys := sampleKeyLines(t, "me@example.org")
	_, notices, err := keystoreModel(keys +
		"me@example.org.fingerprint=0000000000000000000000000000000000000000\n" +
		"x.fingerprint=1111111111111111111111111111111111111111\n" +
		"x.1111111111111111111111111111111111111111.publicKey.verified=yes\n" +
		"y.12345.publicKey.verified=true\n" +
		"some.other.setting=1\n")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range notices {
		got = append(got, n.String())
	}
	checkLines(t, "notices", got, []string{
		`ks:6: verification "y.12345.publicKey.verified": no 40-digit fingerprint before .publicKey.verified; skipped`,
		"ks: 1 property that ChatSecure does not use, skipped",
		`ks:3: "me@example.org": stored fingerprint is not the key's 807493F4 9A027E8B 81735BF3 C7B9692B 409DFC08; the key's is used`,
		`ks:5: verification of "x" is "yes", neither true nor false: taken as not verified`,
	})

	for _, c := range []struct{ text, want string }{
		{"me@example.org.privateKey=bm90IGEga2V5\n", `ks:1: "me@example.org".privateKey: not a DSA key in Java's DER form`},
		{"me@example.org.privateKey=*secret*\n", `ks:1: "me@example.org".privateKey: not valid base64`},
		{"you.publicKey=c2VjcmV0\n", `ks:1: "you".publicKey: not a DSA key in Java's DER form`},
		{"you.fingerprint=secret\n", `ks:1: "you".fingerprint: 6 characters, want 40 hex digits`},
	} {
		_, _, err := keystoreModel(c.text)
		if err == nil || !strings.HasPrefix(err.Error(), c.want) || strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), "bm90") {
			t.Errorf("%q: %v, want %s…", c.text, err, c.want)
		}
	}

	// Contacts without any key of the keystore's own are kept under an
	// account that says why.
	m, notices, err := keystoreModel("x.fingerprint=1111111111111111111111111111111111111111\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Accounts) != 1 || m.Accounts[0].Unmapped == "" || len(m.Fingerprints) != 1 || len(notices) != 1 {
		t.Errorf("fingerprints only: %+v, %v", m.Accounts, notices)
	}
}

// TestChatSecureHostile: a file beyond the size bound is refused before
// it is read; a keystore of many contacts reads in one pass.
func TestChatSecureHostile(t *testing.T) {
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, chatSecurePlaintext))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(maxKeystoreSize + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, _, err := readChatSecure(t, dir, nil); err == nil || !strings.Contains(err.Error(), "more than a keystore's") {
		t.Errorf("huge file: %v", err)
	}

	var b strings.Builder
	b.WriteString(sampleKeyLines(t, "me@example.org"))
	const n = 50000
	for i := range n {
		fmt.Fprintf(&b, "c%d@example.org.%040X.publicKey.verified=true\n", i, i)
	}
	m, _, err := keystoreModel(b.String())
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Fingerprints) != n {
		t.Errorf("%d fingerprints, want %d", len(m.Fingerprints), n)
	}
}

// TestChatSecureWithOthers: ChatSecure as one input among others and one
// output among others stops neither (doc/formats.md §10.19).
func TestChatSecureWithOthers(t *testing.T) {
	froms, err := ParseLocations([]string{"chatsecure:" + chatSecureSamples, "pidgin:../testdata/fixtures/pidgin"})
	if err != nil {
		t.Fatal(err)
	}
	cs, err := ParseLocation("chatsecure:" + t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cs.Password = []byte("pw")
	kopete, err := ParseLocation("kopete:" + t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	conv, err := Convert(froms, []Location{cs, kopete}, froms[1].Name, passwordPrompt(chatSecurePassword))
	if err != nil {
		t.Fatal(err)
	}
	if conv.Unresolved > 0 {
		t.Fatalf("%d conflicts", conv.Unresolved)
	}
	var paths []string
	for _, f := range conv.Plan.Files {
		paths = append(paths, filepath.Base(f.Path))
	}
	checkLines(t, "files", paths, []string{chatSecureExchange, "privkeys", "fingerprints"})

	// Without a password, writing ChatSecure's file is refused.
	cs.Password = nil
	if _, err := Convert(froms, []Location{cs}, froms[1].Name, passwordPrompt(chatSecurePassword)); err == nil || !strings.Contains(err.Error(), "needs a password") {
		t.Errorf("no password: %v", err)
	}
}

// FuzzChatSecureKeystore: any properties give a model or a short error,
// never a panic; every local account has one key and every fingerprint a
// local account.
func FuzzChatSecureKeystore(f *testing.F) {
	for _, name := range []string{chatSecurePlaintext} {
		data, err := os.ReadFile(filepath.Join(chatSecureSamples, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("a.fingerprint=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\na.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.publicKey.verified=true\n"))
	f.Add([]byte("b/r.publicKey=MIIBtjCCASsGByqGSM44BAEwggEe\\\n  AoGBAIaQ\nx.y.publicKey.verified=false\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		m, _, err := keystoreModel(string(data))
		if err != nil {
			if len(err.Error()) > maxErrorLen {
				t.Fatalf("error of %d bytes", len(err.Error()))
			}
			return
		}
		for _, la := range m.Accounts {
			if len(la.Keys) > 1 {
				t.Fatalf("%s has %d keys", la.Account, len(la.Keys))
			}
		}
		for _, fp := range m.Fingerprints {
			if fp.Origin == nil || m.Account(fp.Local()) == nil {
				t.Fatalf("fingerprint of %q without its local account", fp.Contact)
			}
		}
	})
}
