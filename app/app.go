// Package app reads and writes the OTR trust stores of chat apps and maps
// each app's spellings of accounts and protocols to the canonical model of
// package keysync.
//
// Every app is reached through the App interface; Lookup finds one by name
// and a Location names one app's store in one folder. Readers return a
// keysync.Model whose records share Origins that remember how the app
// named things, so that writing back to the same app restores them. Writers
// return a Plan (files to replace, commands to run) and change nothing;
// Convert, Prepared.Apply and Report tie reading, merging, planning,
// writing and reporting together for the command line and other callers.
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
	// Read reads the store that r names. Problems that do not stop
	// reading (an invalid key, an unmapped account) come back as notices.
	// Every record's Origin and every notice names r.Source: the source
	// is stamped once, here.
	Read(r ReadRequest) (*keysync.Model, []Notice, error)
	// Write plans what makes the store in dir hold m, as far as the app can
	// hold it; what it cannot hold is reported as notices, which name
	// source, the store's name as in ReadRequest. It may read dir (an
	// account list) but changes nothing.
	Write(dir, source string, m *keysync.Model) (Plan, []Notice, error)
}

// ReadRequest names the store an App reads and how it may ask for secrets.
type ReadRequest struct {
	Dir string
	// Source is the store's name, such as "pidgin:/home/u/.purple": the
	// Source of every Origin read, for conflicts and for keeping instance
	// tags with their installation.
	Source string
	// Prompt asks the user for a secret the store needs (a password that
	// encrypts it); nil when no one can be asked.
	Prompt Prompt
	// Seen, when set, records what was read of each file (see Open), so
	// that a write into the store refuses a file changed since.
	Seen *Seen
}

// Prompt asks the user for the secret that what describes (such as
// "password of the ChatSecure database /path") and returns it. The caller
// clears it when done.
type Prompt func(what string) ([]byte, error)

// Plan is what writing a model into a store comes to: files whose content
// is replaced, then commands that change what is not a file (a GnuPG
// keyring through gpg).
type Plan struct {
	Files    []File
	Commands []Command
}

// add appends the steps of q to p.
func (p *Plan) add(q Plan) {
	p.Files = append(p.Files, q.Files...)
	p.Commands = append(p.Commands, q.Commands...)
}

// File is the complete new content of one file of an app.
type File struct {
	Path string
	// Content writes the file's bytes. It may be asked more than once and
	// gives the same bytes each time; a large file is encoded as it is
	// written rather than held in memory.
	Content io.WriterTo
	Secret  bool   // holds private keys: mode 0600, contents never printed
	Summary string // what the file holds, such as "3 fingerprints"
	// Exchange marks an encrypted file the user carries to another
	// device with its password (ChatSecure's otr_keystore.ofcaes).
	Exchange bool
}

// Command is a program to run with its standard input.
type Command struct {
	Path  string      // the program, such as "gpg"
	Args  []string    // its arguments, without the program
	Stdin io.WriterTo // what it reads, or nil
	// Secret says that Stdin holds private keys: it is never printed.
	Secret  bool
	Summary string // what the command changes, such as "2 keys"
	// Always says that the command runs even after an earlier command of
	// the plan failed: it cleans up, such as stopping a gpg-agent that
	// the commands before it started.
	Always bool
}

// Notice reports something a reader or writer could not use or had to skip.
type Notice struct {
	Source string // the store it concerns, such as "pidgin:/home/u/.purple", if known
	File   string // file name, if the notice is about one
	Line   int    // line in File, if known
	Msg    string
}

// String returns "FILE:LINE: MSG", "FILE: MSG" or "MSG".
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
