package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/keysync/keysync"
	"github.com/keysync/keysync/agent"
	"github.com/keysync/keysync/app"
	"github.com/keysync/keysync/device"
	"github.com/keysync/keysync/trustsync"
)

// startTrustSync readies trustsync for an agent: the syncer of the apps
// syncs (APP[:DIR] each), and the store the device applies updates with.
func startTrustSync(syncs []string, logf func(string)) (*trustsync.Store, *trustsync.Syncer, error) {
	locs, err := parseLocations("sync", syncs)
	if err != nil {
		return nil, nil, err
	}
	s := &trustsync.Syncer{Apps: locs, Log: logf, Running: runningApp}
	st := &trustsync.Store{Log: logf, Applied: s.Wake}
	return st, s, nil
}

// runningApp reports whether a's program runs (app.Running), under what
// name. When the processes cannot be listed it says so as the name, and
// the write waits: a running libotr app would undo it.
func runningApp(a app.App) (string, bool) {
	r, err := app.Running([]app.App{a})
	if err != nil {
		return "unknown: " + err.Error(), true
	}
	if len(r) == 0 {
		return "", false
	}
	return r[0].Process, true
}

// runTrustSync runs the syncer with the agent's device until ctx is done.
func runTrustSync(ctx context.Context, s *trustsync.Syncer, d *device.Device, a *agent.Agent) {
	s.Dev = d // the agent sends what it queues: every transaction wakes it (Device.Changed)
	a.Ops = map[string]func([]string) error{trustsync.OpResolve: func(args []string) error {
		acct, fpr, err := resolveArgs(args)
		if err != nil {
			return err
		}
		return trustsync.Resolve(s.Dev, acct, fpr)
	}}
	go func() {
		if err := s.Run(ctx); err != nil {
			s.Log("trustsync stops: " + err.Error())
		}
	}()
}

// resolveArgs parses ACCOUNT FINGERPRINT.
func resolveArgs(args []string) (keysync.Account, string, error) {
	if len(args) != 2 {
		return keysync.Account{}, "", usageErrorf("trust resolve needs ACCOUNT (protocol:address) and FINGERPRINT")
	}
	p, addr, ok := strings.Cut(args[0], ":")
	if !ok || p == "" || addr == "" {
		return keysync.Account{}, "", usageErrorf("account %q: want PROTOCOL:ADDRESS, such as xmpp:me@example.org", args[0])
	}
	fpr := strings.ToLower(strings.ReplaceAll(args[1], " ", ""))
	if len(fpr) != 40 || strings.Trim(fpr, "0123456789abcdef") != "" {
		return keysync.Account{}, "", usageErrorf("fingerprint %q: want 40 hex digits", args[1])
	}
	return keysync.Account{Protocol: p, Address: addr}, fpr, nil
}

// newTrustCmd returns `keysync trust resolve`.
func newTrustCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "trust",
		Short: "Settle what the group's trust replica holds",
	}
	var home string
	r := &cobra.Command{
		Use:   "resolve [--home DIR] ACCOUNT FINGERPRINT",
		Short: "Settle a key conflict: FINGERPRINT is ACCOUNT's key on every device",
		Long: "Settle a key conflict that status lists: of the private keys the group\n" +
			"holds for ACCOUNT (protocol:address, as status shows it), the one with\n" +
			"FINGERPRINT (40 hex digits; spaces allowed) becomes the account's key.\n" +
			"The decision syncs to every device; apps without a key for the account\n" +
			"get it; no app's existing key is replaced. Through the running agent,\n" +
			"or queued in the store to be sent when the agent starts.",
		Args: cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			acct, fpr, err := resolveArgs(args)
			if err != nil {
				return err
			}
			if err := trustsync.ResolveHome(home, device.Options{Codec: newCodec()}, acct, fpr); err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "resolved: %s has key %s on every device\n", acct, fpr)
			return nil
		},
	}
	addHomeFlag(r, &home)
	c.AddCommand(r)
	return c
}

// printTrust prints the trust part of a status for people.
func printTrust(w io.Writer, raw json.RawMessage) {
	if len(raw) == 0 {
		return
	}
	var st trustsync.Status
	if json.Unmarshal(raw, &st) != nil {
		return
	}
	synced := ""
	if !st.Synced {
		synced = " (waiting for the group's replica)"
	}
	fmt.Fprintf(w, "trust:      %d fingerprints, %d keys, %d OpenPGP keys%s\n", st.Fingerprints, st.Keys, st.OpenPGPKeys, synced)
	for _, a := range st.Apps {
		line := a.State
		switch {
		case a.Process != "":
			line += " (" + a.Process + ")"
		case a.Error != "":
			line += ": " + a.Error
		}
		fmt.Fprintf(w, "  app %s: %s\n", a.Source, line)
	}
	for _, c := range st.Conflicts {
		fmt.Fprintf(w, "  conflict: %s has %d keys: %s (keysync trust resolve %s FINGERPRINT)\n", c.Account, len(c.Fprs),
			strings.Join(c.Fprs, " "), c.Account)
	}
}
