// Command keysync reads, merges and converts the OTR trust stores of chat
// apps, and speaks the KeySync device-group protocol. See keysync.1.md.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func main() { os.Exit(run()) }

// run executes the command line and returns the exit status.
func run() int {
	root := &cobra.Command{
		Use:           "keysync",
		Short:         "Keep verified OTR identities consistent across chat apps and devices",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newShowCmd(), newConvertCmd(), newWireCmd(), newProtocolCmd())
	if err := root.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "keysync:", err)
		return 1
	}
	return 0
}
