package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/kubedrift/kubedrift/tracker"
)

type clustersOptions struct {
	sources clusterSources
	output  string
}

// clusterRow is one line of `kubedrift clusters`.
type clusterRow struct {
	Name         string              `json:"name"`
	Source       string              `json:"source"`
	Distribution string              `json:"distribution"`
	Version      string              `json:"version"`
	Nodes        tracker.NodeSummary `json:"nodes"`
	Labels       map[string]string   `json:"labels,omitempty"`
	ObservedAt   time.Time           `json:"observed_at,omitzero"`
	Error        string              `json:"error"`
}

func newClustersCmd(g *globalOptions) *cobra.Command {
	o := &clustersOptions{output: formatTable}
	cmd := &cobra.Command{
		Use:   "clusters",
		Short: "List clusters with their versions and where each came from",
		Long: `Read clusters from kubeconfig contexts (through the API server: /version and
the nodes' kubelet versions) and from static inventory files, record what was
seen in the store, and list them. Without source flags, list the last known
state from the store.`,
		Example: `  kubedrift clusters --all-contexts
  kubedrift clusters --inventory examples/fleet.yaml -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(o.output, formatTable, formatWide, formatJSON, formatYAML); err != nil {
				return err
			}
			ctx := cmd.Context()
			st, err := g.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			cs, problems, err := o.sources.clustersFor(ctx, st, cmd.ErrOrStderr(), time.Now())
			if err != nil {
				return err
			}
			rows := make([]clusterRow, 0, len(cs))
			for _, c := range cs {
				rows = append(rows, clusterRow{Name: c.Name, Source: c.Source, Distribution: c.Distribution, Version: c.Version,
					Nodes: tracker.SummarizeNodes(c.Nodes), Labels: c.Labels, ObservedAt: c.ObservedAt, Error: c.Error})
				if c.Error != "" {
					problems++
				}
			}
			if err := printClusters(cmd.OutOrStdout(), o.output, rows); err != nil {
				return err
			}
			if problems > 0 {
				return &exitError{code: exitPartial}
			}
			return nil
		},
	}
	addClusterFlags(cmd, &o.sources)
	cmd.Flags().StringVarP(&o.output, "output", "o", o.output, "output format: table, wide, json or yaml")
	return cmd
}

func printClusters(w io.Writer, format string, rows []clusterRow) error {
	switch format {
	case formatJSON:
		return writeJSON(w, rows)
	case formatYAML:
		return writeYAML(w, rows)
	}
	tw := newTable(w)
	if format == formatWide {
		fmt.Fprintln(tw, "NAME\tDISTRIBUTION\tVERSION\tNODES\tKUBELETS\tSOURCE\tOBSERVED\tERROR")
	} else {
		fmt.Fprintln(tw, "NAME\tDISTRIBUTION\tVERSION\tNODES\tKUBELETS\tSOURCE\tERROR")
	}
	for _, r := range rows {
		kubelets := "-"
		if r.Nodes.Count > 0 {
			kubelets = r.Nodes.Min
			if r.Nodes.Max != r.Nodes.Min {
				kubelets += ".." + r.Nodes.Max
			}
		}
		errText := dash(terminalSafe(r.Error, 60))
		if format == formatWide {
			obs := "-"
			if !r.ObservedAt.IsZero() {
				obs = r.ObservedAt.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", terminalSafe(r.Name, 40), dash(r.Distribution), dash(r.Version), r.Nodes.Count, kubelets, r.Source, obs, errText)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\n", terminalSafe(r.Name, 40), dash(r.Distribution), dash(r.Version), r.Nodes.Count, kubelets, terminalSafe(r.Source, 40), errText)
	}
	return tw.Flush()
}
