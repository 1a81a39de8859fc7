package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/kubedrift/kubedrift/notify"
)

// statusReport is `kubedrift status -o json`.
type statusReport struct {
	Sources    []sourceStatus          `json:"sources"`
	Deliveries []notify.DeliveryStatus `json:"deliveries"`
}

type sourceStatus struct {
	Source      string    `json:"source"`
	LastSuccess time.Time `json:"last_success,omitzero"`
	LastAttempt time.Time `json:"last_attempt,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
}

func newStatusCmd(g *globalOptions) *cobra.Command {
	output := formatTable
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show upstream sources' freshness and pending or failed deliveries",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(output, formatTable, formatJSON); err != nil {
				return err
			}
			ctx := cmd.Context()
			// Status reads what a sync or the service wrote; a mistyped
			// --store must not answer "all fine" from a new, empty store.
			if g.storePath != "" {
				if _, err := os.Stat(g.storePath); err != nil {
					return &exitError{code: exitUsage, err: fmt.Errorf("no store at %s: %w", g.storePath, err)}
				}
			}
			st, err := g.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			srcs, err := st.Sources(ctx)
			if err != nil {
				return err
			}
			ob := &notify.Outbox{Store: st}
			dels, err := ob.Status(ctx)
			if err != nil {
				return err
			}
			rep := statusReport{Sources: []sourceStatus{}, Deliveries: dels}
			for _, s := range srcs {
				rep.Sources = append(rep.Sources, sourceStatus{Source: s.Source, LastSuccess: s.LastSuccess, LastAttempt: s.LastAttempt, LastError: s.LastError})
			}
			if rep.Deliveries == nil {
				rep.Deliveries = []notify.DeliveryStatus{}
			}
			if output == formatJSON {
				return writeJSON(cmd.OutOrStdout(), rep)
			}
			printStatus(cmd.OutOrStdout(), rep)
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", output, "output format: table or json")
	return cmd
}

func printStatus(w io.Writer, rep statusReport) {
	tw := newTable(w)
	fmt.Fprintln(tw, "SOURCE\tLAST SUCCESS\tLAST ERROR")
	for _, s := range rep.Sources {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Source, timeOrDash(s.LastSuccess), dash(terminalSafe(s.LastError, 70)))
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = newTable(w)
	fmt.Fprintln(tw, "CHANNEL\tSTATE\tATTEMPTS\tADVISORIES\tCREATED\tNEXT ATTEMPT\tLAST ERROR")
	for _, d := range rep.Deliveries {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\t%s\n", d.Channel, d.State, d.Attempts, len(d.Advisories),
			timeOrDash(d.CreatedAt), timeOrDash(d.NextAttemptAt), dash(terminalSafe(d.LastError, 60)))
	}
	tw.Flush()
}

func timeOrDash(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
