package app

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/keysync/keysync"
	"github.com/keysync/keysync/internal/atomicfile"
	"github.com/keysync/keysync/internal/excerpt"
)

// Conversion is what converting stores into others comes to.
type Conversion struct {
	Conflicts  []keysync.Conflict // those settled by prefer have a Winner
	Unresolved int                // conflicts without a Winner
	Plan       Plan               // every target's files and commands; empty while a conflict is unresolved
	Notices    []Notice
	// Seen is what the reads saw of each file, for Plan.Prepare to
	// refuse a target changed since.
	Seen *Seen
}

// Convert reads the stores froms and then each store of tos that already
// exists — last, so that what a target holds survives unless a source
// disagrees, which is a conflict rather than a silent loss — merges them
// with prefer naming the store that wins conflicts (see ResolvePrefer),
// and, unless a conflict is unresolved, plans the writes of every target.
// prompt is handed to the readers. It writes nothing. With froms and tos
// the same stores it is a two-way sync: every store gets the merge of all.
// A target that was read gets the merge with its own store first, so that
// it keeps its own spelling and order of what it holds (see mergeFor).
//
// The caller locks the stores' folders first (LockStores) and holds the
// lock until the plan is applied.
func Convert(froms, tos []Location, prefer string, prompt Prompt) (*Conversion, error) {
	seen := &Seen{}
	sources, notices, err := ReadAll(froms, prompt, seen)
	if err != nil {
		return nil, err
	}
	read := append([]Location(nil), froms...) // the store of each source
	for _, t := range Stores(froms, tos)[len(froms):] {
		m, ns, err := t.Read(prompt, seen)
		if errors.Is(err, ErrNoStore) {
			continue
		}
		if err != nil {
			return nil, err
		}
		sources = append(sources, keysync.Source{Name: t.Name, Model: m})
		read = append(read, t)
		notices = append(notices, ns...)
	}
	merged, conflicts := keysync.Merge(sources, prefer)
	c := &Conversion{Conflicts: conflicts, Notices: notices, Seen: seen}
	for _, x := range conflicts {
		if x.Winner == "" {
			c.Unresolved++
		}
	}
	if c.Unresolved > 0 {
		return c, nil
	}
	if !slices.ContainsFunc(tos, func(t Location) bool { return indexLocation(read, t) <= 0 }) {
		merged = nil // every target gets its own merge: let this one go
	}
	for _, t := range tos {
		plan, ns, err := t.Write(mergeFor(t, read, sources, prefer, merged))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t.Name, err)
		}
		c.Notices = append(c.Notices, ns...)
		if len(plan.Files) == 0 && len(plan.Commands) == 0 {
			c.Notices = append(c.Notices, Notice{Source: t.Name, Msg: t.Name + ": nothing to write"})
		}
		c.Plan.add(plan)
	}
	return c, nil
}

// mergeFor returns the merge to write into the target t: merged (the merge
// of sources, read from the stores read, in their order) unless t is one of
// them and not the first, and then the merge with t's own source first.
// Merged records keep the Origin (the spelling, the line) of the first
// source that holds them, so that what the target already holds keeps the
// target's spelling and order, and the same stores give the same files
// whatever order they are named in. Without unresolved conflicts the merge
// holds the same accounts, keys, fingerprints and trust values in any
// order (see keysync.Merge): only whose form of a record comes first, and
// so which spelling, line and packets it keeps, depends on the order.
func mergeFor(t Location, read []Location, sources []keysync.Source, prefer string, merged *keysync.Model) *keysync.Model {
	i := indexLocation(read, t)
	if i <= 0 {
		return merged
	}
	first := make([]keysync.Source, 0, len(sources))
	first = append(append(append(first, sources[i]), sources[:i]...), sources[i+1:]...)
	m, _ := keysync.Merge(first, prefer)
	return m
}

// Err returns an *UnresolvedError if a conflict is unresolved, else nil.
func (c *Conversion) Err() error {
	if c.Unresolved > 0 {
		return &UnresolvedError{Conflicts: c.Unresolved}
	}
	return nil
}

// UnresolvedError says that a conversion stopped at conflicts that no
// preferred store settled: nothing was written.
type UnresolvedError struct {
	Conflicts int // how many
}

// Error says how many conflicts are unresolved and how to settle them.
func (e *UnresolvedError) Error() string {
	s := "s"
	if e.Conflicts == 1 {
		s = ""
	}
	return fmt.Sprintf("%d unresolved conflict%s; nothing written (choose the side that wins with --prefer APP[:DIR])", e.Conflicts, s)
}

// ExitCode returns 3, the command line's exit status for unresolved
// conflicts.
func (e *UnresolvedError) ExitCode() int { return 3 }

// Prepared is a plan compared with the disk: what applying it changes.
type Prepared struct {
	Changes  []FileChange // one per file of the plan, in order
	Commands []Command
}

// FileChange is the planned change of one file, with the file's summary.
type FileChange struct {
	atomicfile.Change
	Summary  string
	Exchange bool // the File is an exchange file (File.Exchange)
}

// FileResult is what applying one FileChange did.
type FileResult struct {
	atomicfile.Result
	Summary  string
	Exchange bool // the File is an exchange file (File.Exchange)
}

// Prepare compares every file of p with its target on disk. It refuses a
// target that differs from what seen records of it (nil checks nothing),
// and a read-only target unless force (atomicfile.ErrReadOnly).
func (p Plan) Prepare(seen *Seen, force bool) (*Prepared, error) {
	files := make([]atomicfile.File, len(p.Files))
	for i, f := range p.Files {
		files[i] = atomicfile.File{Path: f.Path, Content: f.Content, Secret: f.Secret,
			Force: force, Read: seen.Version(f.Path)}
	}
	changes, err := atomicfile.Plan(files)
	if err != nil {
		return nil, err
	}
	out := &Prepared{Commands: p.Commands}
	for i, c := range changes {
		out.Changes = append(out.Changes, FileChange{Change: c, Summary: p.Files[i].Summary, Exchange: p.Files[i].Exchange})
	}
	return out, nil
}

// Apply writes the changed files atomically, keeping a backup of each
// file replaced, and then runs the commands in order. After a command
// fails only those marked Always run, and the first failure is returned.
func (p *Prepared) Apply() ([]FileResult, error) {
	changes := make([]atomicfile.Change, len(p.Changes))
	for i, c := range p.Changes {
		changes[i] = c.Change
	}
	results, err := atomicfile.Apply(changes)
	if err != nil {
		return nil, err
	}
	out := make([]FileResult, len(results))
	for i, r := range results {
		out[i] = FileResult{Result: r, Summary: p.Changes[i].Summary, Exchange: p.Changes[i].Exchange}
	}
	var failed error
	for _, c := range p.Commands {
		if failed != nil && !c.Always {
			continue
		}
		if err := c.run(); err != nil && failed == nil {
			failed = err
		}
	}
	return out, failed
}

// String returns the command line, program first.
func (c Command) String() string { return strings.Join(append([]string{c.Path}, c.Args...), " ") }

// maxStderrRunes is the most runes of a program's standard error an error
// quotes.
const maxStderrRunes = 200

// run runs the command, feeding it Stdin. Its error quotes the program's
// standard error unless Stdin is secret (a program may echo its input).
func (c Command) run() error {
	cmd := exec.Command(c.Path, c.Args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if c.Stdin != nil {
		in, err := cmd.StdinPipe()
		if err != nil {
			return err
		}
		go func() {
			_, _ = c.Stdin.WriteTo(in)
			in.Close()
		}()
	}
	cmd.Stdout = io.Discard
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if c.Secret || msg == "" {
			return fmt.Errorf("%s: %v", c.Path, err)
		}
		return fmt.Errorf("%s: %v: %s", c.Path, err, excerpt.Cut(msg, maxStderrRunes))
	}
	return nil
}

// Locked is the folders of a run's stores, locked against other keysyncs
// from before they are read until after they are written.
type Locked struct {
	lock *atomicfile.Lock
	// Notes says what recovery did in the folders (an interrupted write
	// finished or rolled back, leftover temporary files removed) and
	// which folders are read without a lock.
	Notes []string
}

// LockStores locks the folder of every store of read and write (waiting
// at most wait for another keysync, atomicfile.DefaultWait if wait is not
// positive) and then recovers each folder from an interrupted write
// (atomicfile.Recover). A folder only read that cannot hold a lock file
// (read-only) is read without one, with a note; a folder written must be
// locked. On error nothing stays locked, and the Locked returned, if not
// nil, holds the notes of the folders recovered before the error.
func LockStores(read, write []Location, wait time.Duration) (*Locked, error) {
	var all, writeDirs []string
	for _, l := range write {
		writeDirs = append(writeDirs, l.Dir)
	}
	all = append(all, writeDirs...)
	for _, l := range read {
		all = append(all, l.Dir)
	}
	lock, err := atomicfile.LockDirs(all, wait)
	var notes []string
	if err != nil && !errors.Is(err, atomicfile.ErrLocked) && len(all) > len(writeDirs) && cannotWrite(err) {
		// A store on a read-only medium can still be a source.
		lock, err = atomicfile.LockDirs(writeDirs, wait)
		if err == nil {
			locked := map[string]bool{}
			for _, d := range lock.Dirs() {
				locked[d] = true
			}
			for _, l := range read {
				if abs, _ := filepath.Abs(l.Dir); !locked[abs] {
					notes = append(notes, l.Dir+": cannot be locked (read-only folder); read without a lock")
				}
			}
		}
	}
	if err != nil {
		return nil, err
	}
	l := &Locked{lock: lock, Notes: notes}
	for _, d := range lock.Dirs() {
		rep, err := atomicfile.Recover(d)
		l.Notes = append(l.Notes, rep.Messages()...)
		if err != nil {
			lock.Unlock()
			return l, err
		}
	}
	return l, nil
}

// Unlock releases the folders.
func (l *Locked) Unlock() error { return l.lock.Unlock() }

// cannotWrite reports whether err says that a folder cannot be written.
func cannotWrite(err error) bool {
	return errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS)
}
