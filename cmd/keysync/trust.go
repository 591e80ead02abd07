package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/keysync/keysync/app"
	"github.com/keysync/keysync/internal/atomicfile"
	"github.com/spf13/cobra"
)

// newShowCmd returns `keysync show`, which prints the merged trust model of
// one or more app stores.
func newShowCmd() *cobra.Command {
	var froms []string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show --from APP[:DIR] ... [--json]",
		Short: "Print the merged trust model of app stores",
		Long: "Read the OTR trust store of every --from app (in DIR, or the app's\n" +
			"default folder), merge them and print, per local account, its app\n" +
			"spellings, private key fingerprints, instance tags and the contacts'\n" +
			"fingerprints with their trust; then the conflicts between the stores and\n" +
			"the notices of the readers. Private key material is never printed.\n" +
			"Apps: " + strings.Join(app.Names(), ", ") + ".",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runShow(cmd.OutOrStdout(), froms, asJSON, secretsOf(cmd).prompt())
		},
	}
	cmd.Flags().StringArrayVar(&froms, "from", nil, "store to read, as APP or APP:DIR (repeatable)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of text")
	return cmd
}

// newConvertCmd returns `keysync convert`, which merges app stores and
// writes the result into other apps' stores.
func newConvertCmd() *cobra.Command {
	var o convertOptions
	cmd := &cobra.Command{
		Use:   "convert --from APP[:DIR] ... --to APP[:DIR] ... [--prefer APP[:DIR]] [--dry-run]",
		Short: "Merge app stores and write the result into other apps' stores",
		Long: "Read every --from store and the existing store of every --to app, merge\n" +
			"them (the --from stores first, in the order given; the targets' own\n" +
			"stores last) and write the result into every --to app, atomically, keeping\n" +
			"a backup of each file replaced. If the stores disagree on a private key or\n" +
			"a trust value, nothing is written unless --prefer names the store whose\n" +
			"side wins. --dry-run prints what would change without writing.\n" +
			"Apps: " + strings.Join(app.Names(), ", ") + ".",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.secrets = secretsOf(cmd)
			return runConvert(cmd.OutOrStdout(), cmd.ErrOrStderr(), o)
		},
	}
	cmd.Flags().StringArrayVar(&o.froms, "from", nil, "store to read, as APP or APP:DIR (repeatable)")
	cmd.Flags().StringArrayVar(&o.tos, "to", nil, "store to write, as APP or APP:DIR (repeatable)")
	cmd.Flags().StringVar(&o.prefer, "prefer", "", "store whose side wins conflicts, as APP or APP:DIR")
	cmd.Flags().BoolVar(&o.dryRun, "dry-run", false, "print what would change, write nothing")
	return cmd
}

// parseLocations parses every argument of one flag, refusing duplicates.
func parseLocations(flag string, args []string) ([]app.Location, error) {
	locs, err := app.ParseLocations(args)
	if err != nil {
		return nil, fmt.Errorf("--%s: %w", flag, err)
	}
	return locs, nil
}

func runShow(w io.Writer, froms []string, asJSON bool, prompt app.Prompt) error {
	if len(froms) == 0 {
		return usageErrorf("show: name at least one store with --from APP[:DIR]")
	}
	locs, err := parseLocations("from", froms)
	if err != nil {
		return err
	}
	r, err := app.Show(locs, prompt)
	if err != nil {
		return err
	}
	if asJSON {
		return r.WriteJSON(w)
	}
	return writeReport(w, r)
}

// convertOptions are the flags of `keysync convert`.
type convertOptions struct {
	froms, tos []string
	prefer     string
	dryRun     bool
	secrets    *secrets // the flags of encrypted stores (chatsecure.go)
}

func runConvert(stdout, stderr io.Writer, o convertOptions) error {
	if len(o.froms) == 0 || len(o.tos) == 0 {
		return usageErrorf("convert: name at least one --from APP[:DIR] and one --to APP[:DIR]")
	}
	froms, err := parseLocations("from", o.froms)
	if err != nil {
		return err
	}
	tos, err := parseLocations("to", o.tos)
	if err != nil {
		return err
	}
	prefer := ""
	if o.prefer != "" {
		if prefer, err = app.ResolvePrefer(o.prefer, append(append([]app.Location(nil), froms...), tos...)); err != nil {
			return fmt.Errorf("--prefer: %w", err)
		}
	}

	if err := o.secrets.prepare(tos); err != nil {
		return err
	}
	conv, err := app.Convert(froms, tos, prefer, o.secrets.prompt())
	if err != nil {
		return err
	}
	if err := conv.Err(); err != nil {
		writeNotices(stderr, conv.Notices)
		fmt.Fprintln(stderr, "conflicts:")
		for _, c := range conv.Conflicts {
			writeConflict(stderr, app.NewConflictReport(c))
		}
		return err
	}
	prepared, err := conv.Plan.Prepare()
	if err != nil {
		return err
	}
	writeNotices(stderr, conv.Notices)
	for _, c := range conv.Conflicts {
		fmt.Fprintf(stderr, "note: %s\n", conflictLine(app.NewConflictReport(c)))
	}
	if o.dryRun {
		for _, c := range prepared.Changes {
			if err := writeDryRun(stdout, c); err != nil {
				return err
			}
		}
		for _, c := range prepared.Commands {
			fmt.Fprintf(stdout, "would run %s%s\n", displayLine(c.String()), summary(c.Summary))
		}
		return nil
	}
	results, err := prepared.Apply()
	if err != nil {
		return err
	}
	for _, r := range results {
		line := map[atomicfile.Op]string{
			atomicfile.Unchanged: "unchanged ", atomicfile.Create: "created ", atomicfile.Replace: "replaced ",
		}[r.Op] + r.Path + summary(r.Summary)
		if r.Backup != "" {
			line += ", backup " + r.Backup
		}
		fmt.Fprintln(stdout, line)
	}
	for _, c := range prepared.Commands {
		fmt.Fprintf(stdout, "ran %s%s\n", displayLine(c.String()), summary(c.Summary))
	}
	return o.secrets.deliver(stdout, tos, results)
}
