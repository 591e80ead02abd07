package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keysync/keysync/internal/atomicfile"
)

// TestPlanFilesThenCommands applies a plan that holds a file and a command:
// the file is written first, then the command runs with its input.
func TestPlanFilesThenCommands(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "keys")
	out := filepath.Join(dir, "out")
	plan := Plan{
		Files: []File{{Path: file, Content: atomicfile.Bytes("k\n"), Summary: "1 key"}},
		Commands: []Command{{Path: "sh", Args: []string{"-c", `cat "$1" - > "$2"`, "sh", file, out},
			Stdin: atomicfile.Bytes("from stdin\n"), Summary: "1 import"}},
	}
	p, err := plan.Prepare(nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Changes) != 1 || p.Changes[0].Op != atomicfile.Create || p.Changes[0].Summary != "1 key" {
		t.Fatalf("changes = %+v", p.Changes)
	}
	results, err := p.Apply()
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 1 || results[0].Summary != "1 key" {
		t.Fatalf("results = %+v", results)
	}
	got, err := os.ReadFile(out)
	if err != nil || string(got) != "k\nfrom stdin\n" {
		t.Fatalf("command wrote %q (%v)", got, err)
	}

	// A failing command names the program and quotes its error output,
	// unless its input is secret.
	fail := Command{Path: "sh", Args: []string{"-c", "echo no such key >&2; exit 2"}}
	if err := fail.run(); err == nil || !strings.Contains(err.Error(), "sh: exit status 2: no such key") {
		t.Errorf("failing command: %v", err)
	}
	fail.Secret = true
	if err := fail.run(); err == nil || strings.Contains(err.Error(), "no such key") {
		t.Errorf("failing secret command: %v", err)
	}
}

// TestParseLocationsRefusesDuplicates checks the one-store-once rule.
func TestParseLocationsRefusesDuplicates(t *testing.T) {
	if _, err := ParseLocations([]string{"pidgin:a", "pidgin:./a/"}); err == nil || !strings.Contains(err.Error(), "pidgin:a given twice") {
		t.Errorf("duplicate: %v", err)
	}
	locs, err := ParseLocations([]string{"pidgin:a", "kopete:a", "pidgin:b"})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := ResolvePrefer("kopete", locs); err != nil || got != "kopete:a" {
		t.Errorf("ResolvePrefer(kopete) = %q, %v", got, err)
	}
	if _, err := ResolvePrefer("pidgin", locs); err == nil || !strings.Contains(err.Error(), "say which as APP:DIR") {
		t.Errorf("ResolvePrefer(pidgin) with two pidgin stores: %v", err)
	}
}
