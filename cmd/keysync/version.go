package main

import (
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// newVersionCmd returns `keysync version`, which prints what
// `keysync --version` prints.
func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print keysync's version",
		Long: "Print keysync's version: the module version it was built as, or (devel)\n" +
			"with the commit it was built from when known; then the Go version and\n" +
			"the OS and architecture it was built for.",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			_, err := c.OutOrStdout().Write([]byte(c.Root().Version + "\n"))
			return err
		},
	}
}

// buildVersion returns keysync's version line from the binary's build
// information.
func buildVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		info = &debug.BuildInfo{}
	}
	return versionLine(info)
}

// versionLine formats info as "keysync VERSION [REVISION (TIME, modified)]
// built with GOVERSION for GOOS/GOARCH", the revision only for a (devel)
// build, such as
// "keysync v1.2.0 built with go1.26.8 for linux/amd64" or
// "keysync (devel) 51a6124d0f4e (2026-12-01T17:00:00Z, modified) built with
// go1.26.8 for linux/amd64". Parts the build did not record are left out.
func versionLine(info *debug.BuildInfo) string {
	setting := map[string]string{}
	for _, s := range info.Settings {
		setting[s.Key] = s.Value
	}
	version := info.Main.Version
	if version == "" {
		version = "(devel)"
	}
	parts := []string{"keysync", version}
	// A released or pseudo-version already names its commit.
	if rev := setting["vcs.revision"]; rev != "" && version == "(devel)" {
		parts = append(parts, rev[:min(len(rev), 12)])
		var when []string
		if t := setting["vcs.time"]; t != "" {
			when = append(when, t)
		}
		if setting["vcs.modified"] == "true" {
			when = append(when, "modified")
		}
		if len(when) > 0 {
			parts = append(parts, "("+strings.Join(when, ", ")+")")
		}
	}
	goVersion := info.GoVersion
	if goVersion == "" {
		goVersion = runtime.Version()
	}
	goos, goarch := setting["GOOS"], setting["GOARCH"]
	if goos == "" || goarch == "" {
		goos, goarch = runtime.GOOS, runtime.GOARCH
	}
	parts = append(parts, "built with", goVersion, "for", goos+"/"+goarch)
	return strings.Join(parts, " ")
}
