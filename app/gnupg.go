package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
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
//
// A read leaves the home as it was. gpg 2 changes a home it only lists:
// it migrates a GnuPG 1.x secring.gpg into private-keys-v1.d (and writes
// .gpg-v21-migrated), creates or updates trustdb.gpg, rewrites a
// pubring.gpg, and starts a gpg-agent that makes its sockets and keeps
// running. --no-autostart, --lock-never and --no-auto-check-trustdb keep
// a sound home as it was, but without an agent gpg lists no secret keys,
// and a broken keyring still gets a new trustdb.gpg
// (doc/formats.md §6.8). So gpg reads a private copy of the home's
// keyrings, in a new folder of mode 0700, and the copy's agent is stopped
// and the copy removed when the read ends, whether it failed or not.

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

// gpgRun is the gpg and gpgconf binaries and one GnuPG home, absolute.
// named, when set, is the home that messages name: home is a private
// copy of it.
type gpgRun struct {
	path, conf, home string
	named            string
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
	opts := gpgOptions(g.home)
	if g.named != "" {
		// A copy's gpg reads the copy's keyrings only: options of the
		// home's gpg.conf (another keyring, another trustdb) could point
		// it at the user's files.
		opts = append(opts, "--no-options")
	}
	cmd := exec.CommandContext(ctx, g.path, append(opts, args...)...)
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
		msg := string(stderr.buf)
		if g.named != "" {
			msg = strings.ReplaceAll(msg, g.home, g.named)
		}
		err = fmt.Errorf("%s: %v: %s", what, err, excerpt.Cut(strings.TrimSpace(msg), 300))
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

// gpgFor returns the runner of the gpg binary on dir, with the gpgconf
// beside it (else in PATH).
func gpgFor(dir string) (gpgRun, error) {
	path, err := findGPG()
	if err != nil {
		return gpgRun{}, err
	}
	conf := filepath.Join(filepath.Dir(path), "gpgconf")
	if runtime.GOOS == "windows" {
		conf += ".exe"
	}
	if _, err := os.Stat(conf); err != nil {
		if conf, err = exec.LookPath("gpgconf"); err != nil {
			return gpgRun{}, errors.New("gnupg: gpgconf not found beside gpg or in PATH (GnuPG 2.1 or later has it)")
		}
	}
	home, err := filepath.Abs(dir)
	if err != nil {
		return gpgRun{}, err
	}
	return gpgRun{path: path, conf: conf, home: home}, nil
}

// gpgHomeFiles are the files of a home that a private copy takes, besides
// private-keys-v1.d: the keyrings, the trust database, and the mark of a
// migration done (without it gpg would migrate secring.gpg again, keys
// deleted since and all).
var gpgHomeFiles = []string{"pubring.kbx", "pubring.gpg", "secring.gpg", "trustdb.gpg", ".gpg-v21-migrated"}

// gpgTempBase is the folder that holds private copies: gpgTempDir, else
// the user's runtime folder ($XDG_RUNTIME_DIR: the user's own, mode 0700,
// in memory on most Linux systems, so a copy's secret keys never reach a
// disk), else the system's temporary folder; one whose path is too long
// for the copy's agent sockets (104 bytes on macOS) gives way to /tmp.
func gpgTempBase() string {
	if gpgTempDir != "" {
		return gpgTempDir
	}
	d := os.TempDir()
	if r := os.Getenv("XDG_RUNTIME_DIR"); r != "" && ownPrivateDir(r) {
		d = r
	}
	if runtime.GOOS != "windows" && len(d) > 56 {
		d = "/tmp"
	}
	return d
}

// gpgCopyPrefix starts the name of every private copy; the process id
// that made it follows, so that a later read can remove the copy of a
// keysync killed before it could (sweepCopies).
const gpgCopyPrefix = "keysync-gnupg-"

// sweepCopies removes the private copies in base whose keysync no longer
// runs (killed by SIGKILL mid-read), after stopping the gpg-agent a copy
// may still have.
func (g gpgRun) sweepCopies(base string) {
	entries, _ := os.ReadDir(base)
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), gpgCopyPrefix)
		pid, _, ok2 := strings.Cut(rest, "-")
		n, err := strconv.Atoi(pid)
		if !ok || !ok2 || err != nil || n <= 0 || n == os.Getpid() || !e.IsDir() {
			continue
		}
		if processGone(n) {
			stale := g
			stale.home = filepath.Join(base, e.Name())
			stale.stopAgent()
			_ = os.RemoveAll(stale.home)
		}
	}
}

// privateCopy copies what gpg reads of g's home (gpgHomeFiles and the
// files of private-keys-v1.d, secret keys as the home keeps them) into a
// new folder of mode 0700, files 0600, and returns the runner on it. done
// stops the gpg-agent that gpg starts for the copy and removes it; it is
// to be called however the read ends. On an error nothing is left. An
// interrupt or termination signal meanwhile (a passphrase prompt may
// wait long) does the same and is then raised again.
func (g gpgRun) privateCopy() (c gpgRun, done func(), err error) {
	base := gpgTempBase()
	g.sweepCopies(base)
	dir, err := os.MkdirTemp(base, fmt.Sprintf("%s%d-", gpgCopyPrefix, os.Getpid()))
	if err != nil {
		return gpgRun{}, nil, fmt.Errorf("private copy of the home: %w", err)
	}
	c = g
	c.home, c.named = dir, g.home
	var once sync.Once
	remove := func() {
		once.Do(c.stopAgent)
		_ = os.RemoveAll(dir) // again on every call: one may race a read still writing
	}
	sigs := make(chan os.Signal, 1)
	watched := []os.Signal{os.Interrupt, syscall.SIGTERM}
	if !signal.Ignored(syscall.SIGHUP) { // under nohup a hang-up stays ignored
		watched = append(watched, syscall.SIGHUP)
	}
	signal.Notify(sigs, watched...)
	finished := make(chan struct{})
	go func() {
		select {
		case sig := <-sigs:
			remove()
			signal.Stop(sigs)
			if p, err := os.FindProcess(os.Getpid()); err == nil {
				_ = p.Signal(sig) // its default action, or other handlers
			}
		case <-finished:
		}
	}()
	var stopOnce sync.Once
	done = func() {
		remove() // first: a signal meanwhile still finds its handler
		stopOnce.Do(func() {
			signal.Stop(sigs)
			close(finished)
		})
	}
	defer func() {
		if err != nil {
			done()
			err = fmt.Errorf("private copy of the home: %w", err)
		}
	}()
	for _, name := range gpgHomeFiles {
		if err := copyPrivate(filepath.Join(g.home, name), filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return gpgRun{}, nil, err
		}
	}
	const keys = "private-keys-v1.d"
	entries, err := os.ReadDir(filepath.Join(g.home, keys))
	if errors.Is(err, fs.ErrNotExist) {
		return c, done, nil
	}
	if err != nil {
		return gpgRun{}, nil, err
	}
	if err := os.Mkdir(filepath.Join(dir, keys), 0o700); err != nil {
		return gpgRun{}, nil, err
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		err := copyPrivate(filepath.Join(g.home, keys, e.Name()), filepath.Join(dir, keys, e.Name()))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return gpgRun{}, nil, err
		}
	}
	return c, done, nil
}

// copyPrivate copies the regular file from (a link is followed) to a new
// file to of mode 0600.
// gpg updates trustdb.gpg in place: a file that changes while it is
// copied (its size or time) is copied again, up to three times, so that
// the copy is never torn.
func copyPrivate(from, to string) error {
	for range 3 {
		same, err := copyOnce(from, to)
		if err != nil || same {
			return err
		}
		if err := os.Remove(to); err != nil {
			return err
		}
	}
	return fmt.Errorf("%s changed while keysync read it, three times: try again when gpg is done", from)
}

// copyOnce copies from to to, and reports whether from was the same
// (size and modification time) after the copy as before.
func copyOnce(from, to string) (same bool, err error) {
	in, err := os.Open(from)
	if err != nil {
		return false, err
	}
	defer in.Close()
	before, err := in.Stat()
	if err != nil {
		return false, err
	}
	if !before.Mode().IsRegular() {
		return true, nil
	}
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return false, err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return false, err
	}
	if err := out.Close(); err != nil {
		return false, err
	}
	after, err := os.Stat(from)
	if err != nil {
		return false, err
	}
	return after.Size() == before.Size() && after.ModTime().Equal(before.ModTime()), nil
}

// stopAgent stops the gpg-agent of g's home (a private copy), if one
// runs, and waits a little for it to remove its socket. A socket folder
// of the copy's own elsewhere (under /run/user) is removed too.
func (g gpgRun) stopAgent() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sock := g.agentSocket(ctx)
	conf := func(args ...string) {
		cmd := exec.CommandContext(ctx, g.conf, append([]string{"--homedir", g.home}, args...)...)
		cmd.Env = gpgEnv(g.home)
		_ = cmd.Run()
	}
	conf("--kill", "gpg-agent")
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if _, err := os.Lstat(sock); err != nil {
			break
		}
	}
	if filepath.Dir(sock) != g.home {
		conf("--remove-socketdir")
	}
}

// agentSocket is the path of the socket of g's home's gpg-agent, as
// gpgconf says, else the one in the home.
func (g gpgRun) agentSocket(ctx context.Context) string {
	cmd := exec.CommandContext(ctx, g.conf, "--homedir", g.home, "--list-dirs", "agent-socket")
	cmd.Env = gpgEnv(g.home)
	out, err := cmd.Output()
	if p := strings.TrimSpace(string(out)); err == nil && p != "" && !strings.ContainsRune(p, '\n') {
		if u, err := url.PathUnescape(p); err == nil { // gpgconf escapes ':' and '%'
			return u
		}
	}
	return filepath.Join(g.home, "S.gpg-agent")
}

// agentRunning reports whether a gpg-agent answers on the socket of g's
// home (on Windows, whose sockets are files, whether the socket is
// there).
func (g gpgRun) agentRunning() bool {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sock := g.agentSocket(ctx)
	if runtime.GOOS == "windows" {
		_, err := os.Stat(sock)
		return err == nil
	}
	c, err := net.DialTimeout("unix", sock, 2*time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// readState is the state of g's home, read from a private copy.
func (g gpgRun) readState() (*gpgState, error) {
	c, done, err := g.privateCopy()
	if err != nil {
		return nil, err
	}
	defer done()
	return c.state()
}

// Read lists the home's keys and secret keys, exports their packets and
// reads the ownertrust, all through gpg on a private copy of the home. A secret key gpg cannot export
// without a passphrase is asked for through r.Prompt when there is one;
// otherwise it is noted and only HasSecret says it exists.
func (a gnupgApp) Read(r ReadRequest) (*keysync.Model, []Notice, error) {
	if !hasKeyring(r.Dir) {
		return nil, nil, fmt.Errorf("gnupg: %w in %s (no pubring.kbx or pubring.gpg)", ErrNoStore, r.Dir)
	}
	home, err := gpgFor(r.Dir)
	if err != nil {
		return nil, nil, err
	}
	g, done, err := home.privateCopy()
	if err != nil {
		return nil, nil, fmt.Errorf("gnupg:%s: %w", r.Dir, err)
	}
	defer done()
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
// home's (read from a private copy), the secret keys it lacks, then the
// ownertrust values that differ, and, when no gpg-agent runs for dir,
// gpgconf --kill gpg-agent to stop the one the imports start. Key material reaches gpg on its standard input only. OTR keys
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
		if has, err = g.readState(); err != nil {
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
	// gpg --import starts a gpg-agent (and, in a GnuPG 1.x home, migrates
	// secring.gpg through it); one that was not running before is
	// stopped again, even after a failed import.
	if len(plan.Commands) > 0 && !g.agentRunning() {
		plan.Commands = append(plan.Commands, Command{Path: g.conf, Args: []string{"--homedir", g.home, "--kill", "gpg-agent"},
			Summary: "stop the gpg-agent started by the imports", Always: true})
	}
	return plan, notices, nil
}

// gpgTempDir is where private copies of homes are made; "" is the
// system's temporary folder.
var gpgTempDir = ""
