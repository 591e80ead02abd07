package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/keysync/keysync/app"
	"github.com/keysync/keysync/internal/atomicfile"
	"github.com/spf13/cobra"
)

// newShowCmd returns `keysync show`, which prints the merged trust model of
// one or more app stores.
func newShowCmd() *cobra.Command {
	var froms []string
	var asJSON bool
	var wait time.Duration
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
			return runShow(cmd.OutOrStdout(), cmd.ErrOrStderr(), froms, asJSON, wait, secretsOf(cmd).prompt())
		},
	}
	cmd.Flags().StringArrayVar(&froms, "from", nil, "store to read, as APP or APP:DIR (repeatable)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of text")
	addWaitFlag(cmd, &wait)
	return cmd
}

// newConvertCmd returns `keysync convert`, which merges app stores and
// writes the result into other apps' stores.
func newConvertCmd() *cobra.Command {
	var o writeOptions
	cmd := &cobra.Command{
		Use:   "convert --from APP[:DIR] ... --to APP[:DIR] ... [--prefer APP[:DIR]] [--dry-run] [--force]",
		Short: "Merge app stores and write the result into other apps' stores",
		Long: "Read every --from store and the existing store of every --to app, merge\n" +
			"them (the --from stores first, in the order given; the targets' own\n" +
			"stores last) and write the result into every --to app, atomically, keeping\n" +
			"a backup of each file replaced. If the stores disagree on a private key or\n" +
			"a trust value, nothing is written unless --prefer names the store whose\n" +
			"side wins. --dry-run prints what would change without writing. The\n" +
			"folders are locked while keysync reads and writes them; a target app that\n" +
			"is running, or a read-only target file, stops the write unless --force.\n" +
			"Apps: " + strings.Join(app.Names(), ", ") + ".",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.secrets = secretsOf(cmd)
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
			return runWrite(cmd.OutOrStdout(), cmd.ErrOrStderr(), froms, tos, o)
		},
	}
	cmd.Flags().StringArrayVar(&o.froms, "from", nil, "store to read, as APP or APP:DIR (repeatable)")
	cmd.Flags().StringArrayVar(&o.tos, "to", nil, "store to write, as APP or APP:DIR (repeatable)")
	o.addFlags(cmd)
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

func runShow(stdout, stderr io.Writer, froms []string, asJSON bool, wait time.Duration, prompt app.Prompt) error {
	if len(froms) == 0 {
		return usageErrorf("show: name at least one store with --from APP[:DIR]")
	}
	locs, err := parseLocations("from", froms)
	if err != nil {
		return err
	}
	lock, err := lockStores(stderr, locs, nil, wait)
	if err != nil {
		return err
	}
	defer lock.Unlock()
	r, err := app.Show(locs, prompt)
	if err != nil {
		return err
	}
	if asJSON {
		return r.WriteJSON(stdout)
	}
	return writeReport(stdout, r)
}

// writeOptions are the flags of `keysync convert` and `keysync sync`.
type writeOptions struct {
	froms, tos []string
	prefer     string
	dryRun     bool
	secrets    *secrets // the flags of encrypted stores (chatsecure.go)
	force      bool
	wait       time.Duration
}

// addFlags adds the flags convert and sync share.
func (o *writeOptions) addFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.prefer, "prefer", "", "store whose side wins conflicts, as APP or APP:DIR")
	cmd.Flags().BoolVar(&o.dryRun, "dry-run", false, "print what would change, write nothing")
	cmd.Flags().BoolVar(&o.force, "force", false, "write even into read-only files and the files of a running app")
	addWaitFlag(cmd, &o.wait)
}

// addWaitFlag adds --wait, how long to wait for another keysync's lock.
func addWaitFlag(cmd *cobra.Command, wait *time.Duration) {
	cmd.Flags().DurationVar(wait, "wait", atomicfile.DefaultWait, "how long to wait for another keysync using the same folders")
}

// lockStores locks the folders of the stores read and written and prints
// what recovery did in them.
func lockStores(stderr io.Writer, read, write []app.Location, wait time.Duration) (*app.Locked, error) {
	lock, err := app.LockStores(read, write, wait)
	if lock != nil {
		for _, n := range lock.Notes {
			fmt.Fprintf(stderr, "note: %s\n", n)
		}
	}
	if errors.Is(err, atomicfile.ErrLocked) {
		return nil, fmt.Errorf("%w (another keysync is using the folder; try again when it is done, or wait longer with --wait)", err)
	}
	return lock, err
}

// checkNotRunning refuses to write the stores of tos while their apps run,
// unless force: a running chat app rewrites its files from memory and
// would undo the write. A dry run, or a forced one, only notes it.
func checkNotRunning(stderr io.Writer, tos []app.Location, o writeOptions) error {
	var apps []app.App
	for _, t := range tos {
		apps = append(apps, t.App)
	}
	running, err := app.Running(apps)
	if err != nil {
		fmt.Fprintf(stderr, "note: %v: make sure the apps written (%s) are not running\n", err, appNames(tos))
		return nil
	}
	if len(running) == 0 {
		return nil
	}
	var names []string
	for _, r := range running {
		names = append(names, fmt.Sprintf("%s is running (process %s)", r.App, r.Process))
	}
	msg := strings.Join(names, "; ")
	if o.dryRun || o.force {
		fmt.Fprintf(stderr, "note: %s: it may undo the change when it next saves its files\n", msg)
		return nil
	}
	return fmt.Errorf("%s: quit it before keysync writes its files (a running app rewrites them from memory and would undo the change), or use --force", msg)
}

// appNames lists the apps of locs, each once.
func appNames(locs []app.Location) string {
	var names []string
	for _, l := range locs {
		if !slices.Contains(names, l.App.Name()) {
			names = append(names, l.App.Name())
		}
	}
	return strings.Join(names, ", ")
}

// runWrite reads froms and tos, merges them and writes the result into
// every store of tos: convert, and with froms and tos the same, sync.
func runWrite(stdout, stderr io.Writer, froms, tos []app.Location, o writeOptions) error {
	var err error
	prefer := ""
	if o.prefer != "" {
		all := append([]app.Location(nil), froms...)
		for _, t := range tos {
			if !slices.ContainsFunc(froms, func(f app.Location) bool { return f.Name == t.Name }) {
				all = append(all, t)
			}
		}
		if prefer, err = app.ResolvePrefer(o.prefer, all); err != nil {
			return fmt.Errorf("--prefer: %w", err)
		}
	}
	if err := checkNotRunning(stderr, tos, o); err != nil {
		return err
	}
	lock, err := lockStores(stderr, froms, tos, o.wait)
	if err != nil {
		return err
	}
	defer lock.Unlock()

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
	prepared, err := conv.Plan.Prepare(conv.Seen, o.force)
	if errors.Is(err, atomicfile.ErrReadOnly) {
		return fmt.Errorf("%w; --force replaces it", err)
	}
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
	if err := lock.Unlock(); err != nil {
		return err
	}
	return o.secrets.deliver(stdout, tos, results)
}
