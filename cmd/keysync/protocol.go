package main

import (
	"github.com/keysync/keysync/fsm"
	"github.com/spf13/cobra"
)

// newProtocolCmd returns `keysync protocol`, which prints the KeySync state
// machine of fsm.Embedded as a table of handler paths or as a Graphviz graph.
func newProtocolCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "protocol",
		Short: "Show the KeySync state machine",
		Long: "Show the KeySync state machine (doc/protocol.md §8 with D1 and D2) that keysync runs.\n\n" +
			"table prints one tab-separated line per path through a handler:\n" +
			"STATE EVENT CONDITIONS STEPS NEXT. dot prints the state graph in Graphviz DOT.",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "table",
		Short: "Print every path through every KeySync handler, tab-separated",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return fsm.Embedded().KeySync().WriteTable(cmd.OutOrStdout())
		},
	}, &cobra.Command{
		Use:   "dot",
		Short: "Print the KeySync state graph in Graphviz DOT",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return fsm.Embedded().KeySync().WriteDot(cmd.OutOrStdout())
		},
	})
	return cmd
}
