package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/keysync/keysync"
	"github.com/keysync/keysync/format/gpgcolon"
	"github.com/keysync/keysync/internal/atomicfile"
	"github.com/keysync/keysync/internal/excerpt"
)

// The gnupg app is a GnuPG home (doc/formats.md §6.8) reached through the
// gpg binary, never through its files: gpg lists and exports keys and
// ownertrust for Read, and Write plans gpg imports. OpenPGP keys only; OTR
// keys and fingerprints are skipped with a notice.

func init() { register(gnupgApp{}) }

type gnupgApp struct{}

// Bounds of one gpg run while reading: a hostile or huge keyring makes
// Read fail, never hang or fill memory.
var (
	gpgTimeout   = 2 * time.Minute
	gpgMaxOutput = 256 << 20 // bytes of standard output
)

// gpgMaxStderr is how much of gpg's standard error is kept for messages.
const gpgMaxStderr = 4 << 10

func (gnupgApp) Name() string { return "gnupg" }

// DefaultDir is where gpg looks: $GNUPGHOME, else ~/.gnupg, on Windows
// %APPDATA%\gnupg.
func (gnupgApp) DefaultDir() (string, error) {
	if d := os.Getenv("GNUPGHOME"); d != "" {
		return d, nil
	}
	if runtime.GOOS == "windows" {
		if d := os.Getenv("APPDATA"); d != "" {
			return filepath.Join(d, "gnupg"), nil
		}
	}
	return homeDir(".gnupg")
}

// findGPG returns the path of the gpg binary.
func findGPG() (string, error) {
	for _, name := range []string{"gpg", "gpg2"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("gnupg: gpg not found in PATH (install GnuPG 2.1 or later)")
}

// gpgOptions are the options of every run on home: no prompts, no
// terminal, no pinentry.
func gpgOptions(home string) []string {
	return []string{"--homedir", home, "--batch", "--no-tty", "--no-greeting", "--pinentry-mode", "error"}
}

// gpgRun is the gpg binary and one GnuPG home, absolute.
type gpgRun struct {
	path, home string
}

// output runs gpg with args after gpgOptions, stdin as its standard input,
// in a pinned environment (the C locale, GNUPGHOME set to the home), and
// returns its standard output. A run longer than gpgTimeout or an output
// beyond gpgMaxOutput is an error. When secret is set the output is
// private key material: on failure it is cleared, and the error quotes
// nothing gpg printed.
func (g gpgRun) output(stdin []byte, secret bool, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), gpgTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, g.path, append(gpgOptions(g.home), args...)...)
	cmd.Env = gpgEnv(g.home)
	cmd.WaitDelay = 2 * time.Second // a child keeping the pipes open does not stall the read
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	out := &cappedBuffer{max: gpgMaxOutput, full: cancel}
	stderr := &cappedBuffer{max: gpgMaxStderr}
	cmd.Stdout, cmd.Stderr = out, stderr
	err := cmd.Run()
	what := "gpg" // and the last long option, such as "gpg --export"
	for i := len(args) - 1; i >= 0; i-- {
		if strings.HasPrefix(args[i], "--") {
			what += " " + args[i]
			break
		}
	}
	switch {
	case out.over:
		err = fmt.Errorf("%s: output beyond %d MiB", what, gpgMaxOutput>>20)
	case ctx.Err() != nil:
		err = fmt.Errorf("%s: no result within %v", what, gpgTimeout)
	case err != nil && secret:
		err = fmt.Errorf("%s: %v", what, err)
	case err != nil:
		err = fmt.Errorf("%s: %v: %s", what, err, excerpt.Cut(strings.TrimSpace(string(stderr.buf)), 300))
	}
	if err != nil {
		if secret {
			clear(out.buf)
		}
		return nil, err
	}
	return out.buf, nil
}

// gpgEnv is the environment of gpg: the caller's without locale settings
// and GnuPG variables, and then LC_ALL=C and GNUPGHOME=home, so that
// messages and formats do not depend on the user's settings.
func gpgEnv(home string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case k == "GNUPGHOME", k == "GPG_AGENT_INFO", k == "GPG_TTY", k == "LANG", k == "LANGUAGE", strings.HasPrefix(k, "LC_"):
			continue
		}
		env = append(env, kv)
	}
	return append(env, "LC_ALL=C", "GNUPGHOME="+home)
}

// cappedBuffer keeps what is written up to max bytes. Beyond that it drops
// the rest or, when full is set, fails, sets over and calls full (which
// stops the writer).
type cappedBuffer struct {
	buf  []byte
	max  int
	over bool
	full func()
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	if len(b.buf)+len(p) > b.max {
		if b.full == nil { // stderr: keep the start, drop the rest
			b.buf = append(b.buf, p[:b.max-len(b.buf)]...)
			return len(p), nil
		}
		b.over = true
		b.full()
		return 0, errors.New("output too large")
	}
	if len(b.buf)+len(p) > cap(b.buf) {
		// Grow by hand so that no stale copy of secret output is left
		// behind in memory.
		n := make([]byte, len(b.buf), max(2*cap(b.buf), len(b.buf)+len(p), 4096))
		copy(n, b.buf)
		clear(b.buf)
		b.buf = n
	}
	b.buf = append(b.buf, p...)
	return len(p), nil
}

// hasKeyring reports whether dir holds a GnuPG public keyring.
func hasKeyring(dir string) bool {
	for _, name := range []string{"pubring.kbx", "pubring.gpg"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			return true
		}
	}
	return false
}

// gpgState is what a GnuPG home holds as gpg lists and exports it, secret
// key material left out.
type gpgState struct {
	pubs       []gpgcolon.Key
	secret     map[[20]byte]*gpgcolon.Key // the secret keys listed, by fingerprint
	trust      []gpgcolon.Ownertrust
	ownertrust map[[20]byte]keysync.Ownertrust
	packets    map[[20]byte][]byte // each v4 key's exported packets
}

// state lists the home's keys and secret keys, reads its ownertrust and
// exports its public keys (with local signatures).
func (g gpgRun) state() (*gpgState, error) {
	list := func(what string) ([]gpgcolon.Key, error) {
		out, err := g.output(nil, false, "--no-auto-check-trustdb", "--with-colons", "--fixed-list-mode", "--with-fingerprint", what)
		if err != nil {
			return nil, err
		}
		keys, err := gpgcolon.ParseListing(bytes.NewReader(out))
		if err != nil {
			return nil, fmt.Errorf("gpg %s output: %w", what, err)
		}
		return keys, nil
	}
	pubs, err := list("--list-keys")
	if err != nil {
		return nil, err
	}
	secs, err := list("--list-secret-keys")
	if err != nil {
		return nil, err
	}
	out, err := g.output(nil, false, "--export-ownertrust")
	if err != nil {
		return nil, err
	}
	trust, _, err := gpgcolon.ParseOwnertrust(bytes.NewReader(out))
	if err != nil {
		return nil, fmt.Errorf("gpg --export-ownertrust output: %w", err)
	}
	exported, err := g.output(nil, false, "--export-options", "export-local-sigs", "--export")
	if err != nil {
		return nil, err
	}
	blocks, err := gpgcolon.SplitKeys(exported)
	if err != nil {
		return nil, fmt.Errorf("gpg --export output: %w", err)
	}
	st := &gpgState{pubs: pubs, trust: trust, secret: make(map[[20]byte]*gpgcolon.Key, len(secs)),
		ownertrust: make(map[[20]byte]keysync.Ownertrust, len(trust)), packets: make(map[[20]byte][]byte, len(blocks))}
	for _, b := range blocks {
		if b.Version == 4 {
			st.packets[b.Fingerprint] = b.Data
		}
	}
	for i := range secs {
		if secs[i].Unsupported == "" {
			st.secret[secs[i].Fingerprint] = &secs[i]
		}
	}
	for _, t := range trust {
		st.ownertrust[t.Fingerprint] = keysync.Ownertrust(t.Value)
	}
	return st, nil
}

// gpgFor returns the runner of the gpg binary on dir.
func gpgFor(dir string) (gpgRun, error) {
	path, err := findGPG()
	if err != nil {
		return gpgRun{}, err
	}
	home, err := filepath.Abs(dir)
	if err != nil {
		return gpgRun{}, err
	}
	return gpgRun{path: path, home: home}, nil
}

// Read lists the home's keys and secret keys, exports their packets and
// reads the ownertrust, all through gpg. A secret key gpg cannot export
// without a passphrase is asked for through r.Prompt when there is one;
// otherwise it is noted and only HasSecret says it exists.
func (a gnupgApp) Read(r ReadRequest) (*keysync.Model, []Notice, error) {
	if !hasKeyring(r.Dir) {
		return nil, nil, fmt.Errorf("gnupg: %w in %s (no pubring.kbx or pubring.gpg)", ErrNoStore, r.Dir)
	}
	g, err := gpgFor(r.Dir)
	if err != nil {
		return nil, nil, err
	}
	st, err := g.state()
	if err != nil {
		return nil, nil, fmt.Errorf("gnupg:%s: %w", r.Dir, err)
	}
	origin := &keysync.Origin{Source: r.Source, App: a.Name()}
	var notices []Notice
	note := func(format string, args ...any) {
		notices = append(notices, Notice{Source: r.Source, Msg: "gnupg: " + fmt.Sprintf(format, args...)})
	}
	m := &keysync.Model{}
	listed := make(map[[20]byte]bool, len(st.pubs))
	for _, p := range st.pubs {
		name := keyName(&p)
		if p.Unsupported != "" {
			note("skipped the key %s: %s; keysync holds only v4 OpenPGP keys", name, p.Unsupported)
			continue
		}
		fp := keysync.OpenPGPFingerprint(p.Fingerprint)
		if listed[p.Fingerprint] {
			continue
		}
		listed[p.Fingerprint] = true
		data, ok := st.packets[p.Fingerprint]
		if !ok {
			note("skipped the key %s (%s): gpg --export did not give it", name, fp.Human())
			continue
		}
		k := keysync.OpenPGPKey{Fingerprint: fp, UserIDs: p.UserIDs, Ownertrust: st.ownertrust[p.Fingerprint],
			Public: data, Origin: origin}
		if s := st.secret[p.Fingerprint]; s != nil {
			k.HasSecret = true
			var why string
			k.Secret, why = g.exportSecret(s, r.Prompt, name)
			if why != "" {
				note("secret key %s (%s) not read: %s", name, fp.Human(), why)
			}
		}
		m.OpenPGPKeys = append(m.OpenPGPKeys, k)
	}
	// Ownertrust of keys the keyring no longer holds stays with the store.
	for _, t := range st.trust {
		if !listed[t.Fingerprint] {
			listed[t.Fingerprint] = true
			m.OpenPGPKeys = append(m.OpenPGPKeys, keysync.OpenPGPKey{Fingerprint: keysync.OpenPGPFingerprint(t.Fingerprint),
				Ownertrust: keysync.Ownertrust(t.Value), Origin: origin})
		}
	}
	return m, notices, nil
}

// keyName names a key in notices by its first user ID, or its line.
func keyName(k *gpgcolon.Key) string {
	if len(k.UserIDs) > 0 {
		return excerpt.Quote(k.UserIDs[0])
	}
	return fmt.Sprintf("of line %d of the listing", k.Line)
}

// exportSecret exports one secret key, or says why it could not.
func (g gpgRun) exportSecret(k *gpgcolon.Key, prompt Prompt, name string) ([]byte, string) {
	switch k.Token {
	case "+":
	case "#":
		return nil, "only a stub is there (the key is offline)"
	case "":
		return nil, "gpg's listing does not say that it is there"
	default:
		return nil, "it is on the smartcard " + excerpt.Quote(k.Token)
	}
	fpr := strings.ToUpper(fmt.Sprintf("%x", k.Fingerprint[:]))
	out, err := g.output(nil, true, "--export-secret-keys", fpr)
	if err == nil {
		return out, ""
	}
	if prompt == nil {
		return nil, "gpg cannot export it without its passphrase, and nobody can be asked for it"
	}
	pass, err := prompt("passphrase of the OpenPGP key " + name)
	if err != nil {
		return nil, "no passphrase: " + err.Error()
	}
	defer clear(pass)
	stdin := append(pass, '\n')
	defer clear(stdin)
	// The later --pinentry-mode wins over gpgOptions'.
	out, err = g.output(stdin, true, "--pinentry-mode", "loopback", "--passphrase-fd", "0", "--export-secret-keys", fpr)
	if err != nil {
		return nil, "gpg cannot export it with the passphrase given"
	}
	return out, ""
}

// Write plans gpg imports into dir of what it does not hold yet: the
// public keys (with local signatures) whose packets differ from the
// home's, the secret keys it lacks, then the ownertrust values that
// differ. Key material reaches gpg on its standard input only. OTR keys
// and fingerprints are skipped with a notice.
func (a gnupgApp) Write(dir, source string, m *keysync.Model) (Plan, []Notice, error) {
	var notices []Notice
	note := func(format string, args ...any) {
		notices = append(notices, Notice{Source: source, Msg: "gnupg: " + fmt.Sprintf(format, args...)})
	}
	var otrKeys int
	for _, la := range m.Accounts {
		otrKeys += len(la.Keys)
	}
	if otrKeys > 0 {
		note("skipped %s: GnuPG holds only OpenPGP keys", count(otrKeys, "OTR private key"))
	}
	if n := len(m.Fingerprints); n > 0 {
		note("skipped %s: GnuPG holds only OpenPGP keys", count(n, "OTR fingerprint"))
	}
	if len(m.OpenPGPKeys) == 0 {
		return Plan{}, notices, nil
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return Plan{}, nil, fmt.Errorf("gnupg:%s: not a folder; gpg makes only its default home, so create it (mode 0700) first", dir)
	}
	g, err := gpgFor(dir)
	if err != nil {
		return Plan{}, nil, err
	}
	has := &gpgState{}
	if hasKeyring(dir) {
		if has, err = g.state(); err != nil {
			return Plan{}, nil, fmt.Errorf("gnupg:%s: %w", dir, err)
		}
	}
	var pub, sec []byte
	var trust []gpgcolon.Ownertrust
	nPub, nSec, noSecret := 0, 0, 0
	for _, k := range m.OpenPGPKeys {
		fp := k.Fingerprint.Sum
		if len(k.Public) > 0 && !bytes.Equal(has.packets[fp], k.Public) {
			pub = append(pub, k.Public...)
			nPub++
		}
		switch s := has.secret[fp]; {
		case s != nil && s.SecretAvailable():
		case k.Secret != nil:
			sec = append(sec, k.Secret...)
			nSec++
		case k.HasSecret:
			noSecret++
		}
		if k.Ownertrust != keysync.OwnertrustUnset && has.ownertrust[fp] != k.Ownertrust {
			trust = append(trust, gpgcolon.Ownertrust{Fingerprint: fp, Value: uint8(k.Ownertrust)})
		}
	}
	if noSecret > 0 {
		note("%s not written: the stores they came from could not export them (see the notices of reading)",
			count(noSecret, "secret key"))
	}
	args := func(extra ...string) []string { return append(gpgOptions(g.home), extra...) }
	var plan Plan
	if nPub > 0 {
		plan.Commands = append(plan.Commands, Command{Path: g.path, Args: args("--import-options", "import-local-sigs", "--import"),
			Stdin: atomicfile.Bytes(pub), Summary: count(nPub, "public key")})
	}
	if nSec > 0 {
		plan.Commands = append(plan.Commands, Command{Path: g.path, Args: args("--import"),
			Stdin: atomicfile.Bytes(sec), Secret: true, Summary: count(nSec, "secret key")})
	}
	if len(trust) > 0 {
		plan.Commands = append(plan.Commands, Command{Path: g.path, Args: args("--import-ownertrust"),
			Stdin: atomicfile.Bytes(gpgcolon.AppendOwnertrust(nil, trust)), Summary: count(len(trust), "ownertrust value")})
	}
	return plan, notices, nil
}
