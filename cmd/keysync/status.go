package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/keysync/keysync/agent"
	"github.com/keysync/keysync/device"
	"github.com/keysync/keysync/trustsync"
	"github.com/keysync/keysync/trustwords"
)

// deviceStatus asks the running agent of home for its status, or reads it
// from the store when no agent runs.
// The store is opened read-only: status never writes to it.
func deviceStatus(home, lang string) (device.Status, error) {
	return agent.Status(home, lang, device.Options{Codec: newCodec(), Extension: &trustsync.Store{}, ReadOnly: true})
}

// notStarted is the state status shows for a device whose machine never
// started (device.Status has ""): in the text and in the JSON.
const notStarted = "not started"

func checkLang(lang string) error {
	if lang != "" && !slices.Contains(trustwords.Languages(), strings.ToLower(lang)) {
		return usageErrorf("--lang %q: want one of %s", lang, strings.Join(trustwords.Languages(), ", "))
	}
	return nil
}

// newStatusCmd returns `keysync status`.
func newStatusCmd() *cobra.Command {
	var home, lang string
	var asJSON bool
	c := &cobra.Command{
		Use:   "status [--home DIR] [--json] [--lang LANG]",
		Short: "Show the device's state, keys, group and pending handshake",
		Long: "Show the device's state, its own identity with its key, the group's keys\n" +
			"and members (their device keys), and a pending handshake with its\n" +
			"trustwords, short and full, in LANG (ca de en es fr nl tr). It asks the\n" +
			"running agent, else reads the store (read-only). --json prints a stable\n" +
			"object: state (\"not started\" before the agent's first start, as in\n" +
			"the text), running, identities, device_key, group {grouped, keys, members},\n" +
			"handshake {kind, own, partner, accepted, lang, trustwords, trustwords_full}\n" +
			"(only while one is pending), last_signal, position, outbox.",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := checkLang(lang); err != nil {
				return err
			}
			s, err := deviceStatus(home, lang)
			if err != nil {
				return err
			}
			if asJSON {
				if s.State == "" {
					s.State = notStarted
				}
				e := json.NewEncoder(c.OutOrStdout())
				e.SetIndent("", "  ")
				return e.Encode(s)
			}
			printStatus(c.OutOrStdout(), s)
			return nil
		},
	}
	addHomeFlag(c, &home)
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	c.Flags().StringVar(&lang, "lang", "en", "the trustwords' language")
	return c
}

// printStatus prints s for people.
func printStatus(w io.Writer, s device.Status) {
	state := s.State
	if state == "" {
		state = notStarted
	}
	if !s.Running && s.State != "" {
		state += " (sync off)"
	}
	fmt.Fprintf(w, "state:      %s\n", state)
	for _, id := range s.Identities {
		fmt.Fprintf(w, "identity:   %s", id.Address)
		if id.Name != "" {
			fmt.Fprintf(w, " (%s)", id.Name)
		}
		fmt.Fprintf(w, " key %s\n", id.Fpr)
	}
	fmt.Fprintf(w, "device key: %s\n", s.DeviceKey)
	if s.Group.Grouped {
		fmt.Fprintf(w, "group keys: %s\n", strings.Join(s.Group.Keys, " "))
		fmt.Fprintf(w, "members:    %d device keys: %s\n", len(s.Group.Members), strings.Join(s.Group.Members, " "))
	} else {
		fmt.Fprintf(w, "group:      none\n")
	}
	if h := s.Handshake; h != nil {
		fmt.Fprintf(w, "handshake:  %s with key %s", h.Kind, h.Partner)
		if h.Accepted {
			fmt.Fprint(w, " (accepted here; waiting for the other side)")
		}
		fmt.Fprintf(w, "\ntrustwords: %s\n      full: %s\n", h.Trustwords, h.TrustwordsFull)
	}
	if s.Outbox > 0 {
		fmt.Fprintf(w, "outbox:     %d messages not sent yet\n", s.Outbox)
	}
	printTrust(w, s.Trust)
}

// newHandshakeCmd returns `keysync handshake accept|reject|cancel`.
func newHandshakeCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "handshake",
		Short: "Answer the pending handshake of the running agent",
	}
	for _, a := range []struct{ op, short string }{
		{"accept", "The trustwords match: join or form the group"},
		{"reject", "Never with this device: switches sync off"},
		{"cancel", "Not now: the negotiation rolls back, sync stays on"},
	} {
		c.AddCommand(controlCmd(a.op, a.op, a.short))
	}
	return c
}

// newGroupCmd returns `keysync group leave`.
func newGroupCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "group",
		Short: "Manage the device group of the running agent",
	}
	c.AddCommand(controlCmd("leave", "leave", "Leave the device group: the others reset the group key"))
	return c
}

// controlCmd returns a command that sends op to the running agent.
func controlCmd(name, op, short string) *cobra.Command {
	var home string
	c := &cobra.Command{
		Use:   name + " [--home DIR]",
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			resp, err := agent.Call(home, agent.Request{Op: op})
			if err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "%s: done; state %s\n", name, resp.Status.State)
			return nil
		},
	}
	addHomeFlag(c, &home)
	return c
}
