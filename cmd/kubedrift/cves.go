package main

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kubedrift/kubedrift/data"
	"github.com/kubedrift/kubedrift/tracker"
)

type cvesOptions struct {
	version    string
	components []string
	output     string
}

// noteRef points at a changelog note that mentions a CVE.
type noteRef struct {
	Version string `json:"version"`
	PR      int    `json:"pr,omitempty"`
	URL     string `json:"url,omitempty"`
}

// cveRow is one line of `kubedrift cves`.
type cveRow struct {
	tracker.CVEExposure
	Published string    `json:"published,omitempty"`
	Summary   string    `json:"summary,omitempty"`
	Notes     []noteRef `json:"notes"`
}

func newCVEsCmd(g *globalOptions) *cobra.Command {
	o := &cvesOptions{output: formatTable}
	cmd := &cobra.Command{
		Use:   "cves",
		Short: "List official Kubernetes CVEs, or those affecting a version with the fixed-in patch",
		Long: `List official Kubernetes CVEs. With --version, list only those affecting that
version (control-plane and node components unless --component narrows it), each
with the lowest patch of the same minor that fixes it, or whether only a later
minor has a fix. Managed-distribution versions (v1.27.3-eks-...) are matched on
their upstream core; the provider may carry a backport.`,
		Example: `  kubedrift cves --version v1.24.3
  kubedrift cves --version v1.27.3-eks-a5565ad --component kube-apiserver -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCVEs(cmd, g, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.version, "version", "", "only CVEs affecting this Kubernetes version")
	f.StringSliceVar(&o.components, "component", nil, "components running that version (default: "+strings.Join(allComponents(), ", ")+")")
	f.StringVarP(&o.output, "output", "o", o.output, "output format: table, json or yaml")
	return cmd
}

func allComponents() []string {
	return []string{tracker.ComponentAPIServer, tracker.ComponentControllerManager, tracker.ComponentScheduler, tracker.ComponentKubelet, tracker.ComponentKubeProxy}
}

func runCVEs(cmd *cobra.Command, g *globalOptions, o *cvesOptions) error {
	if err := checkFormat(o.output, formatTable, formatJSON, formatYAML); err != nil {
		return err
	}
	var v tracker.Version
	if o.version != "" {
		var err error
		if v, err = tracker.ParseVersion(o.version); err != nil {
			return &exitError{code: exitUsage, err: fmt.Errorf("--version: %w", err)}
		}
	}
	components := o.components
	if len(components) == 0 {
		components = allComponents()
	}
	for _, c := range components {
		if !slices.Contains(allComponents(), c) {
			return &exitError{code: exitUsage, err: fmt.Errorf("--component %q: want one of %s", c, strings.Join(allComponents(), ", "))}
		}
	}
	ctx := cmd.Context()
	st, err := g.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	cves, err := st.CVEs(ctx)
	if err != nil {
		return err
	}
	notes, err := st.Notes(ctx, data.NoteFilter{})
	if err != nil {
		return err
	}
	byID := map[string]tracker.CVE{}
	for _, c := range cves {
		byID[c.ID] = c
	}
	var exposures []tracker.CVEExposure
	if o.version != "" {
		cat := tracker.NewCatalog(nil, nil, cves, nil)
		exposures = cat.CVEsAffecting(v, components)
	} else {
		for _, c := range cves {
			exposures = append(exposures, listedCVE(c))
		}
	}
	mentions := notesByCVE(notes)
	rows := make([]cveRow, 0, len(exposures))
	for _, e := range exposures {
		c := byID[e.ID]
		row := cveRow{CVEExposure: e, Summary: c.Summary, Notes: mentions[e.ID]}
		if row.Notes == nil {
			row.Notes = []noteRef{}
		}
		if !c.Published.IsZero() {
			row.Published = c.Published.UTC().Format("2006-01-02")
		}
		rows = append(rows, row)
	}
	return printCVEs(cmd.OutOrStdout(), o.output, rows, o.version != "")
}

// listedCVE describes a CVE without a version to match: its components and
// severity, no fix status.
func listedCVE(c tracker.CVE) tracker.CVEExposure {
	e := tracker.CVEExposure{ID: c.ID, URL: c.URL, Components: []string{}}
	if c.CVSS != nil {
		e.Severity, e.Score = c.CVSS.Rating, c.CVSS.Score
	}
	for _, p := range c.Affected {
		name := p.Component
		if name == "" {
			name = p.Package
		}
		if !slices.Contains(e.Components, name) {
			e.Components = append(e.Components, name)
		}
	}
	return e
}

// notesByCVE links each CVE to the changelog notes that mention it.
func notesByCVE(notes []tracker.Note) map[string][]noteRef {
	out := map[string][]noteRef{}
	for _, n := range notes {
		for _, id := range n.CVEs {
			out[id] = append(out[id], noteRef{Version: n.Version, PR: n.PR, URL: n.URL})
		}
	}
	return out
}

func printCVEs(w io.Writer, format string, rows []cveRow, matched bool) error {
	switch format {
	case formatJSON:
		return writeJSON(w, rows)
	case formatYAML:
		return writeYAML(w, rows)
	}
	tw := newTable(w)
	if matched {
		fmt.Fprintln(tw, "CVE\tSEVERITY\tCOMPONENTS\tFIXED IN\tSTATUS\tNOTES")
	} else {
		fmt.Fprintln(tw, "CVE\tSEVERITY\tCOMPONENTS\tPUBLISHED\tSUMMARY")
	}
	for _, r := range rows {
		sev := "-"
		if r.Severity != "" {
			sev = fmt.Sprintf("%s %.1f", r.Severity, r.Score)
		}
		if !matched {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.ID, sev, strings.Join(r.Components, ","), dash(r.Published), terminalSafe(r.Summary, 60))
			continue
		}
		fixed := r.FixedIn
		if fixed == "" && r.LaterFix != "" {
			fixed = r.LaterFix + " (later minor)"
		}
		status := r.Status
		if r.MayBeBackported {
			status += " (provider may have backported)"
		}
		var refs []string
		for _, n := range r.Notes {
			if n.PR != 0 {
				refs = append(refs, fmt.Sprintf("%s#%d", n.Version, n.PR))
			} else {
				refs = append(refs, n.Version)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, sev, strings.Join(r.Components, ","), dash(fixed), status, dash(strings.Join(refs, " ")))
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
