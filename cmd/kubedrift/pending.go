package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kubedrift/kubedrift/tracker"
)

type pendingOptions struct {
	sources clusterSources
	cluster string
	to      string
	failOn  []string
	asOf    string
	output  string
	impact  bool
}

// The --fail-on conditions CI gates can use.
const (
	failSecurity       = "security"
	failRemoval        = "removal"
	failActionRequired = "action-required"
	failEOL            = "eol"
	failSkew           = "skew"
	failBlocker        = "blocker"
)

var failConditions = []string{failSecurity, failRemoval, failActionRequired, failEOL, failSkew, failBlocker}

// pendingReport is the JSON contract of `pending -o json` (DESIGN.md).
type pendingReport struct {
	GeneratedAt string                 `json:"generated_at"`
	Clusters    []tracker.ClusterDrift `json:"clusters"`
}

func newPendingCmd(g *globalOptions) *cobra.Command {
	o := &pendingOptions{output: formatTable, impact: true}
	cmd := &cobra.Command{
		Use:   "pending",
		Short: "Show the upgrades pending for each cluster and what stands in the way",
		Long: `For every cluster: how far it is behind (patches and minors), its support status,
version-skew violations, the CVEs that affect it with the patch that fixes them,
and the upgrade path one minor at a time to the target (default: the latest
stable release), with the urgent upgrade notes, removals and deprecations each
step crosses.

Clusters come from kubeconfig contexts and inventory files, or from the store's
last known state when no source flag is given.

Exit status: 0 ok; 1 usage or configuration error; 2 some clusters could not be
read (the others are reported); 3 a --fail-on condition matched.`,
		Example: `  kubedrift pending --inventory examples/fleet.yaml
  kubedrift pending --all-contexts --fail-on security,eol -o json
  kubedrift pending --cluster prod-eu --to 1.27`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runPending(cmd, g, o)
		},
	}
	addClusterFlags(cmd, &o.sources)
	f := cmd.Flags()
	f.StringVar(&o.cluster, "cluster", "", "only this cluster, with its full upgrade path")
	f.StringVar(&o.to, "to", "", "upgrade target: a minor (1.27) or a version (v1.27.4); default the latest stable release")
	f.StringSliceVar(&o.failOn, "fail-on", nil, "exit 3 when any cluster matches: "+strings.Join(failConditions, ", "))
	f.StringVar(&o.asOf, "as-of", "", "judge support windows as of this date (YYYY-MM-DD) instead of today, e.g. to plan ahead")
	f.BoolVar(&o.impact, "impact", o.impact, "ask live clusters whether what the upgrade removes is in use (read-only: discovery, metadata lists, /metrics, nodes)")
	f.StringVarP(&o.output, "output", "o", o.output, "output format: table, wide, json, yaml or markdown")
	return cmd
}

func runPending(cmd *cobra.Command, g *globalOptions, o *pendingOptions) error {
	if err := checkFormat(o.output, formatTable, formatWide, formatJSON, formatYAML, formatMarkdown); err != nil {
		return err
	}
	for _, c := range o.failOn {
		if !slices.Contains(failConditions, c) {
			return &exitError{code: exitUsage, err: fmt.Errorf("--fail-on: unknown condition %q: want %s", c, strings.Join(failConditions, ", "))}
		}
	}
	now := time.Now().UTC()
	if o.asOf != "" {
		t, err := time.Parse(time.DateOnly, o.asOf)
		if err != nil {
			return &exitError{code: exitUsage, err: fmt.Errorf("--as-of %q: want YYYY-MM-DD", o.asOf)}
		}
		now = t
	}
	ctx := cmd.Context()
	st, err := g.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	cat, err := loadCatalog(ctx, st)
	if err != nil {
		return err
	}
	if o.to != "" {
		if _, err := cat.ResolveTarget(o.to); err != nil {
			return &exitError{code: exitUsage, err: fmt.Errorf("--to: %w", err)}
		}
	}
	clusters, problems, err := o.sources.clustersFor(ctx, st, cmd.ErrOrStderr(), time.Now())
	if err != nil {
		return err
	}
	if o.cluster != "" {
		i := slices.IndexFunc(clusters, func(c tracker.Cluster) bool { return c.Name == o.cluster })
		if i < 0 {
			return &exitError{code: exitUsage, err: fmt.Errorf("--cluster %q: no such cluster", o.cluster)}
		}
		clusters = clusters[i : i+1]
	}
	rep := pendingReport{GeneratedAt: now.Format(time.RFC3339), Clusters: make([]tracker.ClusterDrift, 0, len(clusters))}
	for _, c := range clusters {
		d := cat.Drift(c, tracker.DriftOptions{Target: o.to, Now: now})
		if d.Error != "" {
			problems++
		}
		rep.Clusters = append(rep.Clusters, d)
	}
	rs, err := loadRemovals()
	if err != nil {
		return err
	}
	evs, warnings := o.sources.gatherEvidence(ctx, clusters, rs, o.impact)
	addImpact(rep.Clusters, evs, warnings, rs)
	if err := printPending(cmd.OutOrStdout(), o.output, rep, o.cluster != ""); err != nil {
		return err
	}
	// A matched --fail-on condition wins over unreadable clusters: a CI gate
	// must not pass because another cluster was down.
	if matched := failMatches(rep.Clusters, o.failOn); len(matched) > 0 {
		msg := "--fail-on matched: " + strings.Join(matched, "; ")
		if problems > 0 {
			msg += fmt.Sprintf(" (and %d clusters or inputs could not be read)", problems)
		}
		return &exitError{code: exitFailOnMatch, err: errors.New(msg)}
	}
	if problems > 0 {
		return &exitError{code: exitPartial}
	}
	return nil
}

// failMatches lists "cluster: condition" for every --fail-on condition met.
func failMatches(ds []tracker.ClusterDrift, conds []string) []string {
	var out []string
	for _, d := range ds {
		for _, c := range conds {
			if driftMatches(d, c) {
				out = append(out, d.Name+": "+c)
			}
		}
	}
	return out
}

func driftMatches(d tracker.ClusterDrift, cond string) bool {
	switch cond {
	case failSecurity:
		return len(d.CVEs) > 0
	case failEOL:
		return d.Support.Status == tracker.SupportEOL
	case failSkew:
		return len(d.Skew) > 0
	case failRemoval:
		return slices.ContainsFunc(d.Path, func(s tracker.Step) bool { return len(s.Removals) > 0 })
	case failActionRequired:
		return slices.ContainsFunc(d.Path, func(s tracker.Step) bool { return len(s.ActionRequired) > 0 })
	case failBlocker:
		return blockerCount(d) > 0
	}
	return false
}

func printPending(w io.Writer, format string, rep pendingReport, detail bool) error {
	switch format {
	case formatJSON:
		return writePendingJSON(w, rep)
	case formatYAML:
		return writeYAML(w, rep)
	case formatMarkdown:
		return pendingMarkdown(w, rep)
	}
	if detail {
		for _, d := range rep.Clusters {
			pendingDetail(w, d)
		}
		return nil
	}
	return pendingTable(w, rep, format == formatWide)
}

// writePendingJSON streams the report one cluster at a time: a fleet's report
// runs to megabytes, and indenting it as one document costs more than
// computing it. The bytes are those json.Encoder with a two-space indent
// would write.
func writePendingJSON(w io.Writer, rep pendingReport) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	at, err := json.Marshal(rep.GeneratedAt)
	if err != nil {
		return err
	}
	fmt.Fprintf(bw, "{\n  \"generated_at\": %s,\n  \"clusters\": [", at)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("    ", "  ")
	for i, c := range rep.Clusters {
		buf.Reset()
		if err := enc.Encode(c); err != nil {
			return fmt.Errorf("encode cluster %q: %w", c.Name, err)
		}
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString("\n    ")
		bw.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
	}
	if len(rep.Clusters) > 0 {
		bw.WriteString("\n  ")
	}
	bw.WriteString("]\n}\n")
	return bw.Flush()
}

// pendingTable prints one line per cluster; the default columns fit in 120.
func pendingTable(w io.Writer, rep pendingReport, wide bool) error {
	tw := newTable(w)
	if wide {
		fmt.Fprintln(tw, "CLUSTER\tDIST\tVERSION\tNODES\tSUPPORT\tEOL\tLATEST PATCH\tTARGET\tBEHIND\tCVES\tBLOCKERS")
	} else {
		fmt.Fprintln(tw, "CLUSTER\tDIST\tVERSION\tSUPPORT\tBEHIND\tCVES\tBLOCKERS")
	}
	for _, d := range rep.Clusters {
		name := terminalSafe(d.Name, 20)
		if d.Error != "" && d.Version == "" {
			fmt.Fprintf(tw, "%s\t-\t-\t%s\t-\t-\tunreadable: %s\n", name, d.Support.Status, terminalSafe(d.Error, 50))
			continue
		}
		behind := fmt.Sprintf("%dp/%dm", d.PatchesBehind, d.MinorsBehind)
		ver := terminalSafe(d.Version, 26)
		if wide {
			target := "-"
			if n := len(d.Path); n > 0 {
				target = d.Path[n-1].To
			}
			nodes := fmt.Sprintf("%d", d.Nodes.Count)
			if d.Nodes.Count > 0 && d.Nodes.Min != d.Nodes.Max {
				nodes += " (" + d.Nodes.Min + ".." + d.Nodes.Max + ")"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", name, d.Distribution, ver, nodes, d.Support.Status,
				dash(d.Support.EndOfLife), dash(d.LatestPatch), target, behind, cveSummary(d.CVEs), blockers(d, 0))
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", name, d.Distribution, ver, d.Support.Status, behind, cveSummary(d.CVEs), blockers(d, 36))
	}
	return tw.Flush()
}

// cveSummary is "3 (high)": the count and the worst severity.
func cveSummary(cves []tracker.CVEExposure) string {
	if len(cves) == 0 {
		return "0"
	}
	worst := tracker.Severity("")
	for _, c := range cves {
		s := tracker.Severity(strings.ToLower(c.Severity))
		if worst == "" || s.Rank() < worst.Rank() {
			worst = s
		}
	}
	if worst == "" || worst.Rank() == len(tracker.Severities) {
		return fmt.Sprintf("%d", len(cves))
	}
	return fmt.Sprintf("%d (%s)", len(cves), worst)
}

func blockerCount(d tracker.ClusterDrift) int {
	n := 0
	for _, sv := range d.Impact {
		n += sv.Blockers()
	}
	return n
}

// blockers summarises what stands in the way, most pressing first: removals
// in use on this cluster, EOL, skew, then the next step's urgent notes and
// removals.
func blockers(d tracker.ClusterDrift, max int) string {
	var b []string
	if n := blockerCount(d); n > 0 {
		b = append(b, fmt.Sprintf("%d BLOCKING", n))
	}
	if d.Support.Status == tracker.SupportEOL {
		b = append(b, "EOL")
	}
	for _, s := range d.Skew {
		b = append(b, "skew:"+s.Kind)
	}
	for _, s := range d.Path {
		if len(s.ActionRequired)+len(s.Removals) == 0 {
			continue
		}
		v, err := tracker.ParseVersion(s.To)
		step := s.To
		if err == nil {
			step = v.MinorVersion().String()
		}
		var parts []string
		if n := len(s.ActionRequired); n > 0 {
			parts = append(parts, fmt.Sprintf("%d urgent", n))
		}
		if n := len(s.Removals); n > 0 {
			parts = append(parts, fmt.Sprintf("%d removed", n))
		}
		b = append(b, step+": "+strings.Join(parts, ", "))
		break
	}
	if len(b) == 0 {
		return "-"
	}
	return terminalSafe(strings.Join(b, "; "), max)
}

// pendingDetail prints one cluster in full, for --cluster.
func pendingDetail(w io.Writer, d tracker.ClusterDrift) {
	fmt.Fprintf(w, "Cluster:       %s (%s)\n", terminalSafe(d.Name, 0), d.Distribution)
	if d.Error != "" {
		fmt.Fprintf(w, "Error:         %s\n", terminalSafe(d.Error, 0))
	}
	fmt.Fprintf(w, "Version:       %s\n", dash(d.Version))
	if d.Nodes.Count > 0 {
		fmt.Fprintf(w, "Nodes:         %d (kubelets %s .. %s)\n", d.Nodes.Count, dash(d.Nodes.Min), dash(d.Nodes.Max))
	}
	sup := d.Support.Status
	if d.Support.EndOfLife != "" {
		sup += ", end of life " + d.Support.EndOfLife
		if d.Support.DaysLeft != nil {
			sup += fmt.Sprintf(" (%d days)", *d.Support.DaysLeft)
		}
	}
	fmt.Fprintf(w, "Support:       %s\n", sup)
	fmt.Fprintf(w, "Latest patch:  %s (%d behind)\n", dash(d.LatestPatch), d.PatchesBehind)
	fmt.Fprintf(w, "Latest:        %s (%d minors behind)\n", dash(d.Latest), d.MinorsBehind)
	for _, s := range d.Skew {
		fmt.Fprintf(w, "Skew:          %s: %s\n", s.Kind, terminalSafe(s.Detail, 0))
	}
	for _, warn := range d.Warnings {
		fmt.Fprintf(w, "Warning:       %s\n", terminalSafe(warn, 0))
	}
	if len(d.CVEs) > 0 {
		fmt.Fprintln(w, "\nCVEs:")
		tw := newTable(w)
		fmt.Fprintln(tw, "  ID\tSEVERITY\tCOMPONENTS\tFIXED IN\tSTATUS")
		for _, c := range d.CVEs {
			fixed := c.FixedIn
			if fixed == "" {
				fixed = c.LaterFix
			}
			status := c.Status
			if c.MayBeBackported {
				status += " (provider may have backported)"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", c.ID, dash(severityText(c)), strings.Join(c.Components, ","), dash(fixed), status)
		}
		tw.Flush()
	}
	if len(d.Path) > 0 {
		fmt.Fprintln(w, "\nUpgrade path:")
	}
	for i, s := range d.Path {
		fmt.Fprintf(w, "  %d. %s -> %s\n", i+1, s.From, s.To)
		for _, k := range s.KubeletsFirst {
			fmt.Fprintf(w, "     first upgrade kubelets: %s\n", terminalSafe(k, 0))
		}
		printStepVerdicts(w, d, s)
		printStepNotes(w, "urgent", s.ActionRequired)
		printStepNotes(w, "removed", s.Removals)
		printStepNotes(w, "deprecated", s.Deprecations)
		if len(s.CVEsFixed) > 0 {
			fmt.Fprintf(w, "     fixes: %s\n", strings.Join(s.CVEsFixed, ", "))
		}
		for _, l := range s.Links {
			fmt.Fprintf(w, "     notes: %s\n", terminalSafe(l, 0))
		}
	}
	fmt.Fprintln(w)
}

// printStepVerdicts lists what the step removes that this cluster uses
// (blockers first), could not check, or checked and does not use.
func printStepVerdicts(w io.Writer, d tracker.ClusterDrift, s tracker.Step) {
	for _, sv := range d.Impact {
		if sv.To != s.To {
			continue
		}
		for _, v := range sv.Verdicts {
			line := v.Detail
			if len(v.Examples) > 0 && v.Status == tracker.StatusBlocker {
				line += " (e.g. " + strings.Join(v.Examples, ", ") + ")"
			}
			fmt.Fprintf(w, "     %-11s %s: %s\n", v.Status+":", terminalSafe(v.Subject, 50), terminalSafe(line, 100))
		}
	}
}

func severityText(c tracker.CVEExposure) string {
	if c.Severity == "" {
		return ""
	}
	return fmt.Sprintf("%s %.1f", c.Severity, c.Score)
}

func printStepNotes(w io.Writer, label string, notes []tracker.Note) {
	for _, n := range notes {
		fmt.Fprintf(w, "     %-11s %-8s %-22s %s\n", label+":", prString(n), kindsString(n), terminalSafe(noteSummary(n), 80))
	}
}

func pendingMarkdown(w io.Writer, rep pendingReport) error {
	fmt.Fprintf(w, "# Pending upgrades (%s)\n\n", rep.GeneratedAt)
	fmt.Fprintln(w, "| Cluster | Distribution | Version | Support | Behind | CVEs | Blockers |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
	for _, d := range rep.Clusters {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %dp/%dm | %s | %s |\n", markdownInline(d.Name), markdownInline(d.Distribution),
			markdownInline(dash(d.Version)), d.Support.Status, d.PatchesBehind, d.MinorsBehind, cveSummary(d.CVEs), markdownInline(blockers(d, 0)))
	}
	for _, d := range rep.Clusters {
		if len(d.Path) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n## %s\n\n", markdownInline(d.Name))
		for _, s := range d.Path {
			fmt.Fprintf(w, "- **%s → %s**", s.From, s.To)
			var parts []string
			if n := len(s.ActionRequired); n > 0 {
				parts = append(parts, fmt.Sprintf("%d urgent upgrade notes", n))
			}
			if n := len(s.Removals); n > 0 {
				parts = append(parts, fmt.Sprintf("%d removals", n))
			}
			if n := len(s.Deprecations); n > 0 {
				parts = append(parts, fmt.Sprintf("%d deprecations", n))
			}
			if n := len(s.CVEsFixed); n > 0 {
				parts = append(parts, "fixes "+strings.Join(s.CVEsFixed, ", "))
			}
			if len(parts) > 0 {
				fmt.Fprintf(w, ": %s", strings.Join(parts, "; "))
			}
			fmt.Fprintln(w)
			for _, n := range slices.Concat(s.ActionRequired, s.Removals) {
				fmt.Fprintf(w, "  - `%s` %s%s\n", kindsString(n), markdownInline(terminalSafe(noteSummary(n), 160)), prLink(n))
			}
		}
	}
	return nil
}

// prLink links a note's PR only when the link is built from trusted facts.
func prLink(n tracker.Note) string {
	if n.PR == 0 || n.Component != tracker.ComponentKubernetes {
		return ""
	}
	return fmt.Sprintf(" ([#%d](https://github.com/kubernetes/kubernetes/pull/%d))", n.PR, n.PR)
}
