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

	"github.com/spf13/cobra"

	"github.com/keysync/keysync/agent"
	"github.com/keysync/keysync/channel/dir"
	"github.com/keysync/keysync/device"
)

// newDemoCmd returns `keysync demo`: three devices of one user on a
// temporary folder channel form a group, a third joins, one leaves.
func newDemoCmd() *cobra.Command {
	var keep, verbose bool
	var lang string
	c := &cobra.Command{
		Use:   "demo [--lang LANG] [--keep] [--verbose]",
		Short: "A tour: three devices form a group, one joins, one leaves",
		Long: "Run three devices of one user (laptop, phone, tablet), each with its own\n" +
			"store and agent, on a temporary folder channel, in this one process:\n" +
			"laptop and phone pair (both show the same trustwords and accept), the\n" +
			"tablet joins (it and the laptop accept), then the phone leaves and the\n" +
			"other two reset the group key. It prints what each device shows.\n" +
			"In a second act three devices sync Pidgin, irssi and Kopete stores in\n" +
			"temporary folders: a verification in Pidgin shows up in the others' files.\n" +
			"--verbose also prints what the agents log; --keep keeps the folder.",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := checkLang(lang); err != nil {
				return err
			}
			return runDemo(c.Context(), c.OutOrStdout(), lang, keep, verbose)
		},
	}
	c.Flags().StringVar(&lang, "lang", "en", "the trustwords' language")
	c.Flags().BoolVar(&keep, "keep", false, "keep the demo's folder")
	c.Flags().BoolVar(&verbose, "verbose", false, "print the agents' logs")
	return c
}

type demoDevice struct {
	name string
	home string
	stop context.CancelFunc
	done chan error
}

func runDemo(ctx context.Context, w io.Writer, lang string, keep, verbose bool) error {
	if ctx == nil {
		ctx = context.Background()
	}
	tmp, err := os.MkdirTemp("", "keysync-demo-")
	if err != nil {
		return err
	}
	if keep {
		fmt.Fprintf(w, "demo folder: %s\n", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	chPath := filepath.Join(tmp, "channel")
	const address = "alice@example.org"
	start := func(name string) (*demoDevice, error) {
		home := filepath.Join(tmp, name)
		if err := device.Create(home, address, "Alice", newCodec()); err != nil {
			return nil, err
		}
		logf := func(string) {}
		if verbose {
			logf = func(s string) { fmt.Fprintf(w, "    [%s] %s\n", name, s) }
		}
		d, err := device.Open(home, device.Options{Codec: newCodec(), Log: logf})
		if err != nil {
			return nil, err
		}
		ch, err := dir.Open(chPath, dir.Options{})
		if err != nil {
			d.Close()
			return nil, err
		}
		actx, cancel := context.WithCancel(ctx)
		dd := &demoDevice{name: name, home: home, stop: cancel, done: make(chan error, 1)}
		a := &agent.Agent{Dev: d, Ch: ch, Home: home, Log: logf}
		go func() {
			err := a.Run(actx)
			ch.Close()
			d.Close()
			dd.done <- err
		}()
		fmt.Fprintf(w, "%s: started, key %s\n", name, d.Status().Identities[0].Fpr)
		return dd, nil
	}
	var devs []*demoDevice
	defer func() {
		for _, d := range devs {
			d.stop()
			<-d.done
		}
	}()
	status := func(d *demoDevice) (device.Status, error) {
		r, err := agent.Call(d.home, agent.Request{Op: "status", Lang: lang})
		if err != nil {
			return device.Status{}, err
		}
		return *r.Status, nil
	}
	waitFor := func(what string, ok func() (bool, error)) error {
		deadline := time.Now().Add(90 * time.Second)
		for time.Now().Before(deadline) {
			done, err := ok()
			if errors.Is(err, agent.ErrNotRunning) {
				done, err = false, nil // the agent is starting
			}
			if err != nil {
				return err
			}
			if done {
				return nil
			}
			time.Sleep(50 * time.Millisecond)
		}
		return fmt.Errorf("demo: timed out waiting for %s", what)
	}
	show := func(d *demoDevice) error {
		s, err := status(d)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "--- %s shows:\n", d.name)
		var b strings.Builder
		printStatus(&b, s)
		for _, l := range strings.Split(strings.TrimRight(b.String(), "\n"), "\n") {
			fmt.Fprintf(w, "  %s\n", l)
		}
		return nil
	}
	pending := func(ds ...*demoDevice) func() (bool, error) {
		return func() (bool, error) {
			for _, d := range ds {
				s, err := status(d)
				if err != nil || s.Handshake == nil {
					return false, err
				}
			}
			return true, nil
		}
	}
	grouped := func(ds ...*demoDevice) func() (bool, error) {
		return func() (bool, error) {
			var keys []string
			for i, d := range ds {
				s, err := status(d)
				if err != nil || s.State != "Grouped" || s.Outbox > 0 {
					return false, err
				}
				if i > 0 && !slices.Equal(keys, s.Group.Keys) {
					return false, nil
				}
				keys = s.Group.Keys
			}
			return true, nil
		}
	}
	accept := func(d *demoDevice) error {
		fmt.Fprintf(w, "%s: the user compares the trustwords and accepts\n", d.name)
		_, err := agent.Call(d.home, agent.Request{Op: "accept"})
		return err
	}

	fmt.Fprintln(w, "== 1. laptop and phone pair")
	for _, name := range []string{"laptop", "phone"} {
		d, err := start(name)
		if err != nil {
			return err
		}
		devs = append(devs, d)
	}
	laptop, phone := devs[0], devs[1]
	if err := waitFor("the handshake", pending(laptop, phone)); err != nil {
		return err
	}
	for _, d := range []*demoDevice{laptop, phone} {
		if err := show(d); err != nil {
			return err
		}
	}
	for _, d := range []*demoDevice{laptop, phone} {
		if err := accept(d); err != nil {
			return err
		}
	}
	if err := waitFor("the group", grouped(laptop, phone)); err != nil {
		return err
	}
	for _, d := range []*demoDevice{laptop, phone} {
		if err := show(d); err != nil {
			return err
		}
	}

	fmt.Fprintln(w, "== 2. the tablet joins")
	tablet, err := start("tablet")
	if err != nil {
		return err
	}
	devs = append(devs, tablet)
	if err := waitFor("the join handshake", pending(tablet, laptop)); err != nil {
		return err
	}
	for _, d := range []*demoDevice{tablet, laptop} {
		if err := show(d); err != nil {
			return err
		}
	}
	for _, d := range []*demoDevice{tablet, laptop} {
		if err := accept(d); err != nil {
			return err
		}
	}
	if err := waitFor("three in the group", grouped(laptop, phone, tablet)); err != nil {
		return err
	}
	for _, d := range devs {
		if err := show(d); err != nil {
			return err
		}
	}
	old, err := status(laptop)
	if err != nil {
		return err
	}

	fmt.Fprintln(w, "== 3. the phone leaves; laptop and tablet reset the group key")
	if _, err := agent.Call(phone.home, agent.Request{Op: "leave"}); err != nil {
		return err
	}
	if err := waitFor("a new group key", func() (bool, error) {
		ok, err := grouped(laptop, tablet)()
		if !ok || err != nil {
			return ok, err
		}
		s, err := status(laptop)
		return err == nil && !slices.Equal(s.Group.Keys, old.Group.Keys), err
	}); err != nil {
		return err
	}
	for _, d := range devs {
		if err := show(d); err != nil {
			return err
		}
	}
	fmt.Fprintln(w, "== done: laptop and tablet share a new group key the phone does not have")
	return runDemoTrust(ctx, w, tmp, lang, verbose)
}
