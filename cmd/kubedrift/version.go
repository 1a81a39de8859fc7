package main

import (
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"github.com/kubedrift/kubedrift/data"
	"github.com/kubedrift/kubedrift/data/snapshot"
)

// snapshotMaxAge is how old the embedded data may get before kubedrift says
// so: upstream ships patch releases about monthly.
const snapshotMaxAge = 30 * 24 * time.Hour

func newVersionCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the kubedrift version, build commit and the date of the embedded data",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "kubedrift %s (commit %s, %s)\n", version, commit, runtime.Version())
			printSnapshotAge(w, cmd.ErrOrStderr(), time.Now())
			return nil
		},
	}
}

func printSnapshotAge(w, stderr io.Writer, now time.Time) {
	built, err := data.BundleBuiltAt(snapshot.Bytes())
	if err != nil {
		fmt.Fprintf(stderr, "kubedrift: warning: embedded data is unreadable: %v\n", err)
		return
	}
	age := now.Sub(built)
	fmt.Fprintf(w, "embedded data built %s (%d days ago)\n", built.UTC().Format(time.DateOnly), int(age.Hours()/24))
	if age > snapshotMaxAge {
		fmt.Fprintf(stderr, "kubedrift: warning: the embedded data is more than %d days old; run 'kubedrift sync' or import a fresh bundle\n", int(snapshotMaxAge.Hours()/24))
	}
}
