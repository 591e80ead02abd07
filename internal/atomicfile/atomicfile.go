// Package atomicfile replaces sets of files so that a reader sees either
// the old contents or the new ones, never a mix, even if the process is
// killed; keeps a backup of every file it replaces; and keeps two keysyncs
// from writing one folder at once.
//
// # Writing a set
//
// Plan reads the current state of every target and says what would
// change; Apply makes the change. A new content is written to a temporary
// file in the target's folder (mode 0600 while it is written, then its
// final mode), synced; the previous content is copied the same way to a
// temporary backup. A file whose content would not change is left alone
// and gets no backup. Only when every temporary file and backup is
// complete does Apply commit: it writes a journal of the set into each
// folder (JournalName), synced; moves each backup to its name,
// "<name>.keysync-backup", or "<name>.keysync-backup.1", ".2", … if that
// exists (an older backup is never overwritten, and a backup under its
// name is always whole); renames the temporary files over their targets;
// syncs the folders; and removes the journals. A failure while preparing
// leaves every target untouched; a failed rename puts back the targets
// already replaced.
//
// Temporary files are named ".<name>.keysync-tmp-<digits>" (TempInfix).
//
// # Recovery
//
// If keysync dies during a commit, the journal stays. Recover, run on
// the folder by the next keysync, finishes the set (if every new content
// is complete: the journal records its SHA-256) or rolls it back (from the
// backups), so that the files of a folder are all old or all new, and it
// then removes keysync's leftover temporary files there, which may hold
// private keys. Its Report says what it did. Plan and Apply refuse a
// folder whose journal awaits recovery (ErrInterrupted). A set spanning
// several folders is one set per folder: each folder is recovered on its
// own. A target that is a symbolic link is journaled in the folder of the
// file it points to; Plan's ErrInterrupted names that folder.
//
// # Two writers
//
// LockDirs takes an advisory lock per folder (flock(2) on LockName in the
// folder; the lock ends with the process), waiting a bounded time for
// another keysync to finish and then failing with ErrLocked. A caller
// holds the lock from before it reads the folder until after Apply. To
// catch changes by programs that do not lock (the chat app itself), a
// reader records the Version of what it read (Open, ReadFile, VersionOf)
// in File.Read: Plan refuses a target that differs from it, and Apply one
// that differs from what Plan saw.
//
// The order for a caller that reads folders and writes files into them:
//
//	lock, err := LockDirs(dirs, 0) // every folder read or written
//	defer lock.Unlock()
//	for _, d := range lock.Dirs() {
//		rep, err := Recover(d) // print rep.Messages()
//	}
//	// read, recording each file's Version in File.Read
//	changes, err := Plan(files)
//	results, err := Apply(changes)
//
// # Read-only files
//
// A target without its owner's write bit (0400, 0444) is refused with
// ErrReadOnly unless its File has Force; with Force it is replaced and
// keeps its mode (a secret file's limited to 0600).
//
// # Contents and errors
//
// Contents are streamed: neither the new nor the old content of a file is
// held in memory, so that a file of hundreds of megabytes costs buffers,
// not its size. A Content may therefore be asked for its bytes more than
// once and must give the same bytes each time.
//
// Errors name the file concerned and never include file contents.
package atomicfile

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// BackupSuffix is appended to a file's name to name its backup.
const BackupSuffix = ".keysync-backup"

// SecretMode is the mode of files holding secrets, and of new files.
const SecretMode os.FileMode = 0o600

// ErrReadOnly is wrapped by the error of Plan for a target without its
// owner's write bit, when its File has no Force.
var ErrReadOnly = errors.New("file is read-only")

// File is the complete new content of one file.
type File struct {
	Path    string
	Content io.WriterTo // writes the whole content; see the package comment
	// Secret marks a file holding private keys: it is written with mode
	// 0600 and its backup gets at most 0600.
	Secret bool
	// Force replaces a target that has no owner write bit (see ErrReadOnly).
	Force bool
	// Read is the target's Version when the caller read it; Plan and
	// Apply refuse the file if the target has changed since. The zero
	// Version checks nothing.
	Read Version
}

// Bytes is a Content held in memory.
type Bytes []byte

// WriteTo writes b to w.
func (b Bytes) WriteTo(w io.Writer) (int64, error) {
	n, err := w.Write(b)
	return int64(n), err
}

// fileContent is a Content read from a file when it is written.
type fileContent string

func (name fileContent) WriteTo(w io.Writer) (int64, error) {
	f, err := os.Open(string(name))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return io.Copy(w, f)
}

// Op is what applying a File does to its target.
type Op int

// Operations.
const (
	Unchanged Op = iota // the target already holds the content
	Create              // the target does not exist yet
	Replace             // the target exists with other content
)

// String returns "unchanged", "create" or "replace".
func (o Op) String() string {
	switch o {
	case Unchanged:
		return "unchanged"
	case Create:
		return "create"
	case Replace:
		return "replace"
	}
	return "Op(" + strconv.Itoa(int(o)) + ")"
}

// Change is the planned effect of writing one File.
type Change struct {
	File
	Op   Op
	Mode os.FileMode // the target's mode after the write

	real    string      // Path with symbolic links resolved
	oldSum  [32]byte    // SHA-256 of the target's current content (Replace only)
	oldMode os.FileMode // the target's current mode (Replace only)
}

// Plan reads the current state of every file's target and returns what
// writing it would do, in the order given. A secret file gets mode 0600;
// any other file keeps its target's mode, or 0600 if it is new. A target
// without its owner's write bit is refused (ErrReadOnly) unless the File
// has Force; it is then replaced and keeps its mode (a secret file's
// limited to 0600: 0444 becomes 0400). A target
// that is a symbolic link is followed: the file it points to is replaced.
// Two files with the same target are an error.
func Plan(files []File) ([]Change, error) {
	changes := make([]Change, 0, len(files))
	seen := map[string]string{}
	for _, f := range files {
		c, err := plan(f)
		if err != nil {
			return nil, err
		}
		key, err := filepath.Abs(c.real) // a relative and an absolute spelling are one file
		if err != nil {
			return nil, err
		}
		if p, dup := seen[key]; dup {
			if p == f.Path {
				return nil, fmt.Errorf("%s: written twice", f.Path)
			}
			return nil, fmt.Errorf("%s: written twice (also as %s)", f.Path, p)
		}
		seen[key] = f.Path
		changes = append(changes, c)
	}
	return changes, nil
}

func plan(f File) (Change, error) {
	c := Change{File: f, real: f.Path, Mode: SecretMode}
	fi, err := os.Lstat(f.Path)
	if errors.Is(err, fs.ErrNotExist) {
		if err := checkNoJournal(filepath.Dir(f.Path)); err != nil {
			return c, err
		}
		if f.Read.known && f.Read.exists {
			return c, fmt.Errorf("%s: removed by someone else since it was read", f.Path)
		}
		c.Op = Create
		return c, nil
	}
	if err != nil {
		return c, err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		real, err := filepath.EvalSymlinks(f.Path)
		if errors.Is(err, fs.ErrNotExist) {
			return c, fmt.Errorf("%s: symbolic link to a missing file", f.Path)
		}
		if err != nil {
			return c, err
		}
		c.real = real
		if fi, err = os.Stat(real); err != nil {
			return c, err
		}
	}
	if !fi.Mode().IsRegular() {
		return c, fmt.Errorf("%s: not a regular file", f.Path)
	}
	if err := checkNoJournal(filepath.Dir(c.real)); err != nil {
		return c, err
	}
	same, sum, err := compare(c.real, f.Content)
	if err != nil {
		return c, fmt.Errorf("%s: %w", f.Path, unwrapPath(err))
	}
	if f.Read.known && !f.Read.exists {
		return c, fmt.Errorf("%s: created by someone else since it was read", f.Path)
	}
	if f.Read.known && sum != f.Read.sum {
		return c, fmt.Errorf("%s: changed by someone else since it was read", f.Path)
	}
	c.oldMode = fi.Mode().Perm()
	if !f.Secret {
		c.Mode = c.oldMode
	}
	if same {
		c.Op = Unchanged
		c.Mode = c.oldMode
		return c, nil
	}
	if c.oldMode&0o200 == 0 {
		if !f.Force {
			return c, fmt.Errorf("%s: %w (mode %04o), not replaced", f.Path, ErrReadOnly, uint32(c.oldMode))
		}
		// The user made it read-only: it stays so.
		c.Mode = c.oldMode
		if f.Secret {
			c.Mode &= SecretMode
		}
	}
	c.Op = Replace
	c.oldSum = sum
	return c, nil
}

// compare reports whether the file at path holds exactly what content
// writes, and the SHA-256 of the file, reading it once.
func compare(path string, content io.WriterTo) (same bool, sum [32]byte, err error) {
	f, err := os.Open(path)
	if err != nil {
		return false, sum, err
	}
	defer f.Close()
	h := sha256.New()
	cw := &comparer{old: bufio.NewReaderSize(io.TeeReader(f, h), 64<<10), same: true}
	if _, err := content.WriteTo(cw); err != nil {
		return false, sum, err
	}
	if cw.err != nil {
		return false, sum, cw.err
	}
	rest, err := io.Copy(io.Discard, cw.old) // hash the rest of the file
	if err != nil {
		return false, sum, err
	}
	copy(sum[:], h.Sum(nil))
	return cw.same && rest == 0, sum, nil
}

// comparer is a Writer that compares what is written with old.
type comparer struct {
	old  *bufio.Reader
	buf  []byte
	same bool
	err  error // reading old failed
}

func (c *comparer) Write(p []byte) (int, error) {
	if !c.same || c.err != nil {
		return len(p), nil
	}
	for q := p; len(q) > 0; {
		n := min(len(q), 64<<10)
		if cap(c.buf) < n {
			c.buf = make([]byte, n)
		}
		m, err := io.ReadFull(c.old, c.buf[:n])
		if !bytes.Equal(c.buf[:m], q[:m]) || m < n {
			c.same = false
			if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
				c.err = err
			}
			return len(p), nil
		}
		q = q[n:]
	}
	return len(p), nil
}

// Lines compares the target's current content with the new one line by
// line, ignoring order: added lists the new lines that the target lacks,
// removed the target's lines that the new content lacks, each in file
// order and counted with multiplicity. Callers must not print them for a
// Secret file. It reads both contents into memory: it is meant for
// showing a change, not for making it.
func (c Change) Lines() (added, removed []string, err error) {
	var old []byte
	if c.Op == Replace {
		if old, err = os.ReadFile(c.real); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", c.Path, unwrapPath(err))
		}
	}
	var b bytes.Buffer
	if _, err := c.Content.WriteTo(&b); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", c.Path, err)
	}
	oldLines, newLines := splitLines(old), splitLines(b.Bytes())
	count := map[string]int{}
	for _, l := range oldLines {
		count[l]++
	}
	for _, l := range newLines {
		if count[l] > 0 {
			count[l]--
			continue
		}
		added = append(added, l)
	}
	// What is left in count is what the new content lacks.
	for _, l := range oldLines {
		if count[l] > 0 {
			count[l]--
			removed = append(removed, l)
		}
	}
	return added, removed, nil
}

func splitLines(b []byte) []string {
	if len(b) == 0 {
		return nil
	}
	s := strings.TrimSuffix(string(b), "\n")
	return strings.Split(s, "\n")
}

// Result is what Apply did to one file.
type Result struct {
	Path   string
	Op     Op
	Backup string // the backup of the previous content (Replace only)
}

// rename is os.Rename; tests replace it to make a rename fail.
var rename = os.Rename

// prepared is a Change ready to be renamed into place.
type prepared struct {
	c          Change
	temp       string   // the new content, until it is renamed
	newSum     [32]byte // SHA-256 of the new content
	backupTemp string   // the backup, until it is placed
	backup     string   // the backup's name (Replace only)
	placed     bool     // the backup is under its name
	dirs       []string // folders created for the file, deepest first
}

// undo removes what prepare and placing the backup made: the temporary
// files, the backup and the folders it created (if they are empty).
func (p *prepared) undo() {
	for _, name := range []string{p.temp, p.backupTemp} {
		if name != "" {
			os.Remove(name)
		}
	}
	if p.placed {
		os.Remove(p.backup)
	}
	for _, d := range p.dirs {
		os.Remove(d)
	}
}

// Apply writes the planned changes as one set. It first checks that no
// target changed since Plan read it, writes every temporary file and
// every backup (under temporary names), and only then commits: it writes
// a journal of the set into each folder, moves the backups to their names,
// renames the temporary files over their targets and removes the
// journals. If preparing fails, it removes what it made and leaves every
// target untouched. If a rename fails, it puts back the targets it
// already replaced (from their backups, which it keeps) and removes the
// ones it created. If the process dies during the commit, Recover finishes
// the set. Missing folders are created with mode 0700.
func Apply(changes []Change) ([]Result, error) {
	var ready []*prepared
	var journals []string
	cleanup := func() {
		removeJournals(journals)
		for i := len(ready) - 1; i >= 0; i-- {
			ready[i].undo()
		}
	}
	for _, c := range changes {
		if c.Op == Unchanged {
			continue
		}
		p := &prepared{c: c}
		ready = append(ready, p)
		if err := prepare(p); err != nil {
			cleanup()
			return nil, err
		}
	}

	// The journals.
	var dirs []string
	byDir := map[string][]*prepared{}
	for _, p := range ready {
		d := filepath.Dir(p.c.real)
		if byDir[d] == nil {
			dirs = append(dirs, d)
		}
		byDir[d] = append(byDir[d], p)
	}
	for _, d := range dirs {
		name, err := writeJournal(d, byDir[d])
		if err != nil {
			cleanup()
			return nil, fmt.Errorf("%s: writing the journal: %w", d, err)
		}
		journals = append(journals, name)
	}

	// The backups, then the targets.
	for _, p := range ready {
		if p.backupTemp == "" {
			continue
		}
		if err := placeBackup(p.backupTemp, p.backup); err != nil {
			cleanup()
			return nil, fmt.Errorf("%s: backup: %w", p.c.Path, err)
		}
		p.backupTemp, p.placed = "", true
		mark()
	}
	if err := syncDirs(dirs); err != nil {
		cleanup()
		return nil, fmt.Errorf("backups: %w", err)
	}
	synced := map[string]bool{}
	for i, p := range ready {
		if err := rename(p.temp, p.c.real); err != nil {
			err = fmt.Errorf("%s: %w", p.c.Path, unwrapPath(err))
			// The replaced targets back first, then the temporary files
			// go: while one is left a crash here is not taken for a set
			// that never started (Recover of an unreadable journal).
			err = rollback(ready[:i], err)
			for j := len(ready) - 1; j >= i; j-- {
				ready[j].undo()
			}
			removeJournals(journals)
			for _, p := range ready {
				for _, d := range p.dirs {
					os.Remove(d) // empty now that its journal is gone
				}
			}
			return nil, err
		}
		p.temp = ""
		mark()
		for _, d := range p.dirs {
			synced[filepath.Dir(d)] = true // the new folder's entry
		}
	}
	for d := range synced {
		dirs = append(dirs, d)
	}
	if err := syncDirs(dirs); err != nil {
		return nil, fmt.Errorf("files written, but %w", err)
	}
	if err := removeJournals(journals); err != nil {
		return nil, fmt.Errorf("files written, but removing the journal failed: %w", err)
	}

	results := make([]Result, 0, len(changes))
	i := 0
	for _, c := range changes {
		r := Result{Path: c.Path, Op: c.Op}
		if c.Op != Unchanged {
			r.Backup = ready[i].backup
			i++
		}
		results = append(results, r)
	}
	return results, nil
}

// syncDirs syncs each of dirs.
func syncDirs(dirs []string) error {
	for _, d := range dirs {
		if err := syncDir(d); err != nil {
			return fmt.Errorf("syncing the folder %s failed: %w", d, unwrapPath(err))
		}
	}
	mark()
	return nil
}

// prepare checks p's target, writes its temporary file and its backup.
func prepare(p *prepared) error {
	c := p.c
	dir := filepath.Dir(c.real)
	if err := checkNoJournal(dir); err != nil {
		return err
	}
	_, err := os.Lstat(c.real)
	switch {
	case c.Op == Create && err == nil:
		return fmt.Errorf("%s: created by someone else since it was read", c.Path)
	case c.Op == Create && errors.Is(err, fs.ErrNotExist):
		if p.dirs, err = mkdirs(dir); err != nil {
			return err
		}
	case err != nil:
		return err
	}
	base := filepath.Base(c.real)
	if c.Op == Replace {
		// The backup is a copy of the target as it is now; if that is not
		// what Plan saw, someone else changed the file in between.
		mode := c.oldMode
		if c.Secret {
			mode &= SecretMode
		}
		var sum [32]byte
		if p.backupTemp, sum, err = writeTemp(dir, base, fileContent(c.real), mode); err != nil {
			return fmt.Errorf("%s: backup: %w", c.Path, err)
		}
		if sum != c.oldSum {
			return fmt.Errorf("%s: changed by someone else since it was read", c.Path)
		}
		if p.backup, err = freeBackupName(c.real); err != nil {
			return err
		}
	}
	if p.temp, p.newSum, err = writeTemp(dir, base, c.Content, c.Mode); err != nil {
		return fmt.Errorf("%s: %w", c.Path, err)
	}
	return nil
}

// mkdirs creates dir and its missing parents with mode 0700 and returns
// the folders it created, deepest first.
func mkdirs(dir string) ([]string, error) {
	var missing []string
	for d := dir; ; {
		if _, err := os.Lstat(d); !errors.Is(err, fs.ErrNotExist) {
			break
		}
		missing = append(missing, d)
		parent := filepath.Dir(d)
		if parent == d {
			break
		}
		d = parent
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		for _, d := range missing {
			os.Remove(d)
		}
		return nil, err
	}
	return missing, nil
}

// rollback undoes the renames of done after err, and returns err with what
// could not be undone.
func rollback(done []*prepared, err error) error {
	var failed []string
	for i := len(done) - 1; i >= 0; i-- {
		p := done[i]
		var rerr error
		if p.c.Op == Create {
			rerr = os.Remove(p.c.real)
			for _, d := range p.dirs {
				os.Remove(d)
			}
		} else {
			rerr = write(p.c.real, fileContent(p.backup), p.c.oldMode)
		}
		if rerr != nil {
			failed = append(failed, p.c.Path)
		}
		mark()
	}
	if len(failed) > 0 {
		return fmt.Errorf("%w; could not restore %s (see backups)", err, strings.Join(failed, ", "))
	}
	if len(done) > 0 {
		return fmt.Errorf("%w; restored the files already written", err)
	}
	return err
}

// Write replaces path with data, atomically, and returns the backup it made
// of the previous content, or "" if path did not exist or already held
// data (it is then left alone). The new file gets mode perm; the backup
// keeps the previous file's mode. On error path is untouched.
func Write(path string, data []byte, perm os.FileMode) (backup string, err error) {
	c, err := plan(File{Path: path, Content: Bytes(data)})
	if err != nil {
		return "", err
	}
	if c.Op == Unchanged {
		return "", nil
	}
	c.Mode = perm.Perm()
	res, err := Apply([]Change{c})
	if err != nil {
		return "", err
	}
	return res[0].Backup, nil
}

// write replaces path with content without a backup; it is the last resort
// of rollback.
func write(path string, content io.WriterTo, mode os.FileMode) error {
	temp, _, err := writeTemp(filepath.Dir(path), filepath.Base(path), content, mode)
	if err != nil {
		return err
	}
	if err := os.Rename(temp, path); err != nil {
		os.Remove(temp)
		return err
	}
	return syncDir(filepath.Dir(path))
}

// TempInfix marks keysync's temporary files: they are named
// ".<name>" + TempInfix + digits, and are removed by Recover.
const TempInfix = ".keysync-tmp-"

// isTemp reports whether name is that of a temporary file of keysync.
func isTemp(name string) bool {
	i := strings.LastIndex(name, TempInfix)
	if !strings.HasPrefix(name, ".") || i < 1 {
		return false
	}
	digits := name[i+len(TempInfix):]
	return digits != "" && strings.Trim(digits, "0123456789") == ""
}

// writeTemp writes content to a new temporary file in dir, mode 0600 until
// it is complete, then mode, synced; it returns its name and the SHA-256
// of what it holds.
func writeTemp(dir, base string, content io.WriterTo, mode os.FileMode) (string, [32]byte, error) {
	var sum [32]byte
	f, err := os.CreateTemp(dir, "."+base+TempInfix+"*")
	if err != nil {
		return "", sum, unwrapPath(err)
	}
	name := f.Name()
	h := sha256.New()
	if err := fill(f, hashing{content, h}, mode); err != nil {
		os.Remove(name)
		return "", sum, err
	}
	copy(sum[:], h.Sum(nil))
	return name, sum, nil
}

// freeBackupName returns the first backup name of path that no file has.
func freeBackupName(path string) (string, error) {
	for i := 0; i < 10000; i++ {
		name := path + BackupSuffix
		if i > 0 {
			name += "." + strconv.Itoa(i)
		}
		_, err := os.Lstat(name)
		if errors.Is(err, fs.ErrNotExist) {
			return name, nil
		}
		if err != nil {
			return "", fmt.Errorf("%s: %w", path, unwrapPath(err))
		}
	}
	return "", fmt.Errorf("too many backups of %s", path)
}

// placeBackup moves the complete backup temp to name, which must not
// exist: an older backup is never overwritten.
func placeBackup(temp, name string) error {
	err := os.Link(temp, name)
	if err == nil {
		return os.Remove(temp)
	}
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s appeared meanwhile", filepath.Base(name))
	}
	// The file system has no links: check, then rename.
	if _, err := os.Lstat(name); !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s appeared meanwhile", filepath.Base(name))
	}
	return unwrapPath(os.Rename(temp, name))
}

// hashing is a Content that also feeds what it writes to a hash.
type hashing struct {
	content io.WriterTo
	h       io.Writer
}

func (c hashing) WriteTo(w io.Writer) (int64, error) {
	return c.content.WriteTo(io.MultiWriter(w, c.h))
}

// fill writes content to f, sets its mode, syncs and closes it.
func fill(f *os.File, content io.WriterTo, mode os.FileMode) error {
	bw := bufio.NewWriterSize(f, 256<<10)
	var w io.Writer = bw
	if step != nil {
		w = &midWrite{bw: bw}
	}
	_, err := content.WriteTo(w)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Chmod(mode)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	mark()
	return unwrapPath(err)
}

// step, if set, is called at each point of Apply and Recover where a
// kill could fall; tests set it to kill the process there.
var step func()

func mark() {
	if step != nil {
		step()
	}
}

// midWrite marks a step when half of the first write has reached the
// file, to let tests kill a write in the middle.
type midWrite struct {
	bw   *bufio.Writer
	done bool
}

func (m *midWrite) Write(p []byte) (int, error) {
	if m.done || len(p) < 2 {
		return m.bw.Write(p)
	}
	m.done = true
	n, err := m.bw.Write(p[:len(p)/2])
	if err == nil {
		err = m.bw.Flush()
	}
	if err != nil {
		return n, err
	}
	mark()
	k, err := m.bw.Write(p[len(p)/2:])
	return n + k, err
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil // folders cannot be opened for syncing there
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// unwrapPath drops the operation and path of a *fs.PathError or
// *os.LinkError, for messages that name the file themselves; temporary
// names mean nothing to the user.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}
