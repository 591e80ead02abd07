package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/keysync/keysync/app"
	"github.com/spf13/cobra"
)

// newSyncCmd returns `keysync sync`, which merges app stores and writes the
// result back into every one of them.
func newSyncCmd() *cobra.Command {
	var o writeOptions
	cmd := &cobra.Command{
		Use:   "sync APP[:DIR] APP[:DIR] ... [--prefer APP[:DIR]] [--dry-run] [--force]",
		Short: "Merge app stores and write the result back into all of them",
		Long: "Read every store named (in DIR, or the app's default folder), merge them\n" +
			"in the order given and write the result back into every one, as convert\n" +
			"does with the same stores as --from and --to: the same conflict rules,\n" +
			"--prefer, --dry-run, locking, backups and recovery. keysync refuses to\n" +
			"write the files of an app that is running (it would rewrite them from\n" +
			"memory and undo the change) or a read-only file, unless --force.\n" +
			"Apps: " + strings.Join(app.Names(), ", ") + ".",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 2 {
				return usageErrorf("sync: name at least two stores, as APP[:DIR] APP[:DIR]")
			}
			return nil
		},
		ValidArgsFunction: completeStore,
		RunE: func(cmd *cobra.Command, args []string) error {
			locs, err := app.ParseLocations(args)
			if err != nil {
				return err // as for convert's --from and --to
			}
			o.secrets = secretsOf(cmd)
			err = runWrite(cmd.OutOrStdout(), cmd.ErrOrStderr(), locs, locs, o)
			if errors.Is(err, app.ErrNoStore) {
				return fmt.Errorf("%w; sync reads every store it names: to fill a new one, run keysync convert --from STORE --to it", err)
			}
			return err
		},
	}
	o.addFlags(cmd)
	return cmd
}
