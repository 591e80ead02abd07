package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/keysync/keysync/app"
	"github.com/spf13/cobra"
)

// storeFlags are the flags whose value names a store, as APP or APP:DIR.
var storeFlags = []string{"from", "to", "prefer", "sync"}

// fixedValues are the values of flags that take one of a few words, for
// completion and the manual.
var fixedValues = map[string][]string{"pdu": {"sync", "distribution"}}

// newCompletionCmd returns `keysync completion SHELL`, which prints a shell
// completion script.
func newCompletionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "completion bash|zsh|fish",
		Short: "Print the shell completion script for bash, zsh or fish",
		Long: "Print the script that makes the shell complete keysync's commands, flags,\n" +
			"app names and their default folders. To load it in every new shell:\n\n" +
			"  bash: keysync completion bash > ~/.local/share/bash-completion/completions/keysync\n" +
			"  zsh:  keysync completion zsh > \"${fpath[1]}/_keysync\"\n" +
			"  fish: keysync completion fish > ~/.config/fish/completions/keysync.fish\n\n" +
			"The bash script needs the bash-completion package.",
		Args: func(c *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErrorf("%s needs one shell: %s", c.CommandPath(), strings.Join(c.ValidArgs, ", "))
			}
			if !slices.Contains(c.ValidArgs, args[0]) {
				return unknownWord("shell", args[0], c.ValidArgs)
			}
			return nil
		},
		ValidArgs: []string{"bash", "zsh", "fish"},
		RunE: func(c *cobra.Command, args []string) error {
			w, root := c.OutOrStdout(), c.Root()
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(w, true)
			case "zsh":
				return root.GenZshCompletion(w)
			default:
				return root.GenFishCompletion(w, true)
			}
		},
	}
}

// registerCompletions registers the completion of flag values on every
// command below root that has the flags: stores for storeFlags, the values
// for fixedValues.
func registerCompletions(root *cobra.Command) {
	walk(root, func(c *cobra.Command) {
		for _, name := range storeFlags {
			register(c, name, completeStore)
		}
		for name, values := range fixedValues {
			register(c, name, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp))
		}
	})
}

// register registers f for c's own flag name, if c has one that has no
// completion yet.
func register(c *cobra.Command, name string, f cobra.CompletionFunc) {
	if c.LocalFlags().Lookup(name) == nil {
		return
	}
	if _, done := c.GetFlagCompletionFunc(name); done {
		return
	}
	if err := c.RegisterFlagCompletionFunc(name, f); err != nil {
		// Only a missing flag or a second registration fail: neither can
		// happen for a flag just looked up on the command that owns it.
		panic(err)
	}
}

// completeStore completes a store argument. Before a colon it offers the app
// names that start with what is typed, each also as APP:DIR with its
// default folder; after "APP:" it offers folders.
func completeStore(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	name, dir, hasDir := strings.Cut(toComplete, ":")
	var out []cobra.Completion
	if !hasDir {
		for _, s := range appFolders() {
			if strings.HasPrefix(s.name, toComplete) {
				out = append(out, s.name)
				if s.dir != "" {
					out = append(out, s.name+":"+s.dir)
				}
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
	known := false
	for _, s := range appFolders() {
		if s.name != name {
			continue
		}
		known = true
		if s.dir != "" && strings.HasPrefix(s.dir, dir) {
			out = append(out, s.name+":"+s.dir)
		}
	}
	if !known {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	for _, d := range subfolders(dir) {
		out = append(out, name+":"+d)
	}
	return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
}

// appFolder is an app's name and its default folder on this system, "" if
// it has none here.
type appFolder struct{ name, dir string }

// appFolders returns every app with its default folder. It is the one
// place completion asks package app about apps.
func appFolders() []appFolder {
	var out []appFolder
	for _, name := range app.Names() {
		a, ok := app.Lookup(name)
		if !ok {
			continue
		}
		dir, err := a.DefaultDir()
		if err != nil {
			dir = ""
		}
		out = append(out, appFolder{name, dir})
	}
	return out
}

// subfolders returns the folders whose path starts with prefix, each ending
// in a slash: "a/b" gives the folders in a/ whose name starts with b.
// Hidden folders are offered only when the typed name starts with a dot.
func subfolders(prefix string) []string {
	parent, base := filepath.Split(prefix)
	read := parent
	if read == "" {
		read = "."
	}
	entries, err := os.ReadDir(read)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		n := e.Name()
		if !strings.HasPrefix(n, base) || (strings.HasPrefix(n, ".") && !strings.HasPrefix(base, ".")) {
			continue
		}
		if fi, err := os.Stat(filepath.Join(read, n)); err == nil && fi.IsDir() {
			out = append(out, parent+n+string(filepath.Separator))
		}
	}
	return out
}
