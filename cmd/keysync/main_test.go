package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keysync/keysync/internal/atomicfile"
	"github.com/rogpeppe/go-internal/testscript"
	"github.com/spf13/cobra"
)

// runEnv makes a re-executed test binary run keysync with its arguments,
// for tests that start keysyncs themselves.
const runEnv = "KEYSYNC_TEST_RUN"

func TestMain(m *testing.M) {
	if os.Getenv(runEnv) == "1" {
		os.Exit(run())
	}
	testscript.Main(m, map[string]func(){
		"keysync": func() { os.Exit(run()) },
	})
}

// scriptCmds are the testscript commands the scenarios use besides the
// built-in ones.
var scriptCmds = map[string]func(*testscript.TestScript, bool, []string){
	"exits": exits, "holdlock": holdLock, "unlock": unlock,
}

// TestScripts runs the command-line scenarios in testdata/*.txt.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{Dir: "testdata", Cmds: scriptCmds, Setup: setupScript})
}

// TestRunningScripts runs the scenarios of testdata/running/*.txt, which
// start programs named like chat apps; it is not run beside TestScripts,
// whose scenarios would see them.
func TestRunningScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{Dir: "testdata/running", Cmds: scriptCmds, Setup: setupScript})
}

// setupScript gives a scenario $FIXTURES, the sample stores of the source
// tree, and $SLEEP, the sleep program if there is one.
func setupScript(env *testscript.Env) error {
	fixtures, err := filepath.Abs(filepath.Join("..", "..", "testdata", "fixtures"))
	if err != nil {
		return err
	}
	env.Setenv("FIXTURES", fixtures)
	if sleep, err := exec.LookPath("sleep"); err == nil {
		env.Setenv("SLEEP", sleep)
	}
	return nil
}

// holdLock is the testscript command `holdlock DIR`: it locks DIR as a
// keysync does, until `unlock DIR` or the end of the scenario.
func holdLock(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: holdlock DIR")
	}
	l, err := atomicfile.LockDirs([]string{ts.MkAbs(args[0])}, time.Second)
	ts.Check(err)
	heldLocks.Store(ts.MkAbs(args[0]), l)
	ts.Defer(func() { l.Unlock() })
}

// unlock is the testscript command `unlock DIR`, which ends holdlock.
func unlock(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: unlock DIR")
	}
	l, ok := heldLocks.LoadAndDelete(ts.MkAbs(args[0]))
	if !ok {
		ts.Fatalf("unlock: %s is not held", args[0])
	}
	ts.Check(l.(*atomicfile.Lock).Unlock())
}

// heldLocks maps a folder to the lock holdlock holds on it.
var heldLocks sync.Map

// exits is the testscript command `exits STATUS PROGRAM [ARGS...]`: it runs
// PROGRAM like exec and fails unless it exits with STATUS. Its output is
// then checked with stdout and stderr as after exec.
func exits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits STATUS PROGRAM [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exits: bad status %q", args[0])
	}
	got := 0
	var exit *exec.ExitError
	if err := ts.Exec(args[1], args[2:]...); errors.As(err, &exit) {
		got = exit.ExitCode()
	} else if err != nil {
		ts.Fatalf("exits: %v", err)
	}
	if got != want {
		ts.Fatalf("%s exited with status %d, want %d", args[1], got, want)
	}
}

// codedError is an error with its own exit status, as convert's error for
// unresolved conflicts has.
type codedError struct{ code int }

func (e codedError) Error() string { return "coded" }
func (e codedError) ExitCode() int { return e.code }

func TestExitStatus(t *testing.T) {
	for _, c := range []struct {
		err  error
		want int
	}{
		{nil, 0},
		{errors.New("plain"), 1},
		{usageErrorf("bad flag"), 2},
		{codedError{3}, 3},
		{fmt.Errorf("convert: %w", codedError{3}), 3},
		{usageError{codedError{3}}, 2},
	} {
		if got := exitStatus(c.err); got != c.want {
			t.Errorf("exitStatus(%v) = %d, want %d", c.err, got, c.want)
		}
	}
}

// TestExecuteExitCode runs a command tree whose command fails with an error
// that has its own exit status: execute returns that status, not 1.
func TestExecuteExitCode(t *testing.T) {
	root := newRootCmd()
	for _, c := range root.Commands() {
		if c.Name() == "version" {
			c.RunE = func(*cobra.Command, []string) error {
				return fmt.Errorf("3 unresolved conflicts: %w", codedError{3})
			}
		}
	}
	var stderr strings.Builder
	if got := execute(root, []string{"version"}, &stderr); got != 3 {
		t.Errorf("execute returned %d, want 3", got)
	}
	if want := "keysync: 3 unresolved conflicts: coded\n"; stderr.String() != want {
		t.Errorf("stderr = %q, want %q", stderr.String(), want)
	}
}

func TestVersionLine(t *testing.T) {
	settings := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	for _, c := range []struct {
		info debug.BuildInfo
		want string
	}{
		{debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.0"},
			Settings: settings("GOOS", "linux", "GOARCH", "amd64", "vcs.revision", "51a6124d0f4e0000")},
			"keysync v1.2.0 built with go1.26.8 for linux/amd64"},
		{debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"},
			Settings: settings("GOOS", "darwin", "GOARCH", "arm64", "vcs.revision", "51a6124d0f4e0000",
				"vcs.time", "2026-12-01T17:00:00Z", "vcs.modified", "true")},
			"keysync (devel) 51a6124d0f4e (2026-12-01T17:00:00Z, modified) built with go1.26.8 for darwin/arm64"},
		{debug.BuildInfo{GoVersion: "go1.26.8",
			Settings: settings("GOOS", "linux", "GOARCH", "386", "vcs.revision", "51a6")},
			"keysync (devel) 51a6 built with go1.26.8 for linux/386"},
	} {
		if got := versionLine(&c.info); got != c.want {
			t.Errorf("versionLine = %q\n want %q", got, c.want)
		}
	}
}

func TestEditDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{{"", "", 0}, {"form", "from", 1}, {"prefre", "prefer", 1}, {"to", "to", 0}, {"", "abc", 3},
		{"json", "jsno", 1}, {"dry-rn", "dry-run", 1}, {"tcsh", "bash", 2}, {"ab", "ba", 1}, {"abc", "ca", 3}, {"kitten", "sitting", 3}} {
		if got := editDistance(c.a, c.b); got != c.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}
