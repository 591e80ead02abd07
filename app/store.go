package app

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/keysync/keysync"
	"github.com/keysync/keysync/internal/excerpt"
)

// Store is one app's trust store in one folder.
type Store struct {
	App  App
	Dir  string
	Name string // "APP:DIR", the store's source name in the model
}

// ParseStore parses APP or APP:DIR, splitting at the first colon (so that
// DIR may hold colons). DIR defaults to the app's default folder and is
// cleaned, so that two spellings of one folder name one store.
func ParseStore(arg string) (Store, error) {
	name, dir, hasDir := strings.Cut(arg, ":")
	a, ok := Lookup(name)
	if !ok {
		return Store{}, fmt.Errorf("unknown app %s in %s (apps: %s)", excerpt.Quote(name), excerpt.Quote(arg), strings.Join(Names(), ", "))
	}
	if hasDir && dir == "" {
		return Store{}, fmt.Errorf("%s: empty folder after the colon", excerpt.Quote(arg))
	}
	if !hasDir {
		d, err := a.DefaultDir()
		if err != nil {
			return Store{}, err
		}
		dir = d
	}
	dir = filepath.Clean(dir)
	return Store{App: a, Dir: dir, Name: a.Name() + ":" + dir}, nil
}

// Read reads the store; its notices name it as their Source.
func (s Store) Read() (*keysync.Store, []Notice, error) {
	st, notices, err := s.App.Read(s.Dir, s.Name)
	for i := range notices {
		notices[i].Source = s.Name
	}
	return st, notices, err
}

// ReadAll reads every store, in order, as sources to merge.
func ReadAll(stores []Store) ([]keysync.Source, []Notice, error) {
	var sources []keysync.Source
	var notices []Notice
	for _, s := range stores {
		st, ns, err := s.Read()
		if err != nil {
			return nil, nil, err
		}
		sources = append(sources, keysync.Source{Name: s.Name, Store: st})
		notices = append(notices, ns...)
	}
	return sources, notices, nil
}

// Conversion is what converting stores into others comes to.
type Conversion struct {
	Conflicts  []keysync.Conflict // those settled by prefer have a Winner
	Unresolved int                // conflicts without a Winner
	Files      []File             // every target's files; none while a conflict is unresolved
	Notices    []Notice
}

// Convert reads the stores froms and then each store of tos that already
// exists — last, so that what a target holds survives unless a source
// disagrees, which is a conflict rather than a silent loss — merges them
// with prefer naming the store that wins conflicts, and, unless a conflict
// is unresolved, computes the files of every target. It writes nothing.
func Convert(froms, tos []Store, prefer string) (*Conversion, error) {
	sources, notices, err := ReadAll(froms)
	if err != nil {
		return nil, err
	}
	for _, t := range tos {
		if containsStore(froms, t.Name) {
			continue
		}
		st, ns, err := t.Read()
		if errors.Is(err, ErrNoStore) {
			continue
		}
		if err != nil {
			return nil, err
		}
		sources = append(sources, keysync.Source{Name: t.Name, Store: st})
		notices = append(notices, ns...)
	}
	merged, conflicts := keysync.Merge(sources, prefer)
	c := &Conversion{Conflicts: conflicts, Notices: notices}
	for _, x := range conflicts {
		if x.Winner == "" {
			c.Unresolved++
		}
	}
	if c.Unresolved > 0 {
		return c, nil
	}
	for _, t := range tos {
		files, ns, err := t.App.Write(t.Dir, t.Name, merged)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t.Name, err)
		}
		for _, n := range ns {
			n.Source = t.Name
			c.Notices = append(c.Notices, n)
		}
		if len(files) == 0 {
			c.Notices = append(c.Notices, Notice{Source: t.Name, Msg: t.Name + ": nothing to write"})
		}
		c.Files = append(c.Files, files...)
	}
	return c, nil
}

// containsStore reports whether stores holds the store called name.
func containsStore(stores []Store, name string) bool {
	for _, s := range stores {
		if s.Name == name {
			return true
		}
	}
	return false
}
