package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/keysync/keysync/app"
	"github.com/spf13/cobra"
)

// newAppsCmd returns `keysync apps`, which lists the supported apps and
// what their default folders hold on this system.
func newAppsCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "apps [--json]",
		Short: "List the supported apps, their default folders and what they hold",
		Long: "For every supported app, print its default folder on this system, whether\n" +
			"its store is there, and what the store holds: local accounts, private\n" +
			"keys and contacts' fingerprints, as counts (never key material), and\n" +
			"whether the app is running now. A store that needs a password is not\n" +
			"opened. Nothing is written.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runApps(cmd.OutOrStdout(), cmd.ErrOrStderr(), asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of text")
	return cmd
}

func runApps(stdout, stderr io.Writer, asJSON bool) error {
	found, err := app.Detect()
	if err != nil {
		fmt.Fprintf(stderr, "note: %v\n", err)
	}
	if asJSON {
		e := json.NewEncoder(stdout)
		e.SetIndent("", "  ")
		return e.Encode(found)
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "APP\tFOLDER\tSTORE")
	for _, d := range found {
		folder, store := quoteIfNeeded(d.Dir), "not found"
		switch {
		case d.Dir == "":
			folder, store = "-", "no default folder here"
		case d.Problem != "":
			store = "unreadable: " + d.Problem
		case d.Found:
			store = fmt.Sprintf("%s, %s, %s", counted(d.Accounts, "account"), counted(d.Keys, "key"), counted(d.Fingerprints, "fingerprint"))
		}
		if d.Running {
			store += " (running)"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\n", d.App, folder, strings.ReplaceAll(store, "\n", " "))
	}
	return w.Flush()
}

// counted says "1 thing" or "n things".
func counted(n int, thing string) string {
	return fmt.Sprintf("%d %s", n, plural(n, thing, thing+"s"))
}
