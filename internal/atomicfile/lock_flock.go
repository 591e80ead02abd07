//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
	"time"
)

// lockFile is a lock file held with flock(2). The lock ends with the
// process, so that a killed keysync leaves no folder locked.
type lockFile struct {
	f    *os.File
	path string
}

// lock takes the lock file at path, waiting until deadline.
func lock(path string, deadline time.Time) (lockFile, error) {
	for tries := 0; ; tries++ {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return lockFile{}, err
		}
		err = flock(f, syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			// The holder before may have removed the file while this one
			// waited for it: the lock counts only if path still names it.
			same, err := names(path, f)
			if err == nil && same {
				err = writePID(f)
				if err == nil {
					return lockFile{f: f, path: path}, nil
				}
			}
			f.Close()
			if err != nil {
				return lockFile{}, err
			}
			continue
		}
		f.Close()
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return lockFile{}, err
		}
		if !pause(deadline, tries) {
			return lockFile{}, lockedError(path)
		}
	}
}

// names reports whether path names the open file f.
func names(path string, f *os.File) (bool, error) {
	fi, err := f.Stat()
	if err != nil {
		return false, err
	}
	pi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return os.SameFile(fi, pi), nil
}

// flock applies how to f.
func flock(f *os.File, how int) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) {
		for {
			ferr = syscall.Flock(int(fd), how)
			if ferr != syscall.EINTR {
				return
			}
		}
	}); err != nil {
		return err
	}
	return ferr
}

// unlock removes the lock file, then releases it: whoever waits on the
// removed file sees that and tries again.
func (l lockFile) unlock() error {
	err := os.Remove(l.path)
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	return err
}
