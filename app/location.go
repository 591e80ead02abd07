package app

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/keysync/keysync"
	"github.com/keysync/keysync/internal/excerpt"
)

// Location is one app's trust store in one folder.
type Location struct {
	App  App
	Dir  string
	Name string // "APP:DIR", the store's source name in the model
	// Password encrypts the store when it is written, for an App that is
	// a SecretWriter; nil otherwise.
	Password []byte
}

// ParseLocation parses APP or APP:DIR, splitting at the first colon (so
// that DIR may hold colons). DIR defaults to the app's default folder and
// is cleaned, so that two spellings of one folder name one store.
func ParseLocation(arg string) (Location, error) {
	name, dir, hasDir := strings.Cut(arg, ":")
	a, ok := Lookup(name)
	if !ok {
		return Location{}, fmt.Errorf("unknown app %s in %s (apps: %s)", excerpt.Quote(name), excerpt.Quote(arg), strings.Join(Names(), ", "))
	}
	if hasDir && dir == "" {
		return Location{}, fmt.Errorf("%s: empty folder after the colon", excerpt.Quote(arg))
	}
	if !hasDir {
		d, err := a.DefaultDir()
		if err != nil {
			return Location{}, err
		}
		dir = d
	}
	dir = filepath.Clean(dir)
	return Location{App: a, Dir: dir, Name: a.Name() + ":" + dir}, nil
}

// ParseLocations parses every argument with ParseLocation and refuses a
// store named twice.
func ParseLocations(args []string) ([]Location, error) {
	var out []Location
	for _, arg := range args {
		l, err := ParseLocation(arg)
		if err != nil {
			return nil, err
		}
		if containsLocation(out, l.Name) {
			return nil, fmt.Errorf("%s given twice", l.Name)
		}
		out = append(out, l)
	}
	return out, nil
}

// ResolvePrefer returns the name of the store among locs that arg names:
// APP:DIR (DIR cleaned) or, for a bare APP, the app's default folder or
// else the only store of that app.
func ResolvePrefer(arg string, locs []Location) (string, error) {
	p, err := ParseLocation(arg)
	if err == nil && containsLocation(locs, p.Name) {
		return p.Name, nil
	}
	if !strings.Contains(arg, ":") {
		var match []string
		for _, l := range locs {
			if l.App.Name() == arg {
				match = append(match, l.Name)
			}
		}
		switch len(match) {
		case 1:
			return match[0], nil
		case 0:
		default:
			return "", fmt.Errorf("%s names %s; say which as APP:DIR", arg, strings.Join(match, " and "))
		}
	}
	if err != nil {
		return "", err
	}
	return "", fmt.Errorf("%s is none of the --from or --to stores", p.Name)
}

// Read reads the store, named l.Name in its records and notices,
// recording in seen (if not nil) what it read of each file.
func (l Location) Read(prompt Prompt, seen *Seen) (*keysync.Model, []Notice, error) {
	return l.App.Read(ReadRequest{Dir: l.Dir, Source: l.Name, Prompt: prompt, Seen: seen})
}

// ReadAll reads every store, in order, as sources to merge, recording in
// seen (if not nil) what it read.
func ReadAll(locs []Location, prompt Prompt, seen *Seen) ([]keysync.Source, []Notice, error) {
	var sources []keysync.Source
	var notices []Notice
	for _, l := range locs {
		m, ns, err := l.Read(prompt, seen)
		if err != nil {
			return nil, nil, err
		}
		sources = append(sources, keysync.Source{Name: l.Name, Model: m})
		notices = append(notices, ns...)
	}
	return sources, notices, nil
}

// containsLocation reports whether locs holds the store called name.
func containsLocation(locs []Location, name string) bool {
	for _, l := range locs {
		if l.Name == name {
			return true
		}
	}
	return false
}
