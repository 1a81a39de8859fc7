package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/kubedrift/kubedrift/data"
	"github.com/kubedrift/kubedrift/tracker"
)

type releasesOptions struct {
	minor       string
	component   string
	prereleases bool
	output      string
}

// releaseRow is one line of `kubedrift releases`; JSON field names are a
// contract for scripts.
type releaseRow struct {
	tracker.Release
	Support tracker.Support `json:"support"`
}

func newReleasesCmd(g *globalOptions) *cobra.Command {
	o := &releasesOptions{component: tracker.ComponentKubernetes, output: formatTable}
	cmd := &cobra.Command{
		Use:   "releases",
		Short: "List upstream releases with their support status and dates",
		Args:  cobra.NoArgs,
		Example: `  kubedrift releases --minor 1.25
  kubedrift releases --component etcd -o json`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runReleases(cmd, g, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.minor, "minor", "", "only releases of this minor (1.25)")
	f.StringVar(&o.component, "component", o.component, "component (kubernetes, or an extra repository's name)")
	f.BoolVar(&o.prereleases, "include-prereleases", false, "also list alphas, betas and release candidates")
	f.StringVarP(&o.output, "output", "o", o.output, "output format: table, json or yaml")
	return cmd
}

func runReleases(cmd *cobra.Command, g *globalOptions, o *releasesOptions) error {
	if err := checkFormat(o.output, formatTable, formatJSON, formatYAML); err != nil {
		return err
	}
	minor := ""
	if o.minor != "" {
		m, err := tracker.ParseMinor(o.minor)
		if err != nil {
			return &exitError{code: exitUsage, err: fmt.Errorf("--minor: %w", err)}
		}
		minor = m.String()
	}
	ctx := cmd.Context()
	st, err := g.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	rels, err := st.Releases(ctx, data.ReleaseFilter{Component: o.component, Minor: minor, IncludePrereleases: o.prereleases})
	if err != nil {
		return err
	}
	// Support status needs only the windows, not every note and CVE.
	windows, err := st.SupportWindows(ctx)
	if err != nil {
		return err
	}
	cat := tracker.NewCatalog(nil, nil, nil, windows)
	now := time.Now()
	rows := make([]releaseRow, 0, len(rels))
	for _, r := range rels {
		row := releaseRow{Release: r, Support: tracker.Support{Status: tracker.SupportUnknown}}
		if v, err := tracker.ParseVersion(r.Version); err == nil && r.Component == tracker.ComponentKubernetes {
			row.Support = cat.Support(v.MinorVersion(), now)
		}
		rows = append(rows, row)
	}
	return printReleases(cmd.OutOrStdout(), o.output, rows)
}

func printReleases(w io.Writer, format string, rows []releaseRow) error {
	switch format {
	case formatJSON:
		return writeJSON(w, rows)
	case formatYAML:
		return writeYAML(w, rows)
	}
	tw := newTable(w)
	fmt.Fprintln(tw, "VERSION\tDATE\tSUPPORT\tEND OF LIFE\tURL")
	for _, r := range rows {
		date := "-"
		if !r.Date.IsZero() {
			date = r.Date.UTC().Format("2006-01-02")
		}
		eol := r.Support.EndOfLife
		if eol == "" {
			eol = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Version, date, r.Support.Status, eol, r.URL)
	}
	return tw.Flush()
}
