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
	// abs is Dir made absolute: with the app, the store's identity, so
	// that two spellings of one folder are one store (SameStore).
	abs string
	// Password encrypts the store when it is written, for an App that is
	// a SecretWriter; nil otherwise.
	Password []byte
}

// ParseLocation parses APP or APP:DIR, splitting at the first colon (so
// that DIR may hold colons). DIR defaults to the app's default folder and
// is cleaned; Dir and Name keep it as given, relative or not, and the
// store's identity is its absolute path (SameStore).
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
	abs, err := filepath.Abs(dir)
	if err != nil {
		return Location{}, fmt.Errorf("%s: %w", excerpt.Quote(arg), err)
	}
	return Location{App: a, Dir: dir, Name: a.Name() + ":" + dir, abs: abs}, nil
}

// SameStore reports whether l and o are one store: one app in one folder,
// however the folder is spelled.
func (l Location) SameStore(o Location) bool {
	return l.App.Name() == o.App.Name() && l.abs == o.abs
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
		if i := indexLocation(out, l); i >= 0 {
			if out[i].Name == l.Name {
				return nil, fmt.Errorf("%s given twice", l.Name)
			}
			return nil, fmt.Errorf("%s and %s are one store, given twice", out[i].Name, l.Name)
		}
		out = append(out, l)
	}
	return out, nil
}

// ResolvePrefer returns the name of the store that arg names among those a
// conversion of froms into tos merges (see Stores): APP:DIR (DIR spelled
// any way) or, for a bare APP, the app's default folder or else the only
// store of that app.
func ResolvePrefer(arg string, froms, tos []Location) (string, error) {
	locs := Stores(froms, tos)
	p, err := ParseLocation(arg)
	if i := indexLocation(locs, p); err == nil && i >= 0 {
		return locs[i].Name, nil
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

// Stores returns the stores a conversion of froms into tos merges, in
// order: froms, then every store of tos that is not one of froms.
func Stores(froms, tos []Location) []Location {
	all := append([]Location(nil), froms...)
	for _, t := range tos {
		if indexLocation(froms, t) < 0 {
			all = append(all, t)
		}
	}
	return all
}

// indexLocation returns the index of the first location of locs that is
// the store l, or -1.
func indexLocation(locs []Location, l Location) int {
	if l.App == nil {
		return -1
	}
	for i, x := range locs {
		if x.SameStore(l) {
			return i
		}
	}
	return -1
}
