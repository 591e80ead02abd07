package otrtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keysync/keysync"
)

func TestGenerateAndDump(t *testing.T) {
	o := Tool(t)
	dir := t.TempDir()
	fa := keysync.OTRFingerprint([20]byte{0xaa, 1})
	fb := keysync.OTRFingerprint([20]byte{0xbb, 2})
	spec := Spec{
		PrivKeys:     "otr.private_key",
		Keys:         []Account{{"me@example.org/", "prpl-jabber"}},
		InstanceTags: "otr.instance_tags",
		Tags:         []Account{{"me@example.org/", "prpl-jabber"}},
		Fingerprints: "otr.fingerprints",
		FPs: []FP{
			{"bob@example.net", "me@example.org/", "prpl-jabber", fa, "verified"},
			{"bob@example.net", "me@example.org/", "prpl-jabber", fb, ""},
		},
	}
	o.Generate(t, dir, spec)
	// The second generation reuses the cached key file.
	dir2 := t.TempDir()
	o.Generate(t, dir2, spec)
	k1, _ := os.ReadFile(filepath.Join(dir, "otr.private_key"))
	k2, _ := os.ReadFile(filepath.Join(dir2, "otr.private_key"))
	if len(k1) == 0 || string(k1) != string(k2) {
		t.Errorf("cached key file differs or is empty")
	}
	d := o.Dump(t, filepath.Join(dir, "otr.private_key"), filepath.Join(dir, "otr.fingerprints"), filepath.Join(dir, "otr.instance_tags"))
	lines := strings.Split(strings.TrimSuffix(d, "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("dump:\n%s", d)
	}
	want := []string{
		FPLine("bob@example.net", "me@example.org/", "prpl-jabber", fa, "verified"),
		FPLine("bob@example.net", "me@example.org/", "prpl-jabber", fb, ""),
	}
	if lines[0] != want[0] || lines[1] != want[1] {
		t.Errorf("fp lines:\n%s\nwant\n%s", strings.Join(lines[:2], "\n"), strings.Join(want, "\n"))
	}
	if !strings.HasPrefix(lines[2], "instag\tme@example.org/\tprpl-jabber\t") || !strings.HasPrefix(lines[3], "key\tme@example.org/\tprpl-jabber\t") {
		t.Errorf("dump:\n%s", d)
	}
	if _, err := o.TryDump(filepath.Join(dir, "missing"), "", ""); err == nil {
		t.Error("TryDump of a missing file: no error")
	}
}

func TestEscape(t *testing.T) {
	if got := Escape("a\\b\tc\nd\re\x01\x7fé"); got != `a\\b\tc\nd\re\x01\x7fé` {
		t.Errorf("Escape = %s", got)
	}
}
