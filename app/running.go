package app

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/keysync/keysync/internal/excerpt"
)

// ProcessNamer is implemented by an App whose program can be seen running:
// a chat app that keeps its trust store in memory and rewrites its files
// from there, undoing what keysync wrote while it ran.
type ProcessNamer interface {
	// ProcessNames are the names the app's program runs under, as the OS
	// lists processes ("pidgin", "Adium"), without ".exe"; compared
	// without regard to case.
	ProcessNames() []string
}

// RunningApp is an app found running.
type RunningApp struct {
	App     string // the app's name, such as "pidgin"
	Process string // the process name it was found under
}

// CheckRunning applies the rule for writing the stores of tos while their
// apps run: a running chat app rewrites its files from memory and would
// undo the write, so it is refused unless force; a dry run, or a forced
// one, only notes it. Processes that cannot be listed are a note too.
func CheckRunning(tos []Location, force, dryRun bool) (notes []string, err error) {
	var apps, names []string
	var all []App
	for _, t := range tos {
		all = append(all, t.App)
		if !slices.Contains(names, t.App.Name()) {
			names = append(names, t.App.Name())
		}
	}
	running, err := Running(all)
	if err != nil {
		return []string{fmt.Sprintf("%v: make sure the apps written (%s) are not running", err, strings.Join(names, ", "))}, nil
	}
	if len(running) == 0 {
		return nil, nil
	}
	for _, r := range running {
		apps = append(apps, fmt.Sprintf("%s is running (process %s)", r.App, excerpt.Cut(r.Process, excerpt.MaxRunes)))
	}
	msg := strings.Join(apps, "; ")
	if dryRun || force {
		return []string{msg + ": it may undo the change when it next saves its files"}, nil
	}
	return nil, fmt.Errorf("%s: quit it before keysync writes its files (a running app rewrites them from memory and would undo the change), or use --force", msg)
}

// listTimeout bounds the time taken to list processes with a program.
const listTimeout = 5 * time.Second

// Running returns the apps among apps whose programs are running now, each
// once, in the order given. Apps that are not ProcessNamers are never
// found. The error says that the processes could not be listed.
func Running(apps []App) ([]RunningApp, error) {
	var wanted []App
	for _, a := range apps {
		if n, ok := a.(ProcessNamer); ok && len(n.ProcessNames()) > 0 {
			wanted = append(wanted, a)
		}
	}
	if len(wanted) == 0 {
		return nil, nil
	}
	procs, err := processNames()
	if err != nil {
		return nil, fmt.Errorf("cannot list the running programs: %w", err)
	}
	var out []RunningApp
	done := map[string]bool{}
	for _, a := range wanted {
		if done[a.Name()] {
			continue
		}
		for _, p := range a.(ProcessNamer).ProcessNames() {
			if procs[strings.ToLower(p)] {
				out = append(out, RunningApp{App: a.Name(), Process: p})
				done[a.Name()] = true
				break
			}
		}
	}
	return out, nil
}

// processNames returns the names of the running processes, lower-cased,
// without folder or ".exe".
func processNames() (map[string]bool, error) {
	switch runtime.GOOS {
	case "linux", "android":
		if names, err := procNames("/proc"); err == nil {
			return names, nil
		}
	case "windows":
		return listedNames(parseTasklist, "tasklist", "/fo", "csv", "/nh")
	}
	return listedNames(parsePS, "ps", "-axo", "comm")
}

// procNames reads every process's name from a Linux /proc: its comm (the
// kernel's name, at most 15 bytes) and the program of its command line.
func procNames(proc string) (map[string]bool, error) {
	es, err := os.ReadDir(proc)
	if err != nil {
		return nil, err
	}
	names := map[string]bool{}
	for _, e := range es {
		if strings.Trim(e.Name(), "0123456789") != "" {
			continue
		}
		dir := filepath.Join(proc, e.Name())
		if b, err := readHead(filepath.Join(dir, "comm"), 64); err == nil {
			addName(names, strings.TrimSpace(string(b)))
		}
		if b, err := readHead(filepath.Join(dir, "cmdline"), 64<<10); err == nil { // java's class paths are long
			args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
			addName(names, args[0])
			addName(names, javaMain(args))
		}
	}
	return names, nil
}

// javaMain returns what the java command line args runs: its main class
// (net.java.sip.communicator.launcher.SIPCommunicator, Jitsi's, which a
// launcher script starts with java on Linux), or the jar of -jar; "" for
// other programs.
func javaMain(args []string) string {
	if n := strings.ToLower(filepath.Base(args[0])); n != "java" && n != "java.exe" {
		return ""
	}
	for i := 1; i < len(args); i++ {
		switch a := args[i]; {
		case javaValued[a]:
			i++ // its value
		case (a == "-jar" || a == "-m" || a == "--module") && i+1 < len(args):
			m := args[i+1]
			if a == "-jar" {
				return strings.TrimSuffix(filepath.Base(m), ".jar")
			}
			_, class, _ := strings.Cut(m, "/") // MODULE[/CLASS]
			return class
		case !strings.HasPrefix(a, "-"):
			return a
		}
	}
	return ""
}

// javaValued are the java launcher's options whose value is the next
// argument (java -help, -X and --help-extra).
var javaValued = map[string]bool{
	"-cp": true, "-classpath": true, "--class-path": true,
	"-p": true, "--module-path": true, "--upgrade-module-path": true,
	"--add-modules": true, "--add-opens": true, "--add-exports": true, "--add-reads": true,
	"--patch-module": true, "--limit-modules": true, "--enable-native-access": true,
	"--source": true,
}

// readHead reads at most n bytes of the file at path.
func readHead(path string, n int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, n))
}

// addName adds a process name or program path to names, as processNames
// spells them.
func addName(names map[string]bool, s string) {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexAny(s, `/\`); i >= 0 {
		s = s[i+1:]
	}
	s = strings.ToLower(s)
	s = strings.TrimSuffix(s, ".exe")
	if s != "" {
		names[s] = true
	}
}

// listedNames runs a program that lists processes, within listTimeout,
// and parses its output with parse.
func listedNames(parse func([]byte, map[string]bool) error, prog string, args ...string) (map[string]bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), listTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, prog, args...).Output()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("%s took longer than %v", prog, listTimeout)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", prog, err)
	}
	names := map[string]bool{}
	if err := parse(out, names); err != nil {
		return nil, fmt.Errorf("%s: %w", prog, err)
	}
	return names, nil
}

// parsePS reads the output of `ps -axo comm`: a header, then one program
// (a name or a path) a line.
func parsePS(out []byte, names map[string]bool) error {
	s := bufio.NewScanner(bytes.NewReader(out))
	s.Buffer(nil, 1<<16)
	first := true
	for s.Scan() {
		if first { // the header, COMM or COMMAND
			first = false
			continue
		}
		addName(names, s.Text())
	}
	return s.Err()
}

// parseTasklist reads the output of `tasklist /fo csv /nh`: one process a
// line, its image name ("pidgin.exe") first.
func parseTasklist(out []byte, names map[string]bool) error {
	r := csv.NewReader(bytes.NewReader(out))
	r.FieldsPerRecord = -1
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if len(rec) > 0 {
			addName(names, rec[0])
		}
	}
}
