package atomicfile

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// helperEnv names the helper a re-executed test binary runs instead of
// the tests; its arguments follow in helperArgs, separated by newlines.
const (
	helperEnv  = "ATOMICFILE_TEST_HELPER"
	helperArgs = "ATOMICFILE_TEST_ARGS"
)

func TestMain(m *testing.M) {
	if name := os.Getenv(helperEnv); name != "" {
		args := strings.Split(os.Getenv(helperArgs), "\n")
		if err := helpers[name](args); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// helpers are what a re-executed test binary can run.
var helpers = map[string]func(args []string) error{
	// hold-lock DIR: lock DIR, say "locked", hold it until stdin closes.
	"hold-lock": func(args []string) error {
		l, err := LockDirs(args[:1], 0)
		if err != nil {
			return err
		}
		fmt.Println("locked")
		io.Copy(io.Discard, os.Stdin)
		return l.Unlock()
	},
}

// helper returns a command that runs the named helper in a copy of the
// test binary.
func helper(t *testing.T, name string, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), helperEnv+"="+name, helperArgs+"="+strings.Join(args, "\n"))
	cmd.Stderr = os.Stderr
	return cmd
}
