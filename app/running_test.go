package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeProc makes a /proc with one process per command line.
func fakeProc(t *testing.T, cmdlines ...[]string) string {
	proc := t.TempDir()
	for i, args := range cmdlines {
		dir := filepath.Join(proc, string(rune('1'+i)))
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		comm := filepath.Base(args[0])
		os.WriteFile(filepath.Join(dir, "comm"), []byte(comm+"\n"), 0o644)
		os.WriteFile(filepath.Join(dir, "cmdline"), []byte(strings.Join(args, "\x00")+"\x00"), 0o644)
	}
	os.Mkdir(filepath.Join(proc, "self"), 0o755) // not a process
	return proc
}

// Jitsi on Linux is java running its launcher class (as the launcher
// scripts of Jitsi and the distributions start it); other Java programs
// are not Jitsi.
func TestProcNamesJavaMainClass(t *testing.T) {
	jitsi := []string{"/usr/lib/jvm/java-17/bin/java", "-classpath", "lib/felix.jar:sc-bundles/sc-launcher.jar", "-Djna.library.path=native",
		"-Dfelix.config.properties=file:./lib/felix.client.run.properties", "net.java.sip.communicator.launcher.SIPCommunicator"}
	other := []string{"java", "-cp", "net.java.sip.communicator.launcher.SIPCommunicator", "org.example.Main"}
	jar := []string{"java", "-Xmx1g", "-jar", "/opt/x/tool.jar", "arg"}
	opened := []string{"java", "--add-opens", "java.base/java.lang=ALL-UNNAMED", "-classpath", strings.Repeat("lib/x.jar:", 1000),
		"net.java.sip.communicator.launcher.SIPCommunicator"}
	for _, tc := range []struct {
		procs [][]string
		want  bool
	}{{[][]string{jitsi, jar}, true}, {[][]string{other, jar}, false}, {[][]string{opened, jar}, true}} {
		names, err := procNames(fakeProc(t, tc.procs...))
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, p := range (jitsiApp{}).ProcessNames() {
			found = found || names[strings.ToLower(p)]
		}
		if found != tc.want {
			t.Errorf("processes %q: Jitsi found %v, want %v (names %v)", tc.procs, found, tc.want, names)
		}
		if !names["java"] || !names["tool"] {
			t.Errorf("names %v: want java and the jar tool", names)
		}
	}
}
