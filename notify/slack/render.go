package slack

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/kubedrift/kubedrift/notify"
	"github.com/kubedrift/kubedrift/tracker"
)

// Slack's Block Kit limits.
const (
	maxBlocks     = 50   // blocks per message
	maxText       = 3000 // runes per section or context text object
	maxHeaderText = 150  // runes of a header's plain text
	// maxMessageText bounds the text of one message. Slack documents no
	// total for blocks but truncates message text at 40,000 characters;
	// staying under it keeps a message of long advisories readable too.
	maxMessageText = 40000
)

// Budgets that keep one advisory readable and within maxText.
const (
	maxExcerpt    = 400 // runes of one note's text
	maxNotes      = 10  // notes listed per advisory
	maxCVEs       = 20  // CVE lines per advisory
	maxLabelRunes = 200 // runes of a cluster's label list
	// maxExcerptSource is how much of a note is read to make its excerpt;
	// ample for maxExcerpt runes once markdown links are reduced, and it
	// keeps a megabyte-long note from costing a megabyte of escaping.
	maxExcerptSource = 16 << 10
)

// Render turns a batch into Slack messages, in the order they are posted.
// Each message starts with a header block ("kubedrift: N advisories for M
// clusters", with "(i/n)" when split) and holds at most 50 blocks; a
// cluster that continues into the next message is announced again there.
// An empty batch renders no message.
func Render(b notify.Batch) [][]slack.Block {
	msgs := render(b)
	out := make([][]slack.Block, len(msgs))
	for i, m := range msgs {
		out[i] = m.blocks
	}
	return out
}

type message struct {
	title  string // the header text, also the notification fallback
	blocks []slack.Block
}

// group is a run of blocks that must stay in one message: an advisory and
// its links, or a cluster's heading with its first advisory.
type group struct {
	blocks       []slack.Block
	runes        int // text in blocks
	clusterStart bool
	cluster      string
	sample       tracker.Advisory
}

func render(b notify.Batch) []message {
	if len(b.Advisories) == 0 {
		return nil
	}
	names, by := b.Clusters()
	var groups []group
	for ci, name := range names {
		advs := by[name]
		for ai, a := range advs {
			g := group{cluster: name, sample: advs[0]}
			if ai == 0 {
				g.clusterStart = true
				if ci > 0 {
					g.blocks = append(g.blocks, slack.NewDividerBlock())
				}
				g.blocks = append(g.blocks, clusterHeading(name, advs[0], false))
			}
			g.blocks = append(g.blocks, advisoryBlocks(a)...)
			for _, bl := range g.blocks {
				g.runes += blockRunes(bl)
			}
			groups = append(groups, g)
		}
	}

	// Pack groups into messages, leaving room for each message's header.
	var bodies [][]slack.Block
	var cur []slack.Block
	runes := 0
	for _, g := range groups {
		full := len(cur)+len(g.blocks) > maxBlocks-1 || runes+g.runes > maxMessageText-maxHeaderText
		if full && len(cur) > 0 {
			bodies = append(bodies, cur)
			cur, runes = nil, 0
		}
		blocks := g.blocks
		if len(cur) == 0 && len(bodies) > 0 {
			if g.clusterStart {
				if _, ok := blocks[0].(*slack.DividerBlock); ok {
					blocks = blocks[1:]
				}
			} else {
				h := clusterHeading(g.cluster, g.sample, true)
				cur = append(cur, h)
				runes += blockRunes(h)
			}
		}
		cur = append(cur, blocks...)
		runes += g.runes
	}
	if len(cur) > 0 {
		bodies = append(bodies, cur)
	}

	clusters := 0
	for _, n := range names {
		if n != "" {
			clusters++
		}
	}
	title := headerTitle(len(b.Advisories), clusters)
	msgs := make([]message, len(bodies))
	for i, body := range bodies {
		t := title
		if len(bodies) > 1 {
			t = fmt.Sprintf("%s (%d/%d)", title, i+1, len(bodies))
		}
		t = truncatePlain(t, maxHeaderText)
		blocks := make([]slack.Block, 0, len(body)+1)
		blocks = append(blocks, slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, t, false, false)))
		blocks = append(blocks, body...)
		msgs[i] = message{title: t, blocks: blocks}
	}
	return msgs
}

// blockRunes counts the text of the block kinds render builds.
func blockRunes(b slack.Block) int {
	switch x := b.(type) {
	case *slack.SectionBlock:
		if x.Text != nil {
			return runeLen(x.Text.Text)
		}
	case *slack.ContextBlock:
		n := 0
		for _, e := range x.ContextElements.Elements {
			if t, ok := e.(*slack.TextBlockObject); ok {
				n += runeLen(t.Text)
			}
		}
		return n
	}
	return 0
}

func headerTitle(advisories, clusters int) string {
	t := "kubedrift: " + plural(advisories, "advisory", "advisories")
	if clusters > 0 {
		t += " for " + plural(clusters, "cluster", "clusters")
	}
	return t
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// truncatePlain shortens plain text (no entities) at a rune boundary.
func truncatePlain(s string, max int) string {
	if runeLen(s) <= max {
		return s
	}
	r := []rune(s)
	return string(r[:max-1]) + "…"
}

func mrkdwn(text string) *slack.TextBlockObject {
	// verbatim: Slack must not auto-link URLs or parse names in upstream
	// text; kubedrift's own links are explicit <url|label>.
	return slack.NewTextBlockObject(slack.MarkdownType, truncate(text, maxText), false, true)
}

func clusterHeading(name string, a tracker.Advisory, continued bool) slack.Block {
	var b strings.Builder
	if name == "" {
		b.WriteString("*Fleet-wide*")
	} else {
		b.WriteString("*" + escape(oneLine(name)) + "*")
		if a.Distribution != "" {
			b.WriteString("  ·  " + escape(oneLine(a.Distribution)))
		}
		if a.Version != "" {
			b.WriteString("  ·  " + code(a.Version))
		}
	}
	if continued {
		b.WriteString("  _(continued)_")
	}
	if len(a.Labels) > 0 && name != "" {
		keys := slices.Sorted(maps.Keys(a.Labels))
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = oneLine(k) + "=" + oneLine(a.Labels[k])
		}
		b.WriteString("\n" + truncate(escape(strings.Join(parts, ", ")), maxLabelRunes))
	}
	return slack.NewSectionBlock(mrkdwn(b.String()), nil, nil)
}

// code renders a short fact (a version) as a code span.
func code(s string) string {
	return "`" + escape(strings.ReplaceAll(oneLine(s), "`", "'")) + "`"
}

var severityEmoji = map[tracker.Severity]string{
	tracker.SeverityCritical: ":red_circle:",
	tracker.SeverityHigh:     ":large_orange_circle:",
	tracker.SeverityMedium:   ":large_yellow_circle:",
	tracker.SeverityLow:      ":large_blue_circle:",
	tracker.SeverityInfo:     ":white_circle:",
}

var kindLabel = map[tracker.AdvisoryKind]string{
	tracker.AdvisorySecurityFix:    "security fix",
	tracker.AdvisoryRemoval:        "removal ahead",
	tracker.AdvisoryActionRequired: "action required",
	tracker.AdvisoryEOL:            "end of life",
	tracker.AdvisorySkew:           "version skew",
	tracker.AdvisoryNewRelease:     "new release",
	tracker.AdvisoryUnreachable:    "cluster unreachable",
	tracker.AdvisorySelf:           "kubedrift",
}

func advisoryBlocks(a tracker.Advisory) []slack.Block {
	blocks := []slack.Block{slack.NewSectionBlock(mrkdwn(advisoryText(a)), nil, nil)}
	if l := linksText(a); l != "" {
		blocks = append(blocks, slack.NewContextBlock("", mrkdwn(l)))
	}
	return blocks
}

func advisoryText(a tracker.Advisory) string {
	var b strings.Builder
	emoji, ok := severityEmoji[a.Severity]
	if !ok {
		emoji = ":white_circle:"
	}
	sev := strings.ToUpper(escape(oneLine(string(a.Severity))))
	if sev == "" {
		sev = "UNRATED"
	}
	kind, ok := kindLabel[a.Kind]
	if !ok {
		kind = escape(oneLine(string(a.Kind)))
	}
	fmt.Fprintf(&b, "%s *%s* · %s · %s", emoji, sev, kind, escape(oneLine(a.Title)))
	switch {
	case a.Version != "" && a.Target != "":
		b.WriteString("\n" + code(a.Version) + " → " + code(a.Target))
	case a.Target != "":
		b.WriteString("\ntarget " + code(a.Target))
	}
	if a.DueDate != "" {
		b.WriteString("\ndue " + code(a.DueDate))
	}
	if d := oneLine(a.Detail); d != "" {
		b.WriteString("\n" + truncate(escape(d), maxExcerpt*2))
	}
	for i, c := range a.CVEs {
		if i == maxCVEs {
			fmt.Fprintf(&b, "\n• … and %d more CVEs", len(a.CVEs)-maxCVEs)
			break
		}
		b.WriteString("\n• " + cveLine(c))
	}
	for i, n := range a.Notes {
		if i == maxNotes {
			fmt.Fprintf(&b, "\n• … and %d more notes", len(a.Notes)-maxNotes)
			break
		}
		b.WriteString("\n• " + noteLine(n))
	}
	return b.String()
}

func cveLine(c tracker.CVEExposure) string {
	var b strings.Builder
	b.WriteString("*" + escape(oneLine(c.ID)) + "*")
	switch {
	case c.Severity != "" && c.Score > 0:
		fmt.Fprintf(&b, " (%s %.1f)", escape(oneLine(c.Severity)), c.Score)
	case c.Severity != "":
		fmt.Fprintf(&b, " (%s)", escape(oneLine(c.Severity)))
	}
	switch c.Status {
	case tracker.ExposureFixedInLaterMinor:
		b.WriteString(" fixed only in a later minor")
		if c.LaterFix != "" {
			b.WriteString(" (" + code(c.LaterFix) + ")")
		}
	case tracker.ExposureNoFix:
		b.WriteString(" no fix released yet")
	default:
		if c.FixedIn != "" {
			b.WriteString(" fixed in " + code(c.FixedIn))
		}
	}
	if len(c.Components) > 0 {
		b.WriteString(" · " + escape(oneLine(strings.Join(c.Components, ", "))))
	}
	if c.MayBeBackported {
		b.WriteString(" · _the provider may carry a backported fix_")
	}
	return b.String()
}

func noteLine(n tracker.Note) string {
	var label []string
	if n.ActionRequired {
		label = append(label, "action required")
	}
	for _, k := range n.Kinds {
		if k == tracker.KindRemoval || k == tracker.KindDeprecation || k == tracker.KindSecurity {
			label = append(label, string(k))
		}
	}
	if len(label) == 0 {
		label = append(label, "note")
	}
	head := "_" + strings.Join(label, ", ") + "_"
	if n.Version != "" {
		head += " in " + code(n.Version)
	}
	text := n.Text
	if n.Security != nil && n.Security.Title != "" {
		text = n.Security.ID + ": " + n.Security.Title
	}
	return head + ": " + truncate(escape(oneLine(plainMarkdown(cutBytes(text, maxExcerptSource)))), maxExcerpt)
}

// cutBytes shortens s to at most n bytes at a rune boundary.
func cutBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// linksText lists an advisory's sources. PR links are built from the PR
// number alone; other URLs become links only when safeURL accepts them.
func linksText(a tracker.Advisory) string {
	var parts []string
	seen := map[string]bool{}
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			parts = append(parts, s)
		}
	}
	for _, n := range a.Notes {
		switch {
		case n.Component == tracker.ComponentKubernetes && n.PR > 0:
			add(fmt.Sprintf("<https://github.com/kubernetes/kubernetes/pull/%d|#%d>", n.PR, n.PR))
		case n.URL != "":
			add(link(n.URL, "notes "+n.Version))
		}
	}
	for _, c := range a.CVEs {
		if c.URL != "" {
			add(link(c.URL, c.ID))
		}
	}
	for _, l := range a.Links {
		add(link(l, linkLabel(l)))
	}
	return strings.Join(parts, "  ·  ")
}

// linkLabel names a link by its host and path, shortened.
func linkLabel(raw string) string {
	s := strings.TrimPrefix(raw, "https://")
	return truncatePlain(s, 60)
}
