package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"regexp"
	"strings"
	"testing"
	"time"
)

// startUI runs `keysync ui --no-browser` until the test ends and returns
// the link it prints.
func startUI(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r, w := io.Pipe()
	root := newRootCmd()
	root.SetArgs(append([]string{"ui", "--no-browser", "--home", t.TempDir()}, args...))
	root.SetOut(w)
	done := make(chan error, 1)
	go func() {
		done <- root.ExecuteContext(ctx)
		w.Close()
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("keysync ui: %v", err)
		}
	})
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		t.Fatalf("keysync ui printed %q: %v", line, err)
	}
	go io.Copy(io.Discard, r)
	m := regexp.MustCompile(`^keysync ui: open (http://127\.0\.0\.1:\d+/\?token=[A-Za-z0-9_-]{43})\n$`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("keysync ui printed %q", line)
	}
	return m[1]
}

// TestUI: keysync ui prints a link with a fresh token for each run; the
// link opens the page, the address without it does not.
func TestUI(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	first, second := startUI(t), startUI(t, "--listen", "localhost:0")
	if token := func(u string) string { return u[strings.Index(u, "token="):] }; token(first) == token(second) {
		t.Errorf("two runs print one token: %s", first)
	}
	for _, link := range []string{first, second} {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
		resp, err := c.Get(link)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "<h1>Apps</h1>") {
			t.Errorf("%s: %s\n%s", link, resp.Status, body)
		}
		bare := link[:strings.Index(link, "?")] + "apps"
		resp, err = http.Get(bare)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s without the token: %s", bare, resp.Status)
		}
	}
}
