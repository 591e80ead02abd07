package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/keysync/keysync/agent"
	"github.com/keysync/keysync/app"
	"github.com/keysync/keysync/channel/dir"
	"github.com/keysync/keysync/device"
)

// The demo's second act: three devices of another user, each syncing one
// chat app (Pidgin on the laptop, irssi on the server, Kopete on the
// desktop), pair; the laptop's contacts reach the other apps' files, and a
// verification in Pidgin shows up in irssi's and Kopete's.

const (
	demoIRCAccount = "bob@irc.example.org"
	demoContact    = "carol"
)

// demoPidgin writes a Pidgin store with one IRC account and two contacts'
// fingerprints, none verified yet.
func demoPidgin(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	accounts := "<?xml version='1.0' encoding='UTF-8' ?>\n<account version='1.0'>\n\t<account>\n" +
		"\t\t<protocol>prpl-irc</protocol>\n\t\t<name>" + demoIRCAccount + "</name>\n\t</account>\n</account>\n"
	fps := demoContact + "\t" + demoIRCAccount + "\tprpl-irc\t" + strings.Repeat("c0ffee42", 5) + "\t\n" +
		"dave\t" + demoIRCAccount + "\tprpl-irc\t" + strings.Repeat("da7e0001", 5) + "\t\n"
	if err := os.WriteFile(filepath.Join(dir, "accounts.xml"), []byte(accounts), 0o600); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "otr.fingerprints"), []byte(fps), 0o600)
}

// demoTrust returns contact's trust in the store at loc, and whether the
// store has the contact.
func demoTrust(loc app.Location, contact string) (string, bool) {
	m, _, err := loc.Read(nil, nil)
	if err != nil {
		return "", false
	}
	for _, f := range m.Fingerprints {
		if f.Contact == contact {
			return string(f.Trust), true
		}
	}
	return "", false
}

// demoFileLine returns the line of a file naming contact, for printing.
func demoFileLine(path, contact string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(no file)"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, contact+"\t") {
			return strings.ReplaceAll(l, "\t", " | ")
		}
	}
	return "(no row)"
}

func runDemoTrust(ctx context.Context, w io.Writer, tmp, lang string, verbose bool) error {
	fmt.Fprintln(w, "")
	fmt.Fprintln(w, "== Act 2: trust in every app on every device")
	chPath := filepath.Join(tmp, "channel2")
	const address = "bob@example.org"
	apps := filepath.Join(tmp, "apps")
	stores := map[string]string{
		"laptop":  "pidgin:" + filepath.Join(apps, "laptop-pidgin"),
		"server":  "irssi:" + filepath.Join(apps, "server-irssi"),
		"desktop": "kopete:" + filepath.Join(apps, "desktop-kopete"),
	}
	if err := demoPidgin(filepath.Join(apps, "laptop-pidgin")); err != nil {
		return err
	}
	type dev struct {
		name, home string
		loc        app.Location
		stop       context.CancelFunc
		done       chan error
	}
	var devs []*dev
	defer func() {
		for _, d := range devs {
			d.stop()
			<-d.done
		}
	}()
	start := func(name string) (*dev, error) {
		home := filepath.Join(tmp, "act2-"+name)
		if err := device.Create(home, address, "Bob", newCodec()); err != nil {
			return nil, err
		}
		logf := func(string) {}
		if verbose {
			logf = func(s string) { fmt.Fprintf(w, "    [%s] %s\n", name, s) }
		}
		store, syncer, err := startTrustSync([]string{stores[name]}, logf)
		if err != nil {
			return nil, err
		}
		dv, err := device.Open(home, device.Options{Codec: newCodec(), Log: logf, Extension: store})
		if err != nil {
			return nil, err
		}
		ch, err := dir.Open(chPath, dir.Options{})
		if err != nil {
			dv.Close()
			return nil, err
		}
		actx, cancel := context.WithCancel(ctx)
		d := &dev{name: name, home: home, loc: syncer.Apps[0], stop: cancel, done: make(chan error, 1)}
		a := &agent.Agent{Dev: dv, Ch: ch, Home: home, Log: logf}
		runTrustSync(actx, syncer, dv, a)
		go func() {
			err := a.Run(actx)
			ch.Close()
			dv.Close()
			d.done <- err
		}()
		fmt.Fprintf(w, "%s: started, syncing %s\n", name, d.loc.Name)
		return d, nil
	}
	status := func(d *dev) (device.Status, error) {
		r, err := agent.Call(d.home, agent.Request{Op: "status", Lang: lang})
		if err != nil {
			return device.Status{}, err
		}
		return *r.Status, nil
	}
	waitFor := func(what string, ok func() (bool, error)) error {
		for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			done, err := ok()
			if errors.Is(err, agent.ErrNotRunning) {
				done, err = false, nil
			}
			if err != nil {
				return err
			}
			if done {
				return nil
			}
		}
		return fmt.Errorf("demo: timed out waiting for %s", what)
	}
	pair := func(ds ...*dev) error {
		if err := waitFor("the handshake", func() (bool, error) {
			for _, d := range ds {
				if s, err := status(d); err != nil || s.Handshake == nil {
					return false, err
				}
			}
			return true, nil
		}); err != nil {
			return err
		}
		for _, d := range ds {
			s, err := status(d)
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "%s: trustwords %s; the user accepts\n", d.name, s.Handshake.Trustwords)
			if _, err := agent.Call(d.home, agent.Request{Op: "accept"}); err != nil {
				return err
			}
		}
		return nil
	}
	grouped := func() (bool, error) {
		var keys []string
		for i, d := range devs {
			s, err := status(d)
			if err != nil || s.State != "Grouped" || s.Outbox > 0 || (i > 0 && !slices.Equal(keys, s.Group.Keys)) {
				return false, err
			}
			keys = s.Group.Keys
		}
		return true, nil
	}
	for _, name := range []string{"laptop", "server"} {
		d, err := start(name)
		if err != nil {
			return err
		}
		devs = append(devs, d)
	}
	if err := pair(devs[0], devs[1]); err != nil {
		return err
	}
	if err := waitFor("laptop and server grouped", grouped); err != nil {
		return err
	}
	desktop, err := start("desktop")
	if err != nil {
		return err
	}
	devs = append(devs, desktop)
	if err := pair(desktop, devs[0]); err != nil {
		return err
	}
	if err := waitFor("three in the group", grouped); err != nil {
		return err
	}
	laptop, server := devs[0], devs[1]
	files := map[*dev]string{laptop: "otr.fingerprints", server: "otr.fp", desktop: "fingerprints"}
	showRows := func() {
		for _, d := range devs {
			fmt.Fprintf(w, "  %-7s %-7s %s\n", d.name, d.loc.App.Name()+":", demoFileLine(filepath.Join(d.loc.Dir, files[d]), demoContact))
		}
	}
	if err := waitFor("the laptop's contacts in every app", func() (bool, error) {
		for _, d := range devs {
			if _, ok := demoTrust(d.loc, demoContact); !ok {
				return false, nil
			}
		}
		return true, nil
	}); err != nil {
		return err
	}
	fmt.Fprintf(w, "--- %s's fingerprint in each app's file, after pairing:\n", demoContact)
	showRows()

	fmt.Fprintf(w, "laptop: the user verifies %s in Pidgin\n", demoContact)
	path := filepath.Join(laptop.loc.Dir, "otr.fingerprints")
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	lines := strings.Split(string(b), "\n")
	for i, l := range lines {
		if f := strings.Split(l, "\t"); len(f) == 5 && f[0] == demoContact {
			f[4] = "verified"
			lines[i] = strings.Join(f, "\t")
		}
	}
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		return err
	}
	began := time.Now()
	if err := waitFor("the verification in every app", func() (bool, error) {
		for _, d := range devs {
			if tr, _ := demoTrust(d.loc, demoContact); tr == "" {
				return false, nil
			}
		}
		return true, nil
	}); err != nil {
		return err
	}
	fmt.Fprintf(w, "--- %.1f s later, in each app's file:\n", time.Since(began).Seconds())
	showRows()
	s, err := status(server)
	if err != nil {
		return err
	}
	var b2 strings.Builder
	printTrust(&b2, s.Trust)
	fmt.Fprintf(w, "--- server shows:\n")
	for _, l := range strings.Split(strings.TrimRight(b2.String(), "\n"), "\n") {
		fmt.Fprintf(w, "  %s\n", l)
	}
	fmt.Fprintln(w, "== done: a verification in Pidgin on the laptop is in irssi on the server and in Kopete on the desktop")
	return nil
}
