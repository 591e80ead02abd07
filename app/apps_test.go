package app

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Every libotr app has the default folders of doc/formats.md §5 on each
// system, below the home folder, %APPDATA% or $KDEHOME.
func TestDefaultDirsPerSystem(t *testing.T) {
	env := map[string]string{"APPDATA": `C:\Users\u\AppData\Roaming`}
	getenv := func(k string) string { return env[k] }
	home := func(...string) (string, error) { return "/home/u", nil }
	want := map[string][3]string{ // linux, darwin, windows; "" for none
		"pidgin": {"/home/u/.purple", "/home/u/.purple", `C:\Users\u\AppData\Roaming/.purple`},
		"adium":  {"", "/home/u/Library/Application Support/Adium 2.0/Users/Default", ""},
		"irssi":  {"/home/u/.irssi/otr", "/home/u/.irssi/otr", ""},
		"xchat":  {"/home/u/.xchat2/otr", "/home/u/.xchat2/otr", ""},
		"kopete": {"/home/u/.kde/share/apps/kopete_otr", "", ""},
	}
	for name, dirs := range want {
		a, _ := Lookup(name)
		d := a.(*libotrApp).dirs
		for i, goos := range []string{"linux", "darwin", "windows"} {
			got, err := d.on(name, goos, getenv, home)
			if dirs[i] == "" {
				if err == nil || !strings.Contains(err.Error(), "name the folder as "+name+":DIR") {
					t.Errorf("%s on %s: %q, %v; want no default folder", name, goos, got, err)
				}
				continue
			}
			if err != nil || filepath.ToSlash(got) != filepath.ToSlash(dirs[i]) {
				t.Errorf("%s on %s: %q, %v; want %q", name, goos, got, err, dirs[i])
			}
		}
	}
	env["KDEHOME"] = "/opt/kde"
	if got, _ := (defaultDirs{linux: "$KDEHOME/share/apps/kopete_otr"}).on("kopete", "linux", getenv, home); got != "/opt/kde/share/apps/kopete_otr" {
		t.Errorf("with KDEHOME: %q", got)
	}
	env["XDG_DATA_HOME"] = "relative" // ignored, as the XDG spec says
	if got, _ := (defaultDirs{linux: "$XDG_DATA_HOME/gajim"}).on("gajim", "linux", getenv, home); got != "/home/u/.local/share/gajim" {
		t.Errorf("with a relative XDG_DATA_HOME: %q", got)
	}
	delete(env, "APPDATA")
	if _, err := (defaultDirs{windows: "%APPDATA%/.purple"}).on("pidgin", "windows", getenv, home); err == nil || !strings.Contains(err.Error(), "APPDATA is not set") {
		t.Errorf("without APPDATA: %v", err)
	}
}

func TestParseProcessLists(t *testing.T) {
	names := map[string]bool{}
	if err := parsePS([]byte("COMM\n/Applications/Adium.app/Contents/MacOS/Adium\n  irssi\n-zsh\n"), names); err != nil {
		t.Fatal(err)
	}
	if err := parseTasklist([]byte("\"Pidgin.exe\",\"1234\",\"Console\",\"1\",\"20,000 K\"\r\n\"System Idle Process\",\"0\",\"Services\",\"0\",\"8 K\"\r\n"), names); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"adium": true, "irssi": true, "-zsh": true, "pidgin": true, "system idle process": true}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("names %v, want %v", names, want)
	}
}

// fakeApp is an App known only by its process names.
type fakeApp struct {
	App
	name  string
	procs []string
}

func (a fakeApp) Name() string           { return a.name }
func (a fakeApp) ProcessNames() []string { return a.procs }

// A program copied under an app's process name and run is found; an app
// whose program does not run is not. (The name is one no real app has, so
// that tests of the command line running meanwhile see nothing.)
func TestRunningFindsRenamedProcess(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil || runtime.GOOS == "windows" {
		t.Skip("no sleep program")
	}
	chat := fakeApp{name: "chat", procs: []string{"KsTestChat"}}
	other := fakeApp{name: "other", procs: []string{"kstestother"}}
	var plain App = fakeApp{name: "plain"} // no process names
	if got, err := Running([]App{chat, other, plain}); err != nil || len(got) != 0 {
		t.Fatalf("before: %v, %v", got, err)
	}
	data, err := os.ReadFile(sleep)
	if err != nil {
		t.Fatal(err)
	}
	fake := filepath.Join(t.TempDir(), "kstestchat")
	if err := os.WriteFile(fake, data, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(fake, "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	var got []RunningApp
	for range 50 { // until the process has its name
		if got, err = Running([]App{chat, other, plain}); err != nil || len(got) > 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil || !reflect.DeepEqual(got, []RunningApp{{App: "chat", Process: "KsTestChat"}}) {
		t.Errorf("Running = %v, %v", got, err)
	}
}

// The desktop chat apps name their programs (ChatSecure runs on a phone;
// gpg serialises its own writes).
func TestDesktopAppsNamePrograms(t *testing.T) {
	for _, name := range []string{"pidgin", "adium", "irssi", "xchat", "kopete", "gajim", "jitsi"} {
		a, _ := Lookup(name)
		if n, ok := a.(ProcessNamer); !ok || len(n.ProcessNames()) == 0 {
			t.Errorf("%s names no program", name)
		}
	}
}
