package email

import (
	"cmp"
	"fmt"
	"html/template"
	"slices"
	"strconv"
	"strings"

	"github.com/kubedrift/kubedrift/notify"
	"github.com/kubedrift/kubedrift/tracker"
)

// DefaultSubjectPrefix starts every subject unless Config.SubjectPrefix says
// otherwise, so mail rules can sort kubedrift's messages.
const DefaultSubjectPrefix = "[kubedrift]"

const (
	// eolSoonDays is when an end of life counts as "soon" in the digest; it
	// matches the first advisory threshold (60/30/7 days).
	eolSoonDays = 60
	// maxNotes bounds the notes listed per step or advisory; the changelog link
	// has the rest.
	maxNotes = 8
	// maxSubjectClusters bounds the cluster names a batch subject lists.
	maxSubjectClusters = 3
	dayLayout          = "2006-01-02"
	timeLayout         = "2006-01-02 15:04 UTC"
)

// fact is one figure of a summary line.
type fact struct {
	Label string
	Value int
	Alert bool
}

type noteView struct {
	// Text is the note's markdown, cleaned and possibly truncated, for the
	// text part; HTML its rendering for the HTML part.
	Text      string
	HTML      template.HTML
	Ref       string
	URL       string
	Version   string
	Truncated bool
}

type exposureView struct {
	ID   string
	URL  string
	Line string
}

type stepView struct {
	From, To       string
	KubeletsFirst  []string
	ActionRequired []noteView
	MoreActions    int
	Removals       []noteView
	MoreRemovals   int
	Deprecations   int
	CVEsFixed      []string
	Links          []string
}

type clusterView struct {
	Name         string
	Distribution string
	Version      string
	Status       string
	StatusNote   string
	StatusColor  template.CSS
	Behind       string
	Nodes        string
	Error        string
	Warnings     []string
	Skew         []string
	CVEs         []exposureView
	Path         []string
	Next         *stepView
}

type cveView struct {
	ID        string
	URL       string
	Summary   string
	Rating    string
	Published string
	Clusters  []string
}

type advisoryView struct {
	Severity  string
	Color     template.CSS
	Kind      string
	Cluster   string
	Title     string
	Detail    string
	Versions  string
	Due       string
	CVEs      []exposureView
	Notes     []noteView
	MoreNotes int
	Links     []string
}

type groupView struct {
	Name       string
	Advisories []advisoryView
}

type digestView struct {
	Subject   string
	Period    string
	Generated string
	Summary   []fact
	Clusters  []clusterView
	NewCVEs   []cveView
	EOL       []advisoryView
	Removals  []advisoryView
	Other     []advisoryView
	Problems  []string
}

type batchView struct {
	Subject   string
	Generated string
	Summary   []fact
	Groups    []groupView
}

var severityColors = map[tracker.Severity]template.CSS{
	tracker.SeverityCritical: "#b42318",
	tracker.SeverityHigh:     "#c4320a",
	tracker.SeverityMedium:   "#b54708",
	tracker.SeverityLow:      "#175cd3",
	tracker.SeverityInfo:     "#475467",
}

var supportColors = map[string]template.CSS{
	tracker.SupportEOL:         "#b42318",
	tracker.SupportMaintenance: "#b54708",
	tracker.SupportSupported:   "#067647",
	tracker.SupportUnknown:     "#475467",
}

const neutralColor template.CSS = "#475467"

func buildDigest(d notify.Digest, prefix string) (digestView, error) {
	if d.GeneratedAt.IsZero() {
		return digestView{}, fmt.Errorf("digest has no generation time")
	}
	gen := d.GeneratedAt.UTC()
	start := d.PeriodStart
	if start.IsZero() {
		start = gen.AddDate(0, 0, -7)
	}
	v := digestView{
		Period:    start.UTC().Format(dayLayout) + " to " + gen.Format(dayLayout),
		Generated: gen.Format(timeLayout),
	}

	var behind, eol, soon, exposed, unreadable int
	exposedBy := map[string][]string{}
	for _, c := range d.Clusters {
		cv := buildCluster(c)
		v.Clusters = append(v.Clusters, cv)
		switch {
		case c.Error != "":
			unreadable++
		case c.PatchesBehind > 0 || c.MinorsBehind > 0:
			behind++
		}
		switch {
		case c.Support.Status == tracker.SupportEOL:
			eol++
		case c.Support.DaysLeft != nil && *c.Support.DaysLeft <= eolSoonDays:
			soon++
		}
		if len(c.CVEs) > 0 {
			exposed++
		}
		for _, e := range c.CVEs {
			name := cleanLine(c.Name)
			if !slices.Contains(exposedBy[e.ID], name) {
				exposedBy[e.ID] = append(exposedBy[e.ID], name)
			}
		}
	}
	v.Summary = []fact{
		{Label: "clusters", Value: len(d.Clusters)},
		{Label: "behind", Value: behind, Alert: behind > 0},
		{Label: "end of life", Value: eol, Alert: eol > 0},
		{Label: "EOL within " + strconv.Itoa(eolSoonDays) + " days", Value: soon, Alert: soon > 0},
		{Label: "exposed to CVEs", Value: exposed, Alert: exposed > 0},
		{Label: "new CVEs", Value: len(d.NewCVEs), Alert: len(d.NewCVEs) > 0},
	}
	if unreadable > 0 {
		v.Summary = append(v.Summary, fact{Label: "unreadable", Value: unreadable, Alert: true})
	}

	for _, c := range d.NewCVEs {
		cv := cveView{
			ID:       cleanLine(c.ID),
			URL:      safeLink(c.URL),
			Summary:  cleanLine(c.Summary),
			Clusters: exposedBy[c.ID],
		}
		if !c.Published.IsZero() {
			cv.Published = c.Published.UTC().Format(dayLayout)
		}
		if c.CVSS != nil {
			cv.Rating = rating(c.CVSS.Rating, c.CVSS.Score)
		}
		v.NewCVEs = append(v.NewCVEs, cv)
	}

	advs := slices.Clone(d.Advisories)
	slices.SortStableFunc(advs, func(a, b tracker.Advisory) int {
		return cmp.Or(cmp.Compare(a.Severity.Rank(), b.Severity.Rank()), cmp.Compare(a.Cluster, b.Cluster), cmp.Compare(a.ID, b.ID))
	})
	for _, a := range advs {
		switch a.Kind {
		case tracker.AdvisoryEOL:
			v.EOL = append(v.EOL, buildAdvisory(a))
		case tracker.AdvisoryRemoval:
			v.Removals = append(v.Removals, buildAdvisory(a))
		case tracker.AdvisorySecurityFix:
			// Covered per cluster and under new CVEs.
		default:
			v.Other = append(v.Other, buildAdvisory(a))
		}
	}
	for _, p := range d.DeliveryProblems {
		if p = cleanLine(p); p != "" {
			v.Problems = append(v.Problems, p)
		}
	}

	subj := fmt.Sprintf("Weekly digest %s: %d clusters", gen.Format(dayLayout), len(d.Clusters))
	for _, f := range v.Summary[1:] {
		if f.Value > 0 {
			subj += fmt.Sprintf(", %d %s", f.Value, f.Label)
		}
	}
	v.Subject = subject(prefix, subj)
	return v, nil
}

func buildCluster(c tracker.ClusterDrift) clusterView {
	v := clusterView{
		Name:         cleanLine(c.Name),
		Distribution: cleanLine(c.Distribution),
		Version:      cleanLine(c.Version),
		Status:       cleanLine(c.Support.Status),
		Error:        cleanLine(c.Error),
	}
	if v.Status == "" {
		v.Status = tracker.SupportUnknown
	}
	v.StatusColor = cmp.Or(supportColors[v.Status], neutralColor)
	v.StatusNote = supportNote(c.Support)
	for _, w := range c.Warnings {
		v.Warnings = append(v.Warnings, cleanLine(w))
	}
	for _, s := range c.Skew {
		v.Skew = append(v.Skew, cleanLine(s.Kind+": "+s.Detail))
	}
	for _, e := range c.CVEs {
		v.CVEs = append(v.CVEs, buildExposure(e))
	}
	if c.Nodes.Count > 0 {
		v.Nodes = fmt.Sprintf("%d nodes", c.Nodes.Count)
		if c.Nodes.Min != "" {
			if c.Nodes.Min == c.Nodes.Max {
				v.Nodes += ", kubelet " + cleanLine(c.Nodes.Min)
			} else {
				v.Nodes += ", kubelets " + cleanLine(c.Nodes.Min) + " to " + cleanLine(c.Nodes.Max)
			}
		}
	}
	if c.Error == "" {
		v.Behind = behindLine(c)
	}
	for _, s := range c.Path {
		v.Path = append(v.Path, cleanLine(s.To))
	}
	if len(c.Path) > 0 {
		v.Next = buildStep(c.Path[0])
	}
	return v
}

func behindLine(c tracker.ClusterDrift) string {
	var parts []string
	if c.PatchesBehind > 0 {
		parts = append(parts, plural(c.PatchesBehind, "patch", "patches"))
	}
	if c.MinorsBehind > 0 {
		parts = append(parts, plural(c.MinorsBehind, "minor", "minors"))
	}
	line := "up to date"
	if len(parts) > 0 {
		line = strings.Join(parts, " and ") + " behind"
	}
	var refs []string
	if c.LatestPatch != "" && c.PatchesBehind > 0 {
		refs = append(refs, "latest patch "+cleanLine(c.LatestPatch))
	}
	if c.Latest != "" {
		refs = append(refs, "latest "+cleanLine(c.Latest))
	}
	if len(refs) > 0 {
		line += " (" + strings.Join(refs, ", ") + ")"
	}
	return line
}

func supportNote(s tracker.Support) string {
	if s.EndOfLife == "" {
		return ""
	}
	eol := cleanLine(s.EndOfLife)
	if s.DaysLeft == nil {
		return "end of life " + eol
	}
	switch n := *s.DaysLeft; {
	case n > 0:
		return fmt.Sprintf("end of life %s (in %s)", eol, plural(n, "day", "days"))
	case n == 0:
		return "end of life " + eol + " (today)"
	default:
		return fmt.Sprintf("end of life %s (%s ago)", eol, plural(-n, "day", "days"))
	}
}

func buildStep(s tracker.Step) *stepView {
	v := &stepView{
		From:         cleanLine(s.From),
		To:           cleanLine(s.To),
		Deprecations: len(s.Deprecations),
	}
	for _, k := range s.KubeletsFirst {
		v.KubeletsFirst = append(v.KubeletsFirst, cleanLine(k))
	}
	v.ActionRequired, v.MoreActions = buildNotes(s.ActionRequired)
	v.Removals, v.MoreRemovals = buildNotes(s.Removals)
	for _, id := range s.CVEsFixed {
		v.CVEsFixed = append(v.CVEsFixed, cleanLine(id))
	}
	v.Links = links(s.Links)
	return v
}

func buildNotes(notes []tracker.Note) ([]noteView, int) {
	var out []noteView
	for i, n := range notes {
		if i == maxNotes {
			return out, len(notes) - maxNotes
		}
		out = append(out, buildNote(n))
	}
	return out, 0
}

// buildNote prepares one untrusted upstream note for both parts. A note that
// fails to render keeps its escaped source in the HTML part rather than
// dropping the message.
func buildNote(n tracker.Note) noteView {
	src, cut := truncate(clean(n.Text), maxNoteBytes)
	src = strings.TrimSpace(src)
	v := noteView{Text: src, Truncated: cut, URL: safeLink(n.URL), Version: cleanLine(n.Version)}
	if n.PR > 0 {
		v.Ref = "#" + strconv.Itoa(n.PR)
	}
	h, err := renderMarkdown(src)
	if err != nil {
		h = template.HTML("<p>" + template.HTMLEscapeString(src) + "</p>")
	}
	v.HTML = h
	return v
}

func buildExposure(e tracker.CVEExposure) exposureView {
	v := exposureView{ID: cleanLine(e.ID), URL: safeLink(e.URL)}
	var parts []string
	switch {
	case e.FixedIn != "":
		parts = append(parts, "fixed in "+cleanLine(e.FixedIn))
	case e.LaterFix != "":
		parts = append(parts, "fixed only in "+cleanLine(e.LaterFix))
	case e.Status == tracker.ExposureNoFix:
		parts = append(parts, "no fix released")
	}
	if len(e.Components) > 0 {
		parts = append(parts, cleanLine(strings.Join(e.Components, ", ")))
	}
	if r := rating(e.Severity, e.Score); r != "" {
		parts = append(parts, r)
	}
	if e.MayBeBackported {
		parts = append(parts, "the provider may have backported the fix")
	}
	v.Line = strings.Join(parts, "; ")
	return v
}

func buildAdvisory(a tracker.Advisory) advisoryView {
	v := advisoryView{
		Severity: cleanLine(string(a.Severity)),
		Color:    cmp.Or(severityColors[a.Severity], neutralColor),
		Kind:     cleanLine(string(a.Kind)),
		Cluster:  cleanLine(a.Cluster),
		Title:    cleanLine(a.Title),
		Detail:   strings.TrimSpace(clean(a.Detail)),
		Due:      cleanLine(a.DueDate),
		Links:    links(a.Links),
	}
	if v.Severity == "" {
		v.Severity = "unrated"
	}
	if v.Title == "" {
		v.Title = cleanLine(a.Subject)
	}
	switch {
	case a.Version != "" && a.Target != "":
		v.Versions = cleanLine(a.Version) + " → " + cleanLine(a.Target)
	case a.Version != "":
		v.Versions = cleanLine(a.Version)
	case a.Target != "":
		v.Versions = "→ " + cleanLine(a.Target)
	}
	for _, e := range a.CVEs {
		v.CVEs = append(v.CVEs, buildExposure(e))
	}
	v.Notes, v.MoreNotes = buildNotes(a.Notes)
	return v
}

func buildBatch(b notify.Batch, prefix string) (batchView, error) {
	if len(b.Advisories) == 0 {
		return batchView{}, fmt.Errorf("batch %q has no advisories", b.ID)
	}
	v := batchView{}
	if !b.GeneratedAt.IsZero() {
		v.Generated = b.GeneratedAt.UTC().Format(timeLayout)
	}
	counts := map[tracker.Severity]int{}
	top := b.Advisories[0].Severity
	for _, a := range b.Advisories {
		counts[a.Severity]++
		if a.Severity.Rank() < top.Rank() {
			top = a.Severity
		}
	}
	for _, s := range tracker.Severities {
		if counts[s] > 0 {
			v.Summary = append(v.Summary, fact{Label: string(s), Value: counts[s], Alert: s.AtLeast(tracker.SeverityHigh)})
		}
	}
	names, by := b.Clusters()
	var shown []string
	for _, name := range names {
		g := groupView{Name: cleanLine(name)}
		if g.Name == "" {
			g.Name = "fleet-wide"
		}
		shown = append(shown, g.Name)
		for _, a := range by[name] {
			g.Advisories = append(g.Advisories, buildAdvisory(a))
		}
		v.Groups = append(v.Groups, g)
	}
	var subj string
	if len(b.Advisories) == 1 {
		a := v.Groups[0].Advisories[0]
		subj = a.Severity + ": " + a.Title
		if a.Cluster != "" && !strings.Contains(a.Title, a.Cluster) {
			subj += " (" + a.Cluster + ")"
		}
	} else {
		subj = fmt.Sprintf("%d advisories", len(b.Advisories))
		if top != "" {
			subj += ", highest " + cleanLine(string(top))
		}
		if len(shown) > maxSubjectClusters {
			shown = append(shown[:maxSubjectClusters], fmt.Sprintf("%d more", len(shown)-maxSubjectClusters))
		}
		subj += ": " + strings.Join(shown, ", ")
	}
	v.Subject = subject(prefix, subj)
	return v, nil
}

func subject(prefix, s string) string {
	return strings.TrimSpace(cleanLine(prefix) + " " + cleanLine(s))
}

func links(in []string) []string {
	var out []string
	for _, l := range in {
		if l = safeLink(l); l != "" && !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out
}

func rating(r string, score float64) string {
	r = strings.ToLower(cleanLine(r))
	if score > 0 {
		return strings.TrimSpace(r + " " + strconv.FormatFloat(score, 'f', 1, 64))
	}
	return r
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
