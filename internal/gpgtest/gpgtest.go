// Package gpgtest runs the real GnuPG in interop tests: a throw-away
// GnuPG home per test, whose agent is stopped and files removed when the
// test ends. A missing gpg skips the test, or fails it with
// KEYSYNC_REQUIRE_PEERS=1 (internal/peer). Take and Snapshot.Diff show
// what a program changed in a home; Agents lists the gpg-agents running
// for one.
package gpgtest

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/keysync/keysync/internal/peer"
)

// Home is a GnuPG home folder of one test.
type Home struct {
	t   testing.TB
	gpg string
	dir string
}

// New makes a GnuPG home for t. Its path is short (under /tmp): the
// agent's socket path must fit in a Unix socket address.
func New(t testing.TB) *Home {
	t.Helper()
	gpg := peer.Need(t, "gpg")
	dir, err := os.MkdirTemp("/tmp", "ksg")
	if err != nil {
		t.Fatal(err)
	}
	h := &Home{t: t, gpg: gpg, dir: dir}
	t.Cleanup(func() {
		if conf, err := exec.LookPath("gpgconf"); err == nil {
			kill := exec.Command(conf, "--kill", "all")
			kill.Env = h.env()
			_ = kill.Run()
		}
		_ = os.RemoveAll(dir)
	})
	return h
}

// Dir returns the home folder; files written there are removed with it.
func (h *Home) Dir() string { return h.dir }

func (h *Home) env() []string { return append(os.Environ(), "GNUPGHOME="+h.dir) }

// Run runs gpg in batch mode with args and stdin, and returns its standard
// output and its status lines (--status-fd); a failure ends the test.
func (h *Home) Run(stdin []byte, args ...string) (stdout []byte, status string) {
	h.t.Helper()
	out, st, err := h.Try(stdin, args...)
	if err != nil {
		h.t.Fatalf("gpg %s: %v\nstatus:\n%s", strings.Join(args, " "), err, st)
	}
	return out, st
}

// Try is Run that returns gpg's failure instead of ending the test.
func (h *Home) Try(stdin []byte, args ...string) (stdout []byte, status string, err error) {
	statusR, statusW, err := os.Pipe()
	if err != nil {
		return nil, "", err
	}
	defer statusR.Close()
	cmd := exec.Command(h.gpg, append([]string{"--batch", "--no-tty", "--status-fd", "3", "--pinentry-mode", "loopback", "--passphrase", ""}, args...)...)
	cmd.Env = h.env()
	cmd.Stdin = bytes.NewReader(stdin)
	cmd.ExtraFiles = []*os.File{statusW}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		statusW.Close()
		return nil, "", err
	}
	statusW.Close()
	var st bytes.Buffer
	_, _ = st.ReadFrom(statusR)
	if err := cmd.Wait(); err != nil {
		return out.Bytes(), st.String(), &runError{err: err, stderr: errOut.String()}
	}
	return out.Bytes(), st.String(), nil
}

type runError struct {
	err    error
	stderr string
}

func (e *runError) Error() string { return e.err.Error() + ": " + strings.TrimSpace(e.stderr) }

// Import imports keys (public or secret) from data.
func (h *Home) Import(data []byte) {
	h.t.Helper()
	h.Run(data, "--import")
}

// Fingerprints returns the fingerprints of the primary keys gpg holds,
// public (secret false) or secret.
func (h *Home) Fingerprints(secret bool) []string {
	h.t.Helper()
	list := "--list-keys"
	if secret {
		list = "--list-secret-keys"
	}
	out, _ := h.Run(nil, "--with-colons", "--fingerprint", list)
	var fprs []string
	primary := false
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Split(line, ":")
		switch {
		case f[0] == "pub" || f[0] == "sec":
			primary = true
		case f[0] == "sub" || f[0] == "ssb":
			primary = false
		case f[0] == "fpr" && primary && len(f) > 9:
			fprs = append(fprs, f[9])
			primary = false
		}
	}
	return fprs
}

// StatusLines returns the status lines of keyword kw (without the
// "[GNUPG:] " prefix), each split in fields.
func StatusLines(status, kw string) [][]string {
	var out [][]string
	for _, line := range strings.Split(status, "\n") {
		f := strings.Fields(strings.TrimPrefix(line, "[GNUPG:] "))
		if len(f) > 0 && f[0] == kw {
			out = append(out, f)
		}
	}
	return out
}

// Snapshot is what a folder tree holds: for each path under the folder
// (the folder itself is "."), its type and mode, size and modification
// time.
type Snapshot map[string]string

// Take returns the snapshot of the tree at dir; an error ends the test.
func Take(t testing.TB, dir string) Snapshot {
	t.Helper()
	s := Snapshot{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		s[rel] = fmt.Sprintf("%v %d bytes, modified %s", fi.Mode(), fi.Size(), fi.ModTime().Format(time.RFC3339Nano))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Diff lists what differs between s (before) and after, one line per
// path, sorted; none when they are the same.
func (s Snapshot) Diff(after Snapshot) []string {
	var d []string
	for p, was := range s {
		switch now, ok := after[p]; {
		case !ok:
			d = append(d, p+": gone (was "+was+")")
		case now != was:
			d = append(d, p+": "+was+" -> "+now)
		}
	}
	for p, now := range after {
		if _, ok := s[p]; !ok {
			d = append(d, p+": new ("+now+")")
		}
	}
	sort.Strings(d)
	return d
}

// Agents returns the process ids and command lines of the gpg-agents
// running for a home under dir (a --homedir argument of dir or below).
// ok is false where processes cannot be listed (no /proc).
func Agents(dir string) (agents []string, ok bool) {
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return nil, false
	}
	dir = filepath.Clean(dir)
	for _, p := range procs {
		if _, err := strconv.Atoi(p.Name()); err != nil {
			continue
		}
		raw, err := os.ReadFile(filepath.Join("/proc", p.Name(), "cmdline"))
		if err != nil || len(raw) == 0 { // gone, or a zombie
			continue
		}
		args := strings.Split(strings.TrimRight(string(raw), "\x00"), "\x00")
		if filepath.Base(args[0]) != "gpg-agent" {
			continue
		}
		for i, a := range args {
			home, ok := strings.CutPrefix(a, "--homedir=")
			if !ok && a == "--homedir" && i+1 < len(args) {
				home, ok = args[i+1], true
			}
			if ok && (filepath.Clean(home) == dir || strings.HasPrefix(filepath.Clean(home), dir+string(filepath.Separator))) {
				agents = append(agents, p.Name()+" "+strings.Join(args, " "))
				break
			}
		}
	}
	return agents, true
}
