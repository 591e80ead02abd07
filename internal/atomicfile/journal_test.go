package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// A journal keysync cannot read (empty, not JSON) in a folder that holds
// no temporary file of a write: keysync writes its journal whole and
// synced before it renames anything, and a set's new contents stay in
// temporary files until renamed, so nothing was left half done. Recover
// removes it and says so; the leftover journal temp goes as usual.
func TestRecoverRemovesUnreadableJournal(t *testing.T) {
	for _, c := range [][2]string{{"the file is empty", ""}, {"not JSON", "\x00\x01garbage"},
		{"a journal of no files", "{}"}, {"a journal of no files", `{"files":[]}`}} {
		what, content := c[0], c[1]
		dir := t.TempDir()
		mustWrite(t, filepath.Join(dir, "otr.fp"), "keep", 0o600)
		mustWrite(t, filepath.Join(dir, JournalName), content, 0o600)
		mustWrite(t, filepath.Join(dir, ".keysync-journal.keysync-tmp-4"), "{", 0o600)
		rep, err := Recover(dir)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if _, err := os.Lstat(filepath.Join(dir, JournalName)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: the journal stays", what)
		}
		want := []string{
			dir + ": removed an unreadable journal " + JournalName + " (" + what + "): keysync writes its journal whole and synced before it changes any file, and no temporary file of an interrupted write is here, so none was left half done",
			dir + ": removed keysync's leftover temporary file .keysync-journal.keysync-tmp-4",
		}
		if ms := rep.Messages(); !reflect.DeepEqual(ms, want) {
			t.Errorf("%s: messages\n%q\nwant\n%q", what, ms, want)
		}
		if got := entries(t, dir); !reflect.DeepEqual(got, []string{"otr.fp"}) {
			t.Errorf("%s: folder holds %q", what, got)
		}
	}
}

// An unreadable journal beside temporary files of a write: keysync cannot
// tell what the write was, so it changes nothing, and the error names the
// journal and the temporary files and says what to do.
func TestRecoverKeepsUnreadableJournalWithTemps(t *testing.T) {
	dir := t.TempDir()
	mustWrite(t, filepath.Join(dir, JournalName), "", 0o600)
	mustWrite(t, filepath.Join(dir, ".otr.fp.keysync-tmp-9"), "new", 0o600)
	_, err := Recover(dir)
	jpath := filepath.Join(dir, JournalName)
	want := jpath + ": unreadable journal (the file is empty): keysync cannot tell which files the interrupted write covered, so it changed nothing here. " +
		"Each temporary file holds the new content of the file it is named after (.otr.fp.keysync-tmp-9); check those files (backups, if any, are the *.keysync-backup files), then remove " + jpath + " and the temporary files"
	if err == nil || err.Error() != want {
		t.Fatalf("err\n%v\nwant\n%s", err, want)
	}
	if got := entries(t, dir); !reflect.DeepEqual(got, []string{JournalName, ".otr.fp.keysync-tmp-9"}) {
		t.Errorf("folder holds %q", got)
	}
}

// A journal that is JSON but not one keysync wrote (a malformed entry) is
// left to the user, with a message naming it and saying what to do.
func TestRecoverMalformedJournalSaysWhatToDo(t *testing.T) {
	dir := t.TempDir()
	mustWrite(t, filepath.Join(dir, JournalName), `{"files":[{"name":"../x"}]}`, 0o600)
	_, err := Recover(dir)
	jpath := filepath.Join(dir, JournalName)
	if err == nil || !strings.HasPrefix(err.Error(), jpath+": journal entry 1 is malformed: ") || !strings.Contains(err.Error(), "then remove "+jpath) {
		t.Fatalf("err = %v", err)
	}
	if got := entries(t, dir); !reflect.DeepEqual(got, []string{JournalName}) {
		t.Errorf("folder holds %q", got)
	}
}
