package app

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// defaultDirs is an app's default folder on Linux (and the other Unix
// systems), macOS and Windows, written with slashes. A path's first
// element may name a base folder: "~" the home folder, "%APPDATA%"
// Windows' roaming application data folder, "$XDG_DATA_HOME",
// "$XDG_CONFIG_HOME" or "$KDEHOME" (when unset or relative:
// ~/.local/share, ~/.config, ~/.kde). An empty path means the app has no
// default folder on that system (doc/formats.md §5).
type defaultDirs struct {
	linux, darwin, windows string
}

// envDefaults are the folders below home that stand for unset variables.
var envDefaults = map[string]string{
	"$XDG_DATA_HOME":   ".local/share",
	"$XDG_CONFIG_HOME": ".config",
	"$KDEHOME":         ".kde",
}

// dir returns app's default folder on this system.
func (d defaultDirs) dir(app string) (string, error) {
	return d.on(app, runtime.GOOS, os.Getenv, homeDir)
}

// on returns app's default folder on the system goos, with the
// environment getenv and the home folder home.
func (d defaultDirs) on(app, goos string, getenv func(string) string, home func(...string) (string, error)) (string, error) {
	path, system := d.linux, "this system"
	switch goos {
	case "darwin", "ios":
		path, system = d.darwin, "macOS"
	case "windows":
		path, system = d.windows, "Windows"
	}
	if path == "" {
		return "", fmt.Errorf("%s: no default folder on %s; name the folder as %s:DIR", app, system, app)
	}
	base, rest, _ := strings.Cut(path, "/")
	var root string
	var err error
	switch {
	case base == "~":
		root, err = home()
	case base == "%APPDATA%":
		if root = getenv("APPDATA"); root == "" {
			err = fmt.Errorf("%s: APPDATA is not set; name the folder as %s:DIR", app, app)
		}
	case envDefaults[base] != "":
		if root = getenv(base[1:]); root == "" || !filepath.IsAbs(root) {
			if root, err = home(); err == nil {
				root = filepath.Join(root, filepath.FromSlash(envDefaults[base]))
			}
		}
	default:
		return "", errors.New(app + ": default folder " + path + " has no base folder") // a mistake in this package
	}
	if err != nil {
		return "", err
	}
	return filepath.Join(root, filepath.FromSlash(rest)), nil
}

// Detected is what an app's default folder on this system holds.
type Detected struct {
	App string `json:"app"`
	// Dir is the app's default folder; NoDir says why it has none here.
	Dir   string `json:"dir,omitempty"`
	NoDir string `json:"noDir,omitempty"`
	// Found says that Dir holds the app's store.
	Found        bool `json:"found"`
	Accounts     int  `json:"accounts"`
	Keys         int  `json:"keys"`
	Fingerprints int  `json:"fingerprints"`
	// Problem says why a store that is there could not be read.
	Problem string `json:"problem,omitempty"`
	// Running says that the app's program runs now (see Running).
	Running bool `json:"running"`
}

// Detect looks for the store of every app in its default folder and
// counts what it holds, never asking for a secret: a store that needs one
// has a Problem. It writes nothing. The error says that the running
// programs could not be listed; the list is complete all the same.
func Detect() ([]Detected, error) {
	var apps []App
	var out []Detected
	for _, name := range Names() {
		a, _ := Lookup(name)
		apps = append(apps, a)
		d := Detected{App: name}
		dir, err := a.DefaultDir()
		if err != nil {
			d.NoDir = err.Error()
			out = append(out, d)
			continue
		}
		d.Dir = dir
		if _, err := os.Stat(dir); err == nil {
			m, _, err := a.Read(ReadRequest{Dir: dir, Source: name + ":" + dir})
			switch {
			case errors.Is(err, ErrNoStore):
			case err != nil:
				d.Found, d.Problem = true, err.Error()
			default:
				d.Found = true
				d.Accounts = len(m.Accounts)
				for _, la := range m.Accounts {
					d.Keys += len(la.Keys)
				}
				d.Fingerprints = len(m.Fingerprints)
			}
		}
		out = append(out, d)
	}
	running, err := Running(apps)
	for _, r := range running {
		for i := range out {
			if out[i].App == r.App {
				out[i].Running = true
			}
		}
	}
	return out, err
}
