package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// keysyncCmd returns a command that runs keysync, as a copy of the test
// binary, with args in dir.
func keysyncCmd(t *testing.T, dir string, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), runEnv+"=1")
	return cmd
}

// Two converts into one target at once, from stores holding different
// rows: each either writes or fails on the lock, and the target ends up
// holding its own row and every row of each convert that succeeded. Before
// folders were locked and targets checked against what was read, both
// often succeeded and one side's rows were lost.
func TestTwoWritersLoseNothing(t *testing.T) {
	fixtures := filepath.Join("..", "..", "testdata", "fixtures")
	rowsOf := func(path string) []string {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return strings.Split(strings.TrimSpace(string(b)), "\n")
	}
	// The rows each source adds to the target, as Kopete spells them.
	own := "old@example.org\tme@example.org\tJabber\t0123456789abcdef0123456789abcdef01234567\tverified"
	wantA := len(rowsOf(filepath.Join(fixtures, "pidgin", "otr.fingerprints")))
	wantB := len(rowsOf(filepath.Join(fixtures, "irssi", "otr.fp")))
	trials := 15
	if testing.Short() {
		trials = 3
	}
	both := 0
	for trial := range trials {
		dir := t.TempDir()
		for _, f := range []string{"pidgin/otr.private_key", "pidgin/otr.fingerprints", "irssi/otr.key", "irssi/otr.fp"} {
			b, err := os.ReadFile(filepath.Join(fixtures, f))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(f)), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, f), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.MkdirAll(filepath.Join(dir, "t"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "t", "fingerprints"), []byte(own+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		ok := make([]bool, 2)
		for i, from := range []string{"pidgin:pidgin", "irssi:irssi"} {
			wg.Go(func() {
				cmd := keysyncCmd(t, dir, "convert", "--from", from, "--to", "kopete:t", "--wait", "20s")
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				err := cmd.Run()
				var exit *exec.ExitError
				switch {
				case err == nil:
					ok[i] = true
				case errors.As(err, &exit) && exit.ExitCode() == 1 && strings.Contains(stderr.String(), "locked by another keysync"):
				default:
					t.Errorf("trial %d: convert --from %s: %v\n%s", trial, from, err, stderr.String())
				}
			})
		}
		wg.Wait()
		rows := rowsOf(filepath.Join(dir, "t", "fingerprints"))
		want := 1
		if ok[0] {
			want += wantA
		}
		if ok[1] {
			want += wantB
		}
		if len(rows) != want || !slices.Contains(rows, own) {
			t.Errorf("trial %d: converts succeeded %v; target holds %d rows, want %d:\n%s", trial, ok, len(rows), want, strings.Join(rows, "\n"))
		}
		if ok[0] && ok[1] {
			both++
		}
		if es, _ := filepath.Glob(filepath.Join(dir, "t", ".keysync*")); len(es) > 0 {
			t.Errorf("trial %d: left %v", trial, es)
		}
	}
	t.Logf("%d of %d trials: both converts succeeded, one after the other", both, trials)
}
