package main

import (
	"io"

	"github.com/spf13/cobra"
)

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	g := &globalOptions{logLevel: "info", logFormat: "text"}
	root := &cobra.Command{
		Use:   "kubedrift",
		Short: "Keep Kubernetes clusters current and safe",
		Long: `kubedrift compares every cluster's control-plane and node versions with upstream
Kubernetes releases, reads upstream changelogs for security fixes, deprecations,
removals and urgent upgrade notes, and tells you what stands between each cluster
and the next safe version.

It works offline on the data compiled into the binary; 'kubedrift sync' refreshes
the store from upstream.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	// Flag errors are usage errors: exit 1 with the message, like kubectl.
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &exitError{code: exitUsage, err: err}
	})
	pf := root.PersistentFlags()
	pf.StringVar(&g.storePath, "store", "", "path of the kubedrift store (default $XDG_STATE_HOME/kubedrift/kubedrift.db)")
	pf.StringVar(&g.logLevel, "log-level", g.logLevel, "log level: debug, info, warn or error")
	pf.StringVar(&g.logFormat, "log-format", g.logFormat, "log format: text or json")
	root.AddCommand(
		newVersionCmd(g),
		newNotesCmd(g),
		newSyncCmd(g),
		newReleasesCmd(g),
		newCVEsCmd(g),
		newDataCmd(g),
		newClustersCmd(g),
		newPendingCmd(g),
		newServeCmd(g),
		newConfigCmd(),
		newStatusCmd(g),
		newDigestCmd(g),
	)
	return root
}
