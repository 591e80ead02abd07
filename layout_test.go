package keysync_test

import (
	"bufio"
	"bytes"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// module is the import path of the project's root package.
const module = "github.com/keysync/keysync"

// importRules are the README's layout rules: for each room of the house,
// the project packages it may import directly, as paths relative to the
// module ("." is the root; a trailing "/" means every package under it).
// Commands (cmd/…, bench/…) may import anything, and nothing imports them.
var importRules = []struct {
	room     string
	mayUse   []string
	describe string
}{
	{".", nil, "the root imports no other package of the project"},
	{"wire", []string{"internal/per"}, "wire imports only its bit I/O"},
	{"format/", []string{".", "internal/"}, "format packages know bytes: never app, fsm or wire"},
	{"app", []string{".", "format/", "internal/"}, "app knows apps, formats and the model"},
	{"fsm", []string{"wire"}, "fsm is the protocol on top of wire"},
	{"fsm/sim", []string{"fsm", "wire"}, "the simulator drives fsm"},
	{"channel", nil, "channel is an interface and imports nothing of ours"},
	{"channel/", []string{"channel", "internal/"}, "a channel implements the channel interface"},
	{"trustwords", nil, "trustwords imports nothing of ours"},
	{"pgp", []string{"internal/"}, "pgp is OpenPGP alone"},
	{"message", []string{"wire", "internal/"}, "message does MIME; its crypto comes in through an interface"},
	{"internal/", []string{".", "internal/"}, "internal packages are tools of the others"},
	{"device", []string{"fsm", "wire", "message", "pgp", "trustwords", "internal/"}, "a device runs the fsm with its keys and envelopes; it knows no concrete channel"},
	{"agent", []string{"device", "channel", "trustwords", "fsm", "wire", "internal/"}, "the agent loops channel, device and socket; cmd picks the channel"},
	{"webui", []string{".", "app", "agent", "device", "trustsync", "trustwords", "format/", "internal/"}, "the web UI calls what the command line calls; cmd picks the stores and the codec"},
	{"trustsync", []string{".", "app", "agent", "device", "internal/"}, "trustsync replicates the model's trust through a device's group and writes it into apps"},
}

// TestImportRules holds every package of the project to importRules,
// over what `go list -deps` reports.
func TestImportRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{range .Imports}} {{.}}{{end}}{{end}}", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	imports := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) > 0 && inModule(f[0]) {
			imports[f[0]] = f[1:]
		}
	}
	if len(imports) < 10 {
		t.Fatalf("go list found %d packages of the project", len(imports))
	}
	for _, v := range importViolations(imports) {
		t.Error(v)
	}
}

// TestImportRulesCatch shows the check failing on imports the rules forbid.
func TestImportRulesCatch(t *testing.T) {
	bad := map[string][]string{
		module:                      {module + "/app"},
		module + "/wire":            {module + "/fsm", "fmt"},
		module + "/format/libotr":   {module + "/app"},
		module + "/fsm":             {module + "/cmd/keysync"},
		module + "/newroom":         {},
		module + "/cmd/keysync":     {module + "/app", module + "/fsm"},
		module + "/internal/sexp":   {"strings"},
		module + "/app":             {module + "/format/libotr", module + "/internal/atomicfile"},
		module + "/internal/per":    {},
		module + "/format/libotr/x": {module},
	}
	got := importViolations(bad)
	want := []string{
		"github.com/keysync/keysync imports app: the root imports no other package of the project",
		"github.com/keysync/keysync/format/libotr imports app: format packages know bytes: never app, fsm or wire",
		"github.com/keysync/keysync/fsm imports cmd/keysync: nothing imports a command",
		"github.com/keysync/keysync/newroom: in no room of the import rules (layout_test.go, README's layout)",
		"github.com/keysync/keysync/wire imports fsm: wire imports only its bit I/O",
	}
	if !slices.Equal(got, want) {
		t.Errorf("violations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// importViolations lists, sorted, every import of imports (package →
// its direct imports) that importRules forbid.
func importViolations(imports map[string][]string) []string {
	var out []string
	for pkg, imps := range imports {
		p := rel(pkg)
		if isCommand(p) {
			continue
		}
		rule := -1
		for i, r := range importRules {
			if under(p, r.room) && (rule < 0 || len(r.room) > len(importRules[rule].room)) {
				rule = i
			}
		}
		if rule < 0 {
			out = append(out, fmt.Sprintf("%s: in no room of the import rules (layout_test.go, README's layout)", pkg))
			continue
		}
		r := importRules[rule]
		for _, imp := range imps {
			if !inModule(imp) {
				continue
			}
			q := rel(imp)
			switch {
			case isCommand(q):
				out = append(out, fmt.Sprintf("%s imports %s: nothing imports a command", pkg, q))
			case !slices.ContainsFunc(r.mayUse, func(room string) bool { return under(q, room) }):
				out = append(out, fmt.Sprintf("%s imports %s: %s", pkg, q, r.describe))
			}
		}
	}
	slices.Sort(out)
	return out
}

func inModule(path string) bool { return path == module || strings.HasPrefix(path, module+"/") }

// rel returns path relative to the module: "." for the root.
func rel(path string) string {
	if path == module {
		return "."
	}
	return strings.TrimPrefix(path, module+"/")
}

func isCommand(p string) bool { return under(p, "cmd/") || under(p, "bench/") }

// under reports whether package p is in room: the package itself, or any
// package below a room ending in "/".
func under(p, room string) bool {
	if strings.HasSuffix(room, "/") {
		return strings.HasPrefix(p, room)
	}
	return p == room
}
