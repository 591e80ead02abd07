package main

import "github.com/spf13/cobra"

// newProtocolCmd: placeholder until the state machine lands (issue 4).
func newProtocolCmd() *cobra.Command {
	return &cobra.Command{Use: "protocol", Short: "Show the KeySync state machine", Hidden: true}
}
