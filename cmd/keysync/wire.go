package main

import "github.com/spf13/cobra"

// newWireCmd: placeholder until the wire codec lands (issue 3).
func newWireCmd() *cobra.Command {
	return &cobra.Command{Use: "wire", Short: "Decode and encode KeySync wire messages", Hidden: true}
}
