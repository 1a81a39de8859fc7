package email

import (
	"fmt"
	"html/template"
	"strings"
	"unicode/utf8"

	"github.com/kubedrift/kubedrift/notify"
)

// RenderDigest renders the weekly digest as a subject, a plain-text part and
// an HTML part, with the default subject prefix. It is pure (no clock, no
// network) so it serves golden tests and previews; it fails only on a digest
// without a generation time.
func RenderDigest(d notify.Digest) (subject, text, html string, err error) {
	return renderDigest(d, DefaultSubjectPrefix)
}

// RenderBatch renders an advisory batch like the digest, shorter: advisories
// grouped per cluster. It fails on a batch without advisories.
func RenderBatch(b notify.Batch) (subject, text, html string, err error) {
	return renderBatch(b, DefaultSubjectPrefix)
}

func renderDigest(d notify.Digest, prefix string) (string, string, string, error) {
	v, err := buildDigest(d, prefix)
	if err != nil {
		return "", "", "", fmt.Errorf("render digest: %w", err)
	}
	var h strings.Builder
	if err := pages.ExecuteTemplate(&h, "digest", v); err != nil {
		return "", "", "", fmt.Errorf("render digest %s: html: %w", v.Generated, err)
	}
	return v.Subject, digestText(v), h.String(), nil
}

func renderBatch(b notify.Batch, prefix string) (string, string, string, error) {
	v, err := buildBatch(b, prefix)
	if err != nil {
		return "", "", "", fmt.Errorf("render batch: %w", err)
	}
	var h strings.Builder
	if err := pages.ExecuteTemplate(&h, "batch", v); err != nil {
		return "", "", "", fmt.Errorf("render batch %q: html: %w", b.ID, err)
	}
	return v.Subject, batchText(v), h.String(), nil
}

// textWriter builds the plain-text part; upstream markdown is kept as-is
// (already cleaned of control characters) and indented under its bullet.
type textWriter struct{ strings.Builder }

func (w *textWriter) line(indent int, format string, args ...any) {
	s := strings.Repeat("  ", indent) + fmt.Sprintf(format, args...)
	// Multi-line values are indented by the caller; keep blank lines empty.
	for l := range strings.SplitSeq(s, "\n") {
		w.WriteString(strings.TrimRight(l, " "))
		w.WriteByte('\n')
	}
}

// heading writes a section title; names (clusters) are kept as they are,
// section titles are upper-cased.
func (w *textWriter) heading(s string) {
	w.title(strings.ToUpper(s))
}

func (w *textWriter) title(s string) {
	w.WriteByte('\n')
	w.line(0, "%s", s)
	w.line(0, "%s", strings.Repeat("=", utf8.RuneCountInString(s)))
}

func (w *textWriter) notes(indent int, label string, notes []noteView, more int) {
	if len(notes) == 0 {
		return
	}
	w.line(indent, "%s (%d):", label, len(notes)+more)
	pad := strings.Repeat("  ", indent+2)
	for _, n := range notes {
		body := strings.ReplaceAll(n.Text, "\n", "\n"+pad)
		if n.Truncated {
			body += " [...]"
		}
		w.line(indent+1, "- %s", body)
		var ref []string
		if n.Version != "" {
			ref = append(ref, n.Version)
		}
		if n.Ref != "" {
			ref = append(ref, n.Ref)
		}
		if n.URL != "" {
			ref = append(ref, n.URL)
		}
		if len(ref) > 0 {
			w.line(indent+2, "(%s)", strings.Join(ref, " "))
		}
	}
	if more > 0 {
		w.line(indent+1, "... and %d more in the changelog", more)
	}
}

func (w *textWriter) exposures(indent int, es []exposureView) {
	for _, e := range es {
		line := e.ID
		if e.Line != "" {
			line += ": " + e.Line
		}
		if e.URL != "" {
			line += " <" + e.URL + ">"
		}
		w.line(indent, "- %s", line)
	}
}

func (w *textWriter) advisory(indent int, a advisoryView, withCluster bool) {
	title := a.Title
	if withCluster && a.Cluster != "" {
		title = a.Cluster + ": " + title
	}
	w.line(indent, "- [%s] %s: %s", a.Severity, a.Kind, title)
	in := indent + 1
	if a.Versions != "" {
		w.line(in, "Version: %s", a.Versions)
	}
	if a.Due != "" {
		w.line(in, "Due: %s", a.Due)
	}
	if a.Detail != "" {
		w.line(in, "%s", strings.ReplaceAll(a.Detail, "\n", "\n"+strings.Repeat("  ", in)))
	}
	if len(a.CVEs) > 0 {
		w.line(in, "CVEs:")
		w.exposures(in+1, a.CVEs)
	}
	w.notes(in, "Notes", a.Notes, a.MoreNotes)
	for _, l := range a.Links {
		w.line(in, "<%s>", l)
	}
}

func summaryText(fs []fact) string {
	parts := make([]string, 0, len(fs))
	for _, f := range fs {
		parts = append(parts, fmt.Sprintf("%d %s", f.Value, f.Label))
	}
	return strings.Join(parts, " | ")
}

func digestText(v digestView) string {
	var w textWriter
	w.line(0, "kubedrift weekly digest, %s", v.Period)
	w.line(0, "Generated %s", v.Generated)

	w.heading("Fleet")
	w.line(0, "%s", summaryText(v.Summary))

	w.heading("Clusters")
	if len(v.Clusters) == 0 {
		w.line(0, "No clusters are configured.")
	}
	for _, c := range v.Clusters {
		w.WriteByte('\n')
		head := c.Name
		if c.Distribution != "" {
			head += " (" + c.Distribution + ")"
		}
		if c.Version != "" {
			head += " " + c.Version
		}
		w.line(0, "%s", head)
		if c.Error != "" {
			w.line(1, "Could not be assessed: %s", c.Error)
			continue
		}
		status := "Support: " + c.Status
		if c.StatusNote != "" {
			status += ", " + c.StatusNote
		}
		w.line(1, "%s", status)
		w.line(1, "Drift: %s", c.Behind)
		if c.Nodes != "" {
			w.line(1, "Nodes: %s", c.Nodes)
		}
		for _, s := range c.Skew {
			w.line(1, "Skew: %s", s)
		}
		for _, s := range c.Warnings {
			w.line(1, "Warning: %s", s)
		}
		if len(c.CVEs) > 0 {
			w.line(1, "Exposed to %s:", plural(len(c.CVEs), "CVE", "CVEs"))
			w.exposures(2, c.CVEs)
		}
		if len(c.Path) > 0 {
			w.line(1, "Upgrade path: %s → %s", c.Version, strings.Join(c.Path, " → "))
		}
		if s := c.Next; s != nil {
			w.line(1, "Next step %s → %s:", s.From, s.To)
			if len(s.KubeletsFirst) > 0 {
				w.line(2, "Upgrade kubelets first: %s", strings.Join(s.KubeletsFirst, ", "))
			}
			w.notes(2, "Action required", s.ActionRequired, s.MoreActions)
			w.notes(2, "Removals", s.Removals, s.MoreRemovals)
			if s.Deprecations > 0 {
				w.line(2, "Deprecations: %d (see the changelog)", s.Deprecations)
			}
			if len(s.CVEsFixed) > 0 {
				w.line(2, "Fixes: %s", strings.Join(s.CVEsFixed, ", "))
			}
			for _, l := range s.Links {
				w.line(2, "<%s>", l)
			}
		}
	}

	w.heading("New CVEs this week")
	if len(v.NewCVEs) == 0 {
		w.line(0, "None.")
	}
	for _, c := range v.NewCVEs {
		head := "- " + c.ID
		if c.Rating != "" {
			head += " (" + c.Rating + ")"
		}
		if c.Summary != "" {
			head += ": " + c.Summary
		}
		w.line(0, "%s", head)
		if c.Published != "" {
			w.line(1, "Published %s", c.Published)
		}
		if len(c.Clusters) > 0 {
			w.line(1, "Affects: %s", strings.Join(c.Clusters, ", "))
		} else {
			w.line(1, "Affects no cluster of the fleet.")
		}
		if c.URL != "" {
			w.line(1, "<%s>", c.URL)
		}
	}

	sections := []struct {
		title string
		advs  []advisoryView
	}{{"End of life", v.EOL}, {"Removals ahead", v.Removals}, {"Other open advisories", v.Other}}
	for _, s := range sections {
		if len(s.advs) == 0 {
			continue
		}
		w.heading(s.title)
		for _, a := range s.advs {
			w.advisory(0, a, true)
		}
	}

	if len(v.Problems) > 0 {
		w.heading("Delivery problems")
		for _, p := range v.Problems {
			w.line(0, "- %s", p)
		}
	}
	return w.String()
}

func batchText(v batchView) string {
	var w textWriter
	w.line(0, "%s", v.Subject)
	if v.Generated != "" {
		w.line(0, "Generated %s", v.Generated)
	}
	w.line(0, "%s", summaryText(v.Summary))
	for _, g := range v.Groups {
		w.title(g.Name)
		for _, a := range g.Advisories {
			w.advisory(0, a, false)
		}
	}
	return w.String()
}

// pages holds the HTML templates. Layout is tables with inline styles only:
// many mail clients drop <style> blocks and never load external CSS, images or
// scripts. Every value is escaped by html/template except noteView.HTML, the
// goldmark rendering of upstream markdown (see renderMarkdown).
var pages = template.Must(template.New("email").Funcs(template.FuncMap{
	"plural": plural,
	"badge":  func(text string, color template.CSS) badgeArgs { return badgeArgs{Text: text, Color: color} },
	"notes": func(label string, notes []noteView, more int) notesArgs {
		return notesArgs{Label: label, Notes: notes, More: more, Total: len(notes) + more}
	},
	"advisory": func(a advisoryView, withCluster bool) advisoryArgs {
		return advisoryArgs{A: a, WithCluster: withCluster}
	},
}).Parse(pageTemplates))

// Arguments of the sub-templates that need more than one value.
type (
	badgeArgs struct {
		Text  string
		Color template.CSS
	}
	notesArgs struct {
		Label string
		Notes []noteView
		More  int
		Total int
	}
	advisoryArgs struct {
		A           advisoryView
		WithCluster bool
	}
)

const pageTemplates = `
{{- define "open" -}}
<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{{.}}</title></head>
<body style="margin:0;padding:0;background-color:#f2f4f7;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background-color:#f2f4f7;">
<tr><td align="center" style="padding:16px 8px;">
<table role="presentation" width="680" cellpadding="0" cellspacing="0" border="0" style="width:100%;max-width:680px;background-color:#ffffff;border:1px solid #d0d5dd;font-family:Helvetica,Arial,sans-serif;font-size:14px;line-height:20px;color:#101828;">
{{- end}}

{{- define "close"}}
<tr><td style="padding:12px 20px;border-top:1px solid #eaecf0;font-size:12px;line-height:16px;color:#667085;">Sent by kubedrift. Notes are quoted from upstream Kubernetes release notes; follow the links for the full text.</td></tr>
</table>
</td></tr>
</table>
</body></html>
{{end}}

{{- define "summary"}}
<tr><td style="padding:0 20px 12px 20px;">
<table role="presentation" cellpadding="0" cellspacing="0" border="0"><tr>
{{- range .}}
<td style="padding:8px 12px;border:1px solid #eaecf0;text-align:center;"><div style="font-size:20px;line-height:24px;font-weight:bold;color:{{if and .Alert .Value}}#b42318{{else}}#101828{{end}};">{{.Value}}</div><div style="font-size:12px;line-height:16px;color:#475467;">{{.Label}}</div></td>
{{- end}}
</tr></table>
</td></tr>
{{- end}}

{{- define "section"}}
<tr><td style="padding:16px 20px 4px 20px;font-size:16px;line-height:22px;font-weight:bold;color:#101828;border-top:1px solid #eaecf0;">{{.}}</td></tr>
{{- end}}

{{- define "badge"}}<span style="display:inline-block;padding:1px 6px;border:1px solid {{.Color}};color:{{.Color}};font-size:12px;line-height:16px;font-weight:bold;">{{.Text}}</span>{{end}}

{{- define "notes"}}
{{- if .Notes}}
<div style="margin:6px 0 2px 0;font-weight:bold;">{{.Label}} ({{.Total}})</div>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0">
{{- range .Notes}}
<tr><td style="padding:4px 8px;border-left:3px solid #d0d5dd;background-color:#f9fafb;font-size:13px;line-height:18px;">{{.HTML}}{{if .Truncated}}<div style="color:#667085;">[note shortened]</div>{{end}}<div style="color:#667085;font-size:12px;">{{with .Version}}{{.}} {{end}}{{if .URL}}<a href="{{.URL}}" style="color:#175cd3;">{{or .Ref "source"}}</a>{{else}}{{.Ref}}{{end}}</div></td></tr>
<tr><td style="height:4px;font-size:0;line-height:0;">&nbsp;</td></tr>
{{- end}}
</table>
{{- if .More}}<div style="color:#667085;">… and {{.More}} more in the changelog</div>{{end}}
{{- end}}
{{- end}}

{{- define "exposures"}}
{{- if .}}
<ul style="margin:4px 0;padding-left:20px;">
{{- range .}}
<li>{{if .URL}}<a href="{{.URL}}" style="color:#175cd3;">{{.ID}}</a>{{else}}{{.ID}}{{end}}{{with .Line}}: {{.}}{{end}}</li>
{{- end}}
</ul>
{{- end}}
{{- end}}

{{- define "links"}}{{range .}}<div><a href="{{.}}" style="color:#175cd3;word-break:break-all;">{{.}}</a></div>{{end}}{{end}}

{{- define "advisory"}}
<tr><td style="padding:6px 20px;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="border:1px solid #eaecf0;border-left:4px solid {{.A.Color}};">
<tr><td style="padding:8px 10px;">
<div>{{template "badge" (badge .A.Severity .A.Color)}} <span style="color:#475467;font-size:12px;">{{.A.Kind}}</span></div>
<div style="font-weight:bold;margin-top:4px;">{{if and .WithCluster .A.Cluster}}{{.A.Cluster}}: {{end}}{{.A.Title}}</div>
{{- with .A.Versions}}<div style="color:#475467;">Version: {{.}}</div>{{end}}
{{- with .A.Due}}<div style="color:#475467;">Due: {{.}}</div>{{end}}
{{- with .A.Detail}}<div style="margin-top:4px;white-space:pre-wrap;">{{.}}</div>{{end}}
{{- template "exposures" .A.CVEs}}
{{- template "notes" (notes "Notes" .A.Notes .A.MoreNotes)}}
{{- template "links" .A.Links}}
</td></tr>
</table>
</td></tr>
{{- end}}

{{- define "digest"}}
{{- template "open" .Subject}}
<tr><td style="padding:20px 20px 4px 20px;font-size:20px;line-height:26px;font-weight:bold;">kubedrift weekly digest</td></tr>
<tr><td style="padding:0 20px 12px 20px;color:#475467;">{{.Period}} · generated {{.Generated}}</td></tr>
{{- template "summary" .Summary}}
{{- template "section" "Clusters"}}
{{- if not .Clusters}}
<tr><td style="padding:6px 20px;">No clusters are configured.</td></tr>
{{- end}}
{{- range .Clusters}}
<tr><td style="padding:6px 20px;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="border:1px solid #eaecf0;">
<tr><td style="padding:8px 10px;background-color:#f9fafb;border-bottom:1px solid #eaecf0;"><span style="font-weight:bold;font-size:15px;">{{.Name}}</span>{{with .Distribution}} <span style="color:#475467;">({{.}})</span>{{end}} <span style="font-family:Menlo,Consolas,monospace;">{{.Version}}</span>{{if not .Error}} {{template "badge" (badge .Status .StatusColor)}}{{end}}</td></tr>
<tr><td style="padding:8px 10px;">
{{- if .Error}}
<div style="color:#b42318;">Could not be assessed: {{.Error}}</div>
{{- else}}
{{- with .StatusNote}}<div>Support: {{.}}</div>{{end}}
<div>Drift: {{.Behind}}</div>
{{- with .Nodes}}<div>Nodes: {{.}}</div>{{end}}
{{- range .Skew}}<div style="color:#b54708;">Skew: {{.}}</div>{{end}}
{{- range .Warnings}}<div style="color:#b54708;">Warning: {{.}}</div>{{end}}
{{- if .CVEs}}<div style="margin-top:6px;font-weight:bold;">Exposed to {{plural (len .CVEs) "CVE" "CVEs"}}</div>{{template "exposures" .CVEs}}{{end}}
{{- if .Path}}<div style="margin-top:6px;">Upgrade path: <span style="font-family:Menlo,Consolas,monospace;">{{.Version}}{{range .Path}} → {{.}}{{end}}</span></div>{{end}}
{{- with .Next}}
<div style="margin-top:6px;font-weight:bold;">Next step {{.From}} → {{.To}}</div>
{{- if .KubeletsFirst}}<div style="color:#b54708;">Upgrade kubelets first: {{range $i, $k := .KubeletsFirst}}{{if $i}}, {{end}}{{$k}}{{end}}</div>{{end}}
{{- template "notes" (notes "Action required" .ActionRequired .MoreActions)}}
{{- template "notes" (notes "Removals" .Removals .MoreRemovals)}}
{{- if .Deprecations}}<div>Deprecations: {{.Deprecations}} (see the changelog)</div>{{end}}
{{- if .CVEsFixed}}<div>Fixes: {{range $i, $c := .CVEsFixed}}{{if $i}}, {{end}}{{$c}}{{end}}</div>{{end}}
{{- template "links" .Links}}
{{- end}}
{{- if and (not .Path) (not .CVEs) (eq .Status "supported")}}<div style="color:#067647;">Nothing pending.</div>{{end}}
{{- end}}
</td></tr>
</table>
</td></tr>
{{- end}}
{{- template "section" "New CVEs this week"}}
{{- if not .NewCVEs}}
<tr><td style="padding:6px 20px;">None.</td></tr>
{{- end}}
{{- range .NewCVEs}}
<tr><td style="padding:6px 20px;">
<div><span style="font-weight:bold;">{{if .URL}}<a href="{{.URL}}" style="color:#175cd3;">{{.ID}}</a>{{else}}{{.ID}}{{end}}</span>{{with .Rating}} <span style="color:#475467;">({{.}})</span>{{end}}{{with .Summary}}: {{.}}{{end}}</div>
<div style="color:#475467;">{{with .Published}}Published {{.}}. {{end}}{{if .Clusters}}Affects: {{range $i, $c := .Clusters}}{{if $i}}, {{end}}{{$c}}{{end}}{{else}}Affects no cluster of the fleet.{{end}}</div>
</td></tr>
{{- end}}
{{- if .EOL}}{{template "section" "End of life"}}{{range .EOL}}{{template "advisory" (advisory . true)}}{{end}}{{end}}
{{- if .Removals}}{{template "section" "Removals ahead"}}{{range .Removals}}{{template "advisory" (advisory . true)}}{{end}}{{end}}
{{- if .Other}}{{template "section" "Other open advisories"}}{{range .Other}}{{template "advisory" (advisory . true)}}{{end}}{{end}}
{{- if .Problems}}
{{- template "section" "Delivery problems"}}
<tr><td style="padding:6px 20px;"><ul style="margin:0;padding-left:20px;color:#b42318;">{{range .Problems}}<li>{{.}}</li>{{end}}</ul></td></tr>
{{- end}}
{{- template "close"}}
{{- end}}

{{- define "batch"}}
{{- template "open" .Subject}}
<tr><td style="padding:20px 20px 4px 20px;font-size:18px;line-height:24px;font-weight:bold;">{{.Subject}}</td></tr>
{{- with .Generated}}<tr><td style="padding:0 20px 12px 20px;color:#475467;">generated {{.}}</td></tr>{{end}}
{{- template "summary" .Summary}}
{{- range .Groups}}
{{- template "section" .Name}}
{{- range .Advisories}}{{template "advisory" (advisory . false)}}{{end}}
{{- end}}
{{- template "close"}}
{{- end}}
`
