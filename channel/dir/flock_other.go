//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd)

package dir

import (
	"errors"
	"os"
)

var errNoFlock = errors.New("the folder channel needs flock(2), which this system lacks")

func tryFlock(*os.File) (bool, error) { return false, errNoFlock }

func unFlock(*os.File) error { return errNoFlock }

func openNoFollow(p string) (*os.File, error) { return os.Open(p) }

func isSymlinkErr(error) bool { return false }
