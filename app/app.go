// Package app reads and writes the OTR trust stores of chat apps and maps
// each app's spellings of accounts and protocols to the canonical model of
// package keysync.
//
// Every app is reached through the App interface; Lookup finds one by name.
// Readers return a keysync.Store whose Spellings remember how the app named
// things, so that writing back to the same app restores them. Writers
// compute file contents only; applying them to disk is the caller's job
// (atomically, with backups).
package app

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sort"

	"github.com/keysync/keysync"
)

// App is one chat app's trust store format.
type App interface {
	// Name is the app's name on the command line, such as "pidgin".
	Name() string
	// DefaultDir is the folder holding the app's files on this OS.
	DefaultDir() (string, error)
	// Read reads the store in dir. source labels everything read, for
	// conflicts and for keeping instance tags with their installation.
	// Problems that do not stop reading (an invalid key, an unmapped
	// account) come back as notices.
	Read(dir, source string) (*keysync.Store, []Notice, error)
	// Write computes the files that make dir hold s, as far as the app can
	// hold it; what it cannot hold is reported as notices. It reads dir's
	// account list (accounts.xml, Accounts.plist) but writes nothing.
	Write(dir, source string, s *keysync.Store) ([]File, []Notice, error)
}

// File is the complete new content of one file of an app.
type File struct {
	Path string
	// Content writes the file's bytes. It may be asked more than once and
	// gives the same bytes each time; a large file is encoded as it is
	// written rather than held in memory.
	Content io.WriterTo
	Secret  bool // holds private keys: mode 0600, contents never printed
	Summary string
}

// Notice reports something a reader or writer could not use or had to skip.
type Notice struct {
	Source string // the store it concerns, such as "pidgin:/home/u/.purple", if known
	File   string // file name, if the notice is about one
	Line   int    // line in File, if known
	Msg    string
}

func (n Notice) String() string {
	switch {
	case n.File != "" && n.Line > 0:
		return fmt.Sprintf("%s:%d: %s", n.File, n.Line, n.Msg)
	case n.File != "":
		return n.File + ": " + n.Msg
	}
	return n.Msg
}

// ErrNoStore is returned by Read when dir holds none of the app's files.
var ErrNoStore = errors.New("no trust store found")

var registry = map[string]App{}

func register(a App) { registry[a.Name()] = a }

// Lookup returns the app called name.
func Lookup(name string) (App, bool) {
	a, ok := registry[name]
	return a, ok
}

// Names returns the names of all apps, sorted.
func Names() []string {
	var n []string
	for k := range registry {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// isNotExist reports whether err means a file is missing.
func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
