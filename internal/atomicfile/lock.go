package atomicfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// DefaultWait is how long LockDirs waits for a folder when given no time.
const DefaultWait = 10 * time.Second

// LockName is the name of the lock file LockDirs makes in each folder. It
// holds the locking process's id and is removed by Unlock.
const LockName = ".keysync.lock"

// ErrLocked is wrapped by the error of LockDirs for a folder that another
// process kept locked for the whole wait.
var ErrLocked = errors.New("locked by another keysync")

// Lock is a set of folders locked by LockDirs, until Unlock.
type Lock struct {
	dirs    []string   // the folders, sorted
	files   []lockFile // their lock files, in the same order
	created []string   // folders LockDirs created, deepest first
}

// LockDirs locks the folders dirs against other processes that lock them
// (other keysyncs), so that no one else writes them between the caller's
// reading and its last rename. Each folder is locked once, whatever names
// it is given, and folders are locked in one sorted order, so that two
// callers locking overlapping sets cannot deadlock. A missing folder is
// created (mode 0700) to hold its lock file, and removed by Unlock if it is
// still empty. LockDirs waits at most wait in all (DefaultWait if wait is
// not positive) for folders others hold; then it fails with an error
// wrapping ErrLocked that names the folder and, if known, the process
// holding it. On error nothing stays locked.
func LockDirs(dirs []string, wait time.Duration) (*Lock, error) {
	if wait <= 0 {
		wait = DefaultWait
	}
	deadline := time.Now().Add(wait)
	l := &Lock{}
	byKey := map[string]string{}
	for _, d := range dirs {
		abs, err := filepath.Abs(d)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", d, err)
		}
		made, err := mkdirs(abs)
		if err != nil {
			l.removeCreated()
			return nil, fmt.Errorf("%s: %w", d, unwrapPath(err))
		}
		l.created = append(made, l.created...)
		key, err := filepath.EvalSymlinks(abs)
		if err != nil {
			l.removeCreated()
			return nil, fmt.Errorf("%s: %w", d, unwrapPath(err))
		}
		if _, dup := byKey[key]; !dup {
			byKey[key] = abs
		}
	}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		d := byKey[k]
		f, err := lock(filepath.Join(k, LockName), deadline)
		if err != nil {
			l.Unlock()
			if errors.Is(err, ErrLocked) {
				return nil, fmt.Errorf("%s: %w; gave up after %v", d, err, wait)
			}
			return nil, fmt.Errorf("%s: lock: %w", d, unwrapPath(err))
		}
		l.dirs = append(l.dirs, d)
		l.files = append(l.files, f)
	}
	return l, nil
}

// Dirs returns the locked folders, absolute, each once, in the order
// they were locked.
func (l *Lock) Dirs() []string { return append([]string(nil), l.dirs...) }

// Unlock releases every folder of l, removing the lock files and the
// folders LockDirs created that are still empty.
func (l *Lock) Unlock() error {
	var errs []error
	for i := len(l.files) - 1; i >= 0; i-- {
		if err := l.files[i].unlock(); err != nil {
			errs = append(errs, fmt.Errorf("%s: unlock: %w", l.dirs[i], unwrapPath(err)))
		}
	}
	l.files, l.dirs = nil, nil
	l.removeCreated()
	return errors.Join(errs...)
}

func (l *Lock) removeCreated() {
	for _, d := range l.created {
		os.Remove(d) // fails, as it should, if something was written into it
	}
	l.created = nil
}

// holder names the process that holds the lock file at path, from the
// id it wrote there, as " (process N)", or "" if that is not known.
func holder(path string) string {
	b, err := os.ReadFile(path)
	if err != nil || len(b) > 32 {
		return ""
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return ""
	}
	return " (process " + strconv.Itoa(pid) + ")"
}

// lockedError is the error for a lock file still held at the deadline.
func lockedError(path string) error {
	return fmt.Errorf("%w%s", ErrLocked, holder(path))
}

// pause sleeps before the next try to take a lock, never past deadline,
// and reports false if the deadline has passed.
func pause(deadline time.Time, tries int) bool {
	left := time.Until(deadline)
	if left <= 0 {
		return false
	}
	d := min(time.Duration(tries+1)*10*time.Millisecond, 200*time.Millisecond, left)
	time.Sleep(d)
	return true
}

// writePID records the locking process in f.
func writePID(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return err
}
