// Package otrtest lets tests run libotr itself: it builds, once per process
// and cached across processes, a small C program (c/otrtool.c) linked with
// libotr, which generates libotr files, dumps what libotr reads from files,
// and rewrites files with libotr's writers.
//
// Tests call Tool; when gcc, pkg-config or libotr is missing the test is
// skipped, or fails when KEYSYNC_REQUIRE_PEERS=1.
package otrtest

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/keysync/keysync"
	"github.com/keysync/keysync/internal/peer"
)

//go:embed c/otrtool.c
var source []byte

// OTR runs the compiled libotr tool.
type OTR struct {
	// Path is the compiled program; see c/otrtool.c for its command line.
	Path string
}

var (
	buildOnce sync.Once
	built     *OTR
	buildErr  string // why the tool is unavailable; "" when built
	buildFail bool   // the build itself failed (a real error, never skipped)
)

// Tool returns the libotr tool, building it on first use. The binary is
// cached under os.TempDir() keyed by a hash of the C source and flags.
func Tool(t testing.TB) *OTR {
	t.Helper()
	buildOnce.Do(build)
	if buildFail {
		t.Fatal(buildErr)
	}
	if built == nil {
		peer.Missing(t, buildErr)
	}
	return built
}

func build() {
	for _, p := range []string{"gcc", "pkg-config"} {
		if _, err := exec.LookPath(p); err != nil {
			buildErr = p + " not found"
			return
		}
	}
	flags, err := exec.Command("pkg-config", "--cflags", "--libs", "libotr").Output()
	if err != nil {
		buildErr = "pkg-config cannot find libotr (install libotr5-dev)"
		return
	}
	args := append(strings.Fields(string(flags)), "-lgcrypt")
	h := sha256.New()
	h.Write(source)
	fmt.Fprintf(h, "%q", args)
	dir := filepath.Join(os.TempDir(), "keysync-otrtest-"+hex.EncodeToString(h.Sum(nil))[:16])
	bin := filepath.Join(dir, "otrtool")
	if _, err := os.Stat(bin); err == nil {
		built = &OTR{Path: bin}
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		buildErr, buildFail = err.Error(), true
		return
	}
	// Unique names: several test processes may build at the same time.
	srcf, err := os.CreateTemp(dir, "otrtool-*.c")
	if err != nil {
		buildErr, buildFail = err.Error(), true
		return
	}
	src := srcf.Name()
	defer os.Remove(src)
	_, err = srcf.Write(source)
	if cerr := srcf.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		buildErr, buildFail = err.Error(), true
		return
	}
	tmp := strings.TrimSuffix(src, ".c") + ".bin"
	cmd := exec.Command("gcc", append([]string{"-O2", "-Wall", "-o", tmp, src}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		buildErr, buildFail = fmt.Sprintf("building otrtool: %v\n%s", err, out), true
		return
	}
	if err := os.Rename(tmp, bin); err != nil {
		buildErr, buildFail = err.Error(), true
		return
	}
	built = &OTR{Path: bin}
}

// Account is a local account as libotr names it.
type Account struct {
	Name, Protocol string
}

// FP is one known fingerprint to store.
type FP struct {
	Contact, Account, Protocol string
	Fingerprint                keysync.Fingerprint
	Trust                      keysync.Trust
}

// Spec says what Generate makes. File names are relative to the directory;
// an empty file name skips that file.
type Spec struct {
	PrivKeys     string    // private key file, such as "otr.private_key"
	Keys         []Account // keys generated with otrl_privkey_generate, in order
	InstanceTags string    // instance tags file
	Tags         []Account // tags generated with otrl_instag_generate
	Fingerprints string    // fingerprints file, written by otrl_privkey_write_fingerprints
	FPs          []FP      // added with otrl_context_find_fingerprint and otrl_context_set_trust
}

func checkField(t testing.TB, s string) {
	t.Helper()
	if strings.ContainsAny(s, "\t\n\x00") {
		t.Fatalf("otrtest: spec field %q contains a tab, line feed or NUL", s)
	}
}

// Generate makes the files of spec in dir with libotr. Generated key files
// are cached under os.TempDir() by their list of accounts, so tests that
// ask for the same keys share one generation.
func (o *OTR) Generate(t testing.TB, dir string, spec Spec) {
	t.Helper()
	var keyLines strings.Builder
	for _, a := range spec.Keys {
		checkField(t, a.Name)
		checkField(t, a.Protocol)
		fmt.Fprintf(&keyLines, "key\t%s\t%s\n", a.Name, a.Protocol)
	}
	var cached string
	if spec.PrivKeys != "" && len(spec.Keys) > 0 {
		sum := sha256.Sum256([]byte(o.Path + "\n" + keyLines.String()))
		cached = filepath.Join(os.TempDir(), "keysync-otrtest-keys-"+hex.EncodeToString(sum[:])[:16])
		if b, err := os.ReadFile(cached); err == nil {
			if err := os.WriteFile(filepath.Join(dir, spec.PrivKeys), b, 0o600); err != nil {
				t.Fatal(err)
			}
			cached = ""
			spec.Keys = nil
		}
	}
	var in strings.Builder
	if spec.PrivKeys != "" && len(spec.Keys) > 0 {
		fmt.Fprintf(&in, "privkeys\t%s\n%s", spec.PrivKeys, keyLines.String())
	}
	if spec.InstanceTags != "" {
		fmt.Fprintf(&in, "instags\t%s\n", spec.InstanceTags)
		for _, a := range spec.Tags {
			checkField(t, a.Name)
			checkField(t, a.Protocol)
			fmt.Fprintf(&in, "instag\t%s\t%s\n", a.Name, a.Protocol)
		}
	}
	if spec.Fingerprints != "" {
		fmt.Fprintf(&in, "fingerprints\t%s\n", spec.Fingerprints)
		for _, f := range spec.FPs {
			for _, s := range []string{f.Contact, f.Account, f.Protocol, string(f.Trust)} {
				checkField(t, s)
			}
			fmt.Fprintf(&in, "fp\t%s\t%s\t%s\t%s\t%s\n", f.Contact, f.Account, f.Protocol, f.Fingerprint, f.Trust)
		}
	}
	o.run(t, in.String(), "generate", dir)
	if cached != "" {
		b, err := os.ReadFile(filepath.Join(dir, spec.PrivKeys))
		if err != nil {
			t.Fatal(err)
		}
		tmp := fmt.Sprintf("%s.%d.tmp", cached, os.Getpid())
		if err := os.WriteFile(tmp, b, 0o600); err == nil {
			os.Rename(tmp, cached)
		}
	}
}

func (o *OTR) run(t testing.TB, stdin string, args ...string) string {
	t.Helper()
	out, err := o.try(stdin, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (o *OTR) try(stdin string, args ...string) (string, error) {
	cmd := exec.Command(o.Path, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("otrtool %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Dump reads the given files with libotr's readers (an empty name skips a
// file) and returns what libotr sees, one sorted line each:
//
//	key ACCOUNT PROTOCOL HUMAN-FINGERPRINT SHA1-OF-X
//	fp CONTACT ACCOUNT PROTOCOL HEX TRUST
//	instag ACCOUNT PROTOCOL TAG
//
// with tab-separated fields escaped by Escape. KeyLine, FPLine and TagLine
// build the same lines from keysync's values.
func (o *OTR) Dump(t testing.TB, privkeyFile, fingerprintsFile, instagFile string) string {
	t.Helper()
	s, err := o.TryDump(privkeyFile, fingerprintsFile, instagFile)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TryDump is Dump returning libotr's read error instead of failing.
func (o *OTR) TryDump(privkeyFile, fingerprintsFile, instagFile string) (string, error) {
	out, err := o.try("", "dump", dash(privkeyFile), dash(fingerprintsFile), dash(instagFile))
	if err != nil {
		return "", err
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if out == "" {
		lines = nil
	}
	return SortLines(lines), nil
}

// Rewrite reads the input files with libotr and writes them back with
// libotr's writers (otrl_privkey_write_fingerprints, otrl_instag_write, and
// for keys libotr's account layout printed by libgcrypt). Empty names skip
// a file.
func (o *OTR) Rewrite(t testing.TB, inPriv, inFP, inTags, outPriv, outFP, outTags string) {
	t.Helper()
	o.run(t, "", "rewrite", dash(inPriv), dash(inFP), dash(inTags), dash(outPriv), dash(outFP), dash(outTags))
}

// SortLines sorts lines and joins them, each ending in a line feed.
func SortLines(lines []string) string {
	lines = append([]string(nil), lines...)
	sort.Strings(lines)
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String()
}

// Escape escapes s as the dump does: backslash, tab, LF and CR as \\ \t \n
// \r, other bytes below 0x20 and 0x7f as \xNN.
func Escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			b.WriteString(`\\`)
		case c == '\t':
			b.WriteString(`\t`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// KeyLine is the dump line of a private key.
func KeyLine(account, protocol string, k *keysync.DSAKey) string {
	xs := "no-x"
	if k.X != nil {
		x := sha1.Sum(k.X.Bytes())
		xs = hex.EncodeToString(x[:])
	}
	return "key\t" + Escape(account) + "\t" + Escape(protocol) + "\t" + k.Fingerprint().Human() + "\t" + xs
}

// FPLine is the dump line of a known fingerprint.
func FPLine(contact, account, protocol string, fp keysync.Fingerprint, trust keysync.Trust) string {
	return "fp\t" + Escape(contact) + "\t" + Escape(account) + "\t" + Escape(protocol) + "\t" + fp.String() + "\t" + Escape(string(trust))
}

// TagLine is the dump line of an instance tag.
func TagLine(account, protocol string, tag uint32) string {
	return fmt.Sprintf("instag\t%s\t%s\t%08x", Escape(account), Escape(protocol), tag)
}
