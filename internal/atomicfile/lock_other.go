//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd)

package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// lockFile is a lock file that exists while it is held. Without flock(2)
// a killed keysync leaves it behind; the error then names it, to be
// removed by hand.
type lockFile struct {
	path string
}

// lock creates the lock file at path, waiting until deadline while it
// exists.
func lock(path string, deadline time.Time) (lockFile, error) {
	for tries := 0; ; tries++ {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			err = writePID(f)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				os.Remove(path)
				return lockFile{}, err
			}
			return lockFile{path: path}, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return lockFile{}, err
		}
		if !pause(deadline, tries) {
			return lockFile{}, fmt.Errorf("%w; if no keysync runs, remove %s", lockedError(path), path)
		}
	}
}

// unlock removes the lock file.
func (l lockFile) unlock() error { return os.Remove(l.path) }
