package main

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// fakeADB puts an adb on PATH that has one device and logs its
// arguments to the returned file.
func fakeADB(t *testing.T) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the fake adb is a shell script")
	}
	dir := t.TempDir()
	log := filepath.Join(dir, "adb.log")
	script := "#!/bin/sh\necho \"$*\" >> " + log + "\n" +
		"if [ \"$1\" = devices ]; then printf 'List of devices attached\\nX1\\tdevice\\n\\n'; fi\n"
	if err := os.WriteFile(filepath.Join(dir, "adb"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return log
}

// TestPushAsks: on a terminal keysync asks before pushing, and pushes only
// after a yes.
func TestPushAsks(t *testing.T) {
	log := fakeADB(t)
	for _, c := range []struct {
		answer string
		pushed bool
	}{{"y\n", true}, {"YES\n", true}, {"n\n", false}, {"\n", false}, {"", false}} {
		os.Remove(log)
		s := &secrets{interactive: true, stdin: strings.NewReader(c.answer)}
		var out bytes.Buffer
		if err := s.push(&out, "phone/otr_keystore.ofcaes"); err != nil {
			t.Fatal(err)
		}
		logged, _ := os.ReadFile(log)
		pushed := strings.Contains(string(logged), "push phone/otr_keystore.ofcaes /sdcard/otr_keystore.ofcaes")
		if pushed != c.pushed {
			t.Errorf("answer %q: pushed %v, want %v (%s)", c.answer, pushed, c.pushed, out.String())
		}
		if !strings.HasPrefix(out.String(), "Push phone/otr_keystore.ofcaes to the phone's /sdcard/otr_keystore.ofcaes with adb? [y/N] ") {
			t.Errorf("asked %q", out.String())
		}
	}
}

// TestPasswordFile: line breaks and spaces are dropped, as ChatSecure
// drops them from the scanned code; an empty or huge file is refused
// without quoting it.
func TestPasswordFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	s := &secrets{passwordFile: write("pw", "6QpT40Omhp6YRX73 BzxnPlSvvr7ZsPP6VaS4aqWOyqE=\r\n")}
	pw, err := s.password()
	if err != nil || string(pw) != "6QpT40Omhp6YRX73BzxnPlSvvr7ZsPP6VaS4aqWOyqE=" {
		t.Errorf("password %q, %v", pw, err)
	}
	got, err := s.prompt()("password of x")
	if err != nil || !bytes.Equal(got, pw) {
		t.Errorf("prompt gives %q, %v", got, err)
	}
	for _, text := range []string{" \n", strings.Repeat("secret", 1000)} {
		s := &secrets{passwordFile: write("bad", text)}
		if _, err := s.password(); err == nil || strings.Contains(err.Error(), "secret") {
			t.Errorf("%d bytes: %v", len(text), err)
		}
	}
	if (&secrets{}).prompt() != nil || (*secrets)(nil).prompt() != nil {
		t.Error("a prompt without a file or terminal")
	}
}
