// Package gpgtest runs the real GnuPG in interop tests: a throw-away
// GnuPG home per test, whose agent is stopped and files removed when the
// test ends. A missing gpg skips the test, or fails it with
// KEYSYNC_REQUIRE_PEERS=1 (internal/peer).
package gpgtest

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"

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
