// Command keysync reads, merges and converts the OTR trust stores of chat
// apps, and speaks the KeySync device-group protocol. Its manual is
// keysync.1, made from keysync.1.md and the command tree by go generate.
package main

//go:generate env KEYSYNC_UPDATE_MAN=1 go test -count=1 -run ^TestManPage$ .

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

func main() { os.Exit(run()) }

// run executes the command line and returns the exit status.
func run() int {
	return execute(newRootCmd(), os.Args[1:], os.Stderr)
}

// execute runs root with args, prints an error on stderr, and returns the
// exit status (see exitStatus). Every error cobra reports before a
// command's own RunE starts — an unknown flag, command or argument, a
// missing required flag — is a usage error.
func execute(root *cobra.Command, args []string, stderr io.Writer) int {
	started := false
	walk(root, func(c *cobra.Command) {
		if runE := c.RunE; runE != nil {
			c.RunE = func(c *cobra.Command, args []string) error {
				started = true
				return runE(c, args)
			}
		}
	})
	root.SetArgs(args)
	cmd, err := root.ExecuteC()
	if err == nil {
		return exitOK
	}
	if !started {
		err = usageError{err}
	}
	fmt.Fprintln(stderr, "keysync:", err)
	status := exitStatus(err)
	if status == exitUsage {
		fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
	}
	return status
}

// newRootCmd returns the keysync command tree.
func newRootCmd() *cobra.Command {
	// Commands and flags are listed, in help and the manual, in the order
	// they are added.
	cobra.EnableCommandSorting = false
	root := &cobra.Command{
		Use:           "keysync",
		Short:         "Keep verified OTR identities consistent across chat apps and devices",
		Version:       buildVersion(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.Flags().Bool("version", false, "print keysync's version and exit")
	root.SetVersionTemplate("{{.Version}}\n")
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetHelpCommand(newHelpCmd())
	root.SetFlagErrorFunc(unknownFlag)
	root.AddCommand(newShowCmd(), newConvertCmd(), newSyncCmd(), newAppsCmd(), newWireCmd(), newProtocolCmd(),
		newVersionCmd(), newCompletionCmd())
	addSecretFlags(root)
	root.AddCommand(newInitCmd(), newAgentCmd(), newStatusCmd(), newHandshakeCmd(), newGroupCmd(), newTrustCmd(), newDemoCmd())
	root.AddCommand(newUICmd())
	walk(root, func(c *cobra.Command) {
		c.Flags().SortFlags = false
		c.PersistentFlags().SortFlags = false
		if c.HasSubCommands() && !c.Runnable() {
			makeGroup(c)
		}
	})
	registerCompletions(root)
	return root
}

// makeGroup makes c, a command that only holds other commands, refuse an
// unknown command with a suggestion and a missing one with a list of what
// it holds (cobra would print c's help and exit 0).
func makeGroup(c *cobra.Command) {
	c.SuggestionsMinimumDistance = 2
	c.Args = func(c *cobra.Command, args []string) error {
		if len(args) > 0 {
			return unknownCommand(c, args[0])
		}
		return nil
	}
	c.RunE = func(c *cobra.Command, _ []string) error {
		var names []string
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() {
				names = append(names, sub.Name())
			}
		}
		return usageErrorf("%s needs a command: %s", c.CommandPath(), strings.Join(names, ", "))
	}
}

// newHelpCmd returns `keysync help [COMMAND]...`, which, unlike cobra's, is
// an error for an unknown command.
func newHelpCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "help [COMMAND]...",
		Short: "Print help for keysync or one of its commands",
		Args: func(c *cobra.Command, args []string) error {
			_, err := findCommand(c.Root(), args)
			return err
		},
		ValidArgsFunction: func(c *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			parent, err := findCommand(c.Root(), args)
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var out []cobra.Completion
			for _, sub := range parent.Commands() {
				if sub.IsAvailableCommand() && strings.HasPrefix(sub.Name(), toComplete) {
					out = append(out, cobra.CompletionWithDesc(sub.Name(), sub.Short))
				}
			}
			return out, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(c *cobra.Command, args []string) error {
			target, err := findCommand(c.Root(), args)
			if err != nil {
				return err
			}
			return target.Help()
		},
	}
}

// findCommand returns the command that path names below root, such as
// ["protocol", "table"].
func findCommand(root *cobra.Command, path []string) (*cobra.Command, error) {
	c := root
	for _, name := range path {
		var next *cobra.Command
		for _, sub := range c.Commands() {
			if sub.Name() == name || sub.HasAlias(name) {
				next = sub
			}
		}
		if next == nil {
			return nil, unknownCommand(c, name)
		}
		c = next
	}
	return c, nil
}

// walk calls f on c and every command below it, parents first.
func walk(c *cobra.Command, f func(*cobra.Command)) {
	f(c)
	for _, sub := range c.Commands() {
		walk(sub, f)
	}
}
