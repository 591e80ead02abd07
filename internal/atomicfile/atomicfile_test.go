package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"testing"
)

// entries lists the names in dir, sorted.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

func mustWrite(t *testing.T, path, data string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // beat the umask
		t.Fatal(err)
	}
}

func checkFile(t *testing.T, path, data string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != data {
		t.Errorf("%s holds %q, want %q", path, b, data)
	}
	if runtime.GOOS == "windows" {
		return
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != mode {
		t.Errorf("%s has mode %v, want %v", path, fi.Mode().Perm(), mode)
	}
}

func planApply(t *testing.T, files ...File) []Result {
	t.Helper()
	cs, err := Plan(files)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Apply(cs)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestCreate(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "otr.fingerprints")
	cs, err := Plan([]File{{Path: p, Content: Bytes("a\n")}})
	if err != nil {
		t.Fatal(err)
	}
	if cs[0].Op != Create || cs[0].Mode != 0o600 {
		t.Errorf("plan: op %v mode %v, want create 0600", cs[0].Op, cs[0].Mode)
	}
	if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Plan wrote %s", p)
	}
	res, err := Apply(cs)
	if err != nil {
		t.Fatal(err)
	}
	want := []Result{{Path: p, Op: Create}}
	if !reflect.DeepEqual(res, want) {
		t.Errorf("results %+v, want %+v", res, want)
	}
	checkFile(t, p, "a\n", 0o600)
	if got := entries(t, dir); !reflect.DeepEqual(got, []string{"otr.fingerprints"}) {
		t.Errorf("folder holds %v", got)
	}
}

func TestCreateMakesFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "sub")
	p := filepath.Join(dir, "otr.private_key")
	planApply(t, File{Path: p, Content: Bytes("k"), Secret: true})
	checkFile(t, p, "k", 0o600)
	if runtime.GOOS == "windows" {
		return
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("new folder has mode %v, want 0700", fi.Mode().Perm())
	}
}

func TestReplaceKeepsModeAndBacksUp(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "otr.fingerprints")
	mustWrite(t, p, "old\n", 0o644)
	res := planApply(t, File{Path: p, Content: Bytes("new\n")})
	want := []Result{{Path: p, Op: Replace, Backup: p + ".keysync-backup"}}
	if !reflect.DeepEqual(res, want) {
		t.Fatalf("results %+v, want %+v", res, want)
	}
	checkFile(t, p, "new\n", 0o644)
	checkFile(t, p+".keysync-backup", "old\n", 0o644)
	if got := entries(t, dir); len(got) != 2 {
		t.Errorf("folder holds %v, want the file and its backup", got)
	}
}

func TestReplaceSecret(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "otr.private_key")
	mustWrite(t, p, "old key", 0o644)
	res := planApply(t, File{Path: p, Content: Bytes("new key"), Secret: true})
	checkFile(t, p, "new key", 0o600)
	checkFile(t, res[0].Backup, "old key", 0o600)
}

func TestSecretBackupKeepsTighterMode(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "otr.private_key")
	mustWrite(t, p, "old key", 0o400)
	res := planApply(t, File{Path: p, Content: Bytes("new key"), Secret: true, Force: true})
	checkFile(t, p, "new key", 0o400) // read-only: replaced with Force, keeps its mode
	checkFile(t, res[0].Backup, "old key", 0o400)
}

func TestUnchanged(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "otr.fingerprints")
	mustWrite(t, p, "same\n", 0o640)
	res := planApply(t, File{Path: p, Content: Bytes("same\n"), Secret: true})
	if want := []Result{{Path: p, Op: Unchanged}}; !reflect.DeepEqual(res, want) {
		t.Errorf("results %+v, want %+v", res, want)
	}
	checkFile(t, p, "same\n", 0o640)
	if got := entries(t, dir); len(got) != 1 {
		t.Errorf("folder holds %v, want only the file", got)
	}
}

func TestBackupNeverOverwritten(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	mustWrite(t, p, "v3", 0o600)
	mustWrite(t, p+".keysync-backup", "v1", 0o600)
	mustWrite(t, p+".keysync-backup.1", "v2", 0o600)
	res := planApply(t, File{Path: p, Content: Bytes("v4")})
	if res[0].Backup != p+".keysync-backup.2" {
		t.Errorf("backup %q, want %q", res[0].Backup, p+".keysync-backup.2")
	}
	checkFile(t, p+".keysync-backup", "v1", 0o600)
	checkFile(t, p+".keysync-backup.1", "v2", 0o600)
	checkFile(t, p+".keysync-backup.2", "v3", 0o600)
	checkFile(t, p, "v4", 0o600)
}

// A set whose second file cannot be prepared leaves the first untouched,
// with no backup and no temporary file.
func TestFailedPreparationTouchesNothing(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a")
	mustWrite(t, a, "old a", 0o644)
	blocker := filepath.Join(dir, "blocker")
	cs, err := Plan([]File{
		{Path: a, Content: Bytes("new a")},
		{Path: filepath.Join(blocker, "b"), Content: Bytes("new b")},
	})
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, blocker, "a file, not a folder", 0o644)
	if _, err := Apply(cs); err == nil {
		t.Fatal("Apply succeeded with a file as folder")
	}
	checkFile(t, a, "old a", 0o644)
	if got, want := entries(t, dir), []string{"a", "blocker"}; !reflect.DeepEqual(got, want) {
		t.Errorf("folder holds %v, want %v", got, want)
	}
}

// Folders made for a set that then fails are removed again.
func TestFailedPreparationRemovesNewFolders(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "blocker")
	cs, err := Plan([]File{
		{Path: filepath.Join(dir, "new", "sub", "a"), Content: Bytes("a")},
		{Path: filepath.Join(blocker, "b"), Content: Bytes("b")},
	})
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, blocker, "a file, not a folder", 0o644)
	if _, err := Apply(cs); err == nil {
		t.Fatal("Apply succeeded with a file as folder")
	}
	if got, want := entries(t, dir), []string{"blocker"}; !reflect.DeepEqual(got, want) {
		t.Errorf("folder holds %v, want %v", got, want)
	}
}

func TestChangedSincePlan(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a")
	b := filepath.Join(dir, "b")
	mustWrite(t, a, "old a", 0o600)
	mustWrite(t, b, "old b", 0o600)
	cs, err := Plan([]File{{Path: a, Content: Bytes("new a")}, {Path: b, Content: Bytes("new b")}})
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, b, "edited b", 0o600)
	_, err = Apply(cs)
	if err == nil || !strings.Contains(err.Error(), b) || !strings.Contains(err.Error(), "changed") {
		t.Fatalf("Apply error %v, want one naming %s as changed", err, b)
	}
	checkFile(t, a, "old a", 0o600)
	checkFile(t, b, "edited b", 0o600)
	if got := entries(t, dir); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("folder holds %v", got)
	}
}

func TestCreatedSincePlan(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a")
	cs, err := Plan([]File{{Path: a, Content: Bytes("mine")}})
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, a, "theirs", 0o600)
	if _, err := Apply(cs); err == nil {
		t.Fatal("Apply replaced a file created after Plan")
	}
	checkFile(t, a, "theirs", 0o600)
}

// A failed rename puts back the files already renamed and removes the
// files and folders it created.
func TestRenameFailureRollsBack(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a")
	b := filepath.Join(dir, "new", "b")
	c := filepath.Join(dir, "c")
	mustWrite(t, a, "old a", 0o644)
	mustWrite(t, c, "old c", 0o644)
	cs, err := Plan([]File{
		{Path: a, Content: Bytes("new a")},
		{Path: b, Content: Bytes("new b")},
		{Path: b + "2", Content: Bytes("new b2")},
		{Path: c, Content: Bytes("new c")},
	})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	rename = func(from, to string) error {
		if n++; n == 4 {
			return &os.LinkError{Op: "rename", Old: from, New: to, Err: errors.New("injected")}
		}
		return os.Rename(from, to)
	}
	defer func() { rename = os.Rename }()
	_, err = Apply(cs)
	if err == nil || !strings.Contains(err.Error(), c) || !strings.Contains(err.Error(), "injected") {
		t.Fatalf("Apply error %v, want the injected one naming %s", err, c)
	}
	checkFile(t, a, "old a", 0o644)
	checkFile(t, c, "old c", 0o644)
	if _, err := os.Stat(b); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("created file %s not removed: %v", b, err)
	}
	// a's backup stays (it was the only copy of the old content for a
	// moment); no temporary files and no backup of c remain.
	if got, want := entries(t, dir), []string{"a", "a.keysync-backup", "c"}; !reflect.DeepEqual(got, want) {
		t.Errorf("folder holds %v, want %v", got, want)
	}
}

func TestDuplicateTarget(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	_, err := Plan([]File{{Path: p, Content: Bytes("1")}, {Path: filepath.Join(dir, ".", "f"), Content: Bytes("2")}})
	if err == nil || !strings.Contains(err.Error(), "twice") {
		t.Fatalf("Plan error %v, want one about a file written twice", err)
	}
	// One new file spelled relative and absolute.
	t.Chdir(dir)
	_, err = Plan([]File{{Path: "g", Content: Bytes("1")}, {Path: filepath.Join(dir, "g"), Content: Bytes("2")}})
	if err == nil || err.Error() != filepath.Join(dir, "g")+": written twice (also as g)" {
		t.Fatalf("Plan error %v, want one about a file written twice", err)
	}
}

func TestNotRegular(t *testing.T) {
	dir := t.TempDir()
	_, err := Plan([]File{{Path: dir, Content: Bytes("x")}})
	if err == nil || !strings.Contains(err.Error(), dir) {
		t.Fatalf("Plan error %v, want one naming %s", err, dir)
	}
}

func TestSymlinkFollowed(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symbolic links need privileges on Windows")
	}
	dir := t.TempDir()
	real := filepath.Join(dir, "real")
	link := filepath.Join(dir, "link")
	mustWrite(t, real, "old", 0o644)
	if err := os.Symlink("real", link); err != nil {
		t.Fatal(err)
	}
	res := planApply(t, File{Path: link, Content: Bytes("new")})
	checkFile(t, real, "new", 0o644)
	fi, err := os.Lstat(link)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("%s is no longer a symbolic link", link)
	}
	if res[0].Backup != real+".keysync-backup" {
		t.Errorf("backup %q, want %q", res[0].Backup, real+".keysync-backup")
	}
}

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	backup, err := Write(p, []byte("one"), 0o640)
	if err != nil || backup != "" {
		t.Fatalf("Write new = %q, %v; want no backup", backup, err)
	}
	checkFile(t, p, "one", 0o640)
	backup, err = Write(p, []byte("one"), 0o600)
	if err != nil || backup != "" {
		t.Fatalf("Write same = %q, %v; want no backup", backup, err)
	}
	checkFile(t, p, "one", 0o640)
	backup, err = Write(p, []byte("two"), 0o600)
	if err != nil || backup != p+BackupSuffix {
		t.Fatalf("Write other = %q, %v; want backup %s", backup, err, p+BackupSuffix)
	}
	checkFile(t, p, "two", 0o600)
	checkFile(t, backup, "one", 0o640)
}

func TestLines(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	mustWrite(t, p, "a\nb\nb\nc\n", 0o600)
	cs, err := Plan([]File{{Path: p, Content: Bytes("c\nb\nd\na\n")}})
	if err != nil {
		t.Fatal(err)
	}
	added, removed, err := cs[0].Lines()
	if err != nil || !reflect.DeepEqual(added, []string{"d"}) || !reflect.DeepEqual(removed, []string{"b"}) {
		t.Errorf("Lines = +%q -%q, %v; want +[d] -[b]", added, removed, err)
	}
	c := Change{File: File{Content: Bytes("x\ny")}, Op: Create}
	added, removed, err = c.Lines()
	if err != nil || !reflect.DeepEqual(added, []string{"x", "y"}) || removed != nil {
		t.Errorf("Lines of a new file = +%q -%q, want +[x y]", added, removed)
	}
}

func TestOpString(t *testing.T) {
	for op, want := range map[Op]string{Unchanged: "unchanged", Create: "create", Replace: "replace", Op(9): "Op(9)"} {
		if got := op.String(); got != want {
			t.Errorf("Op(%d).String() = %q, want %q", int(op), got, want)
		}
	}
}
