package changelog

import (
	"bytes"
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/kubedrift/kubedrift/tracker"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"
)

// Result of parsing one changelog or release body.
type Result struct {
	// Releases has one release per release heading found, in file order
	// (newest first in upstream files).
	Releases []tracker.Release
	// Notes are de-duplicated and attributed to their final release, ordered
	// by version (newest first), then by where they first appear in the file.
	Notes []tracker.Note
	// Problems are non-fatal oddities; parsing continued past each.
	Problems []Problem
}

// tailLen bounds the search for the trailing PR reference and SIG list: the
// longest real ones (sixteen SIGs, long user names) are under 600 bytes.
const tailLen = 1024

const kubernetesReleaseURL = "https://github.com/kubernetes/kubernetes/releases/tag/"

// section is the level-2 part of a release a block sits in.
type section int

const (
	secNone section = iota // before any section, or one whose content is not notes
	secUrgent
	secKinds
	secSecurity
	secSkip // downloads, dependencies, what's new, known issues ...
)

// kindSections maps the normalised "### <Kind>" headings under "Changes by
// Kind" to upstream's kinds.
var kindSections = map[string]tracker.Kind{
	"deprecation":                   tracker.KindDeprecation,
	"api change":                    tracker.KindAPIChange,
	"feature":                       tracker.KindFeature,
	"design":                        tracker.KindDesign,
	"documentation":                 tracker.KindDocumentation,
	"failing test":                  tracker.KindFailingTest,
	"bug or regression":             tracker.KindBug,
	"other (cleanup or flake)":      tracker.KindCleanup,
	"other (bug, cleanup or flake)": tracker.KindCleanup,
	"uncategorized":                 tracker.KindOther,
	"dependency":                    tracker.KindDependency,
}

// classifyH2 names the section a level-2 heading opens, and whether it is one
// kubedrift knows.
func classifyH2(h string) (section, bool) {
	switch {
	case strings.HasPrefix(h, "urgent upgrade notes"):
		return secUrgent, true
	case h == "changes by kind":
		return secKinds, true
	case strings.HasPrefix(h, "important security information"):
		return secSecurity, true
	case strings.HasPrefix(h, "downloads for"), strings.HasPrefix(h, "changelog since"),
		strings.HasPrefix(h, "what's new"), strings.Contains(h, "major themes"),
		strings.HasPrefix(h, "known issues"), h == "dependencies",
		strings.HasPrefix(h, "documentation"):
		return secSkip, true
	}
	return secSkip, false
}

var (
	// The note's own PR: a pull link paired with its author(s), optionally
	// followed by the SIG list, at the end of the entry.
	ownPRLinkRe = regexp.MustCompile(`\(\s*\[#(\d{1,9})\]\((https?://github\.com/kubernetes/kubernetes/pull/(\d{1,9}))/?\)(?:\s*,\s*\[@[^\]\n]*\]\([^)\s]*\))+\s*\)`)
	ownPRTextRe = regexp.MustCompile(`\(\s*#(\d{1,9})\s*(?:,\s*@[A-Za-z0-9][A-Za-z0-9_-]*\s*)+\)`)
	cveHeadRe   = regexp.MustCompile(`^(CVE-\d{4}-\d{4,})\s*[:\-\x{2013}\x{2014}]?\s*(.*)$`)
)

// rawEntry is one listing of a note under one release, before de-duplication.
type rawEntry struct {
	release   tracker.Version
	relCore   string       // release.Core(), computed once per release heading
	finalCore string       // release.Final().Core()
	kind      tracker.Kind // "" when listed outside a kind section
	action    bool
	pr        int
	url       string
	sigs      []string
	text      string
	security  *tracker.SecurityInfo
	order     int
	line      int
	hasOwnRef bool
}

// kparser holds the state of one ParseKubernetes call.
type kparser struct {
	name string
	src  []byte
	// sigNames caches "API Machinery" → "api-machinery": a few dozen names
	// repeat across hundreds of entries.
	sigNames map[string]string
	lines    lineIndex
	res      *Result

	release    *tracker.Version // current real release, nil before the first
	relCore    string
	finalCore  string
	seen       map[string]bool
	sec        section
	kind       tracker.Kind
	inKindSect bool
	entries    []rawEntry

	// open security entry
	sec0    int // start offset of the entry, -1 when none is open
	secEnd  int
	secInfo *tracker.SecurityInfo
	secMode int // 0 none, 1 affected, 2 fixed
	secLine int

	// last list entry, for a paragraph that continues it after a blank line
	lastEntry int // index into entries, -1 when the previous block was not an entry
	lastStart int
	lastInd   int
}

// ParseKubernetes parses a Kubernetes CHANGELOG-1.x.md. name (file path or
// URL) is used in errors and problems. It fails only when no release heading
// is found; everything else odd becomes a Problem.
func ParseKubernetes(name string, src []byte) (*Result, error) {
	p := &kparser{
		name: name, src: src, lines: newLineIndex(src), res: &Result{},
		seen: map[string]bool{}, sec0: -1, lastEntry: -1, sigNames: map[string]string{},
		// About one listing per 400 bytes in real changelogs; avoids regrowing.
		entries: make([]rawEntry, 0, len(src)/400+1),
	}
	doc := goldmark.New().Parser().Parse(text.NewReader(blankDownloads(src)))
	inTOC := false
	for n := doc.FirstChild(); n != nil; n = n.NextSibling() {
		if hb, ok := n.(*ast.HTMLBlock); ok {
			raw := blockRaw(src, hb)
			switch {
			case bytes.Contains(raw, []byte("BEGIN MUNGE: GENERATED_TOC")):
				inTOC = !bytes.Contains(raw, []byte("END MUNGE: GENERATED_TOC"))
			case bytes.Contains(raw, []byte("END MUNGE: GENERATED_TOC")):
				inTOC = false
			}
			continue
		}
		if inTOC {
			if h, ok := n.(*ast.Heading); ok && h.Level == 1 {
				p.problem(n, "table of contents not closed by END MUNGE before the first heading")
				inTOC = false
			} else {
				continue
			}
		}
		p.block(n)
	}
	p.closeSecurity(len(src))
	for _, e := range p.entries {
		if e.security == nil && e.pr == 0 {
			p.problemAt(e.line, "entry without its own PR reference: %q", clip(firstLine(e.text)))
		}
	}
	slices.SortStableFunc(p.res.Problems, func(a, b Problem) int { return a.Line - b.Line })
	if len(p.res.Releases) == 0 {
		return p.res, fmt.Errorf("parse Kubernetes changelog %s: no release heading (# vX.Y.Z) found", name)
	}
	p.res.Notes = mergeEntries(tracker.ComponentKubernetes, p.entries, func(pr int) string {
		return "https://github.com/kubernetes/kubernetes/pull/" + strconv.Itoa(pr)
	})
	return p.res, nil
}

// blankDownloads returns src with the bodies of the generated table of
// contents and of "## Downloads for ..." sections (lists of anchors, tables of
// hashes and links: of no use to kubedrift) replaced by spaces, so goldmark
// skips them as blank lines. Offsets and line numbers stay those of src; the
// TOC markers and the headings stay, so the AST still shows every section.
// src is returned as is when it has neither.
func blankDownloads(src []byte) []byte {
	const heading = "## Downloads for "
	const tocBegin, tocEnd = "BEGIN MUNGE: GENERATED_TOC", "END MUNGE: GENERATED_TOC"
	if !bytes.Contains(src, []byte(heading)) && !bytes.Contains(src, []byte(tocBegin)) {
		return src
	}
	out := bytes.Clone(src)
	blanking, inTOC := false, false
	for off := 0; off < len(out); {
		end := bytes.IndexByte(out[off:], '\n')
		if end < 0 {
			end = len(out)
		} else {
			end += off
		}
		line := out[off:end]
		switch {
		case bytes.Contains(line, []byte(tocBegin)):
			inTOC = !bytes.Contains(line, []byte(tocEnd))
		case bytes.Contains(line, []byte(tocEnd)):
			inTOC = false
		case inTOC && (bytes.HasPrefix(line, []byte("# ")) || bytes.HasPrefix(line, []byte("## "))):
			// An unclosed TOC: leave the rest for the parser to report.
			inTOC = false
		case inTOC:
			blankLine(line)
		case bytes.HasPrefix(line, []byte(heading)):
			blanking = true
		case bytes.HasPrefix(line, []byte("# ")) || bytes.HasPrefix(line, []byte("## ")):
			blanking = false
		case blanking:
			blankLine(line)
		}
		off = end + 1
	}
	return out
}

func blankLine(line []byte) {
	for i := range line {
		if line[i] != '\r' {
			line[i] = ' '
		}
	}
}

func (p *kparser) problem(n ast.Node, format string, args ...any) {
	line := 0
	if s := firstSegOf(n); s >= 0 {
		line = p.lines.line(s)
	}
	p.problemAt(line, format, args...)
}

func (p *kparser) problemAt(line int, format string, args ...any) {
	p.res.Problems = append(p.res.Problems, Problem{Name: p.name, Line: line, Msg: fmt.Sprintf(format, args...)})
}

func (p *kparser) block(n ast.Node) {
	if h, ok := n.(*ast.Heading); ok {
		p.lastEntry = -1
		p.heading(h)
		return
	}
	if p.release == nil {
		return
	}
	if p.sec0 >= 0 {
		p.securityBlock(n)
		return
	}
	switch p.sec {
	case secUrgent, secKinds:
	default:
		return
	}
	switch n := n.(type) {
	case *ast.List:
		p.list(n)
	case *ast.Paragraph:
		p.continuation(n)
	default:
		p.lastEntry = -1
	}
}

func (p *kparser) heading(h *ast.Heading) {
	t := headingText(p.src, h)
	switch {
	case h.Level == 1:
		p.closeSecurity(lineStart(p.src, max(firstSegOf(h), 0)))
		p.sec, p.inKindSect = secNone, false
		v, err := tracker.ParseVersion(t)
		if err != nil || v.Suffix != "" || !strings.HasPrefix(t, "v") {
			p.problem(h, "level-1 heading %q is not a release version; its content stays with the previous release", clip(t))
			return
		}
		if p.seen[v.Core()] {
			p.problem(h, "release %s listed twice; notes merged", v.Core())
		} else {
			p.seen[v.Core()] = true
			p.res.Releases = append(p.res.Releases, tracker.Release{
				Component:  tracker.ComponentKubernetes,
				Version:    v.Core(),
				Prerelease: v.IsPrerelease(),
				URL:        kubernetesReleaseURL + v.Core(),
			})
		}
		p.release = &v
		p.relCore, p.finalCore = v.Core(), v.Final().Core()
	case p.release == nil:
		// Headings before the first release (document title) are not ours.
	case h.Level == 2:
		p.closeSecurity(lineStart(p.src, max(firstSegOf(h), 0)))
		sec, known := classifyH2(normHeading(t))
		if !known {
			p.problem(h, "unknown section %q skipped", clip(t))
		}
		p.sec, p.inKindSect = sec, false
	case h.Level == 3 && p.sec == secSecurity:
		p.closeSecurity(lineStart(p.src, max(firstSegOf(h), 0)))
		m := cveHeadRe.FindStringSubmatch(t)
		if m == nil {
			p.problem(h, "security entry heading %q names no CVE id", clip(t))
			return
		}
		p.sec0 = lineStart(p.src, max(firstSegOf(h), 0))
		p.secEnd = blockEnd(p.src, h)
		p.secInfo = &tracker.SecurityInfo{ID: m[1], Title: strings.TrimSpace(m[2])}
		p.secMode = 0
		p.secLine = p.lines.line(p.sec0)
	case h.Level == 3 && p.sec == secKinds:
		k, ok := kindSections[normHeading(t)]
		if !ok {
			p.problem(h, "unknown kind section %q; notes marked other", clip(t))
			k = tracker.KindOther
		}
		p.kind, p.inKindSect = k, true
	case p.sec0 >= 0:
		// Level-4+ headings are part of the open security entry.
		p.securityBlock(h)
	}
}

// list turns each item of a notes list into one entry.
func (p *kparser) list(l *ast.List) {
	kind := tracker.Kind("")
	if p.sec == secKinds {
		if !p.inKindSect {
			p.problem(l, "entries under Changes by Kind before any kind heading; marked other")
			p.inKindSect, p.kind = true, tracker.KindOther
		}
		kind = p.kind
	}
	for it := l.FirstChild(); it != nil; it = it.NextSibling() {
		s := firstSegOf(it)
		if s < 0 {
			continue // empty item
		}
		start := s
		ls := lineStart(p.src, s)
		end := -1
		if next := it.NextSibling(); next != nil {
			if ns := firstSegOf(next); ns >= 0 {
				end = lineStart(p.src, ns)
			}
		}
		if end < 0 {
			end = blockEnd(p.src, it)
		}
		p.addEntry(kind, start, end, s-ls)
	}
}

func (p *kparser) addEntry(kind tracker.Kind, start, end, indent int) {
	e := rawEntry{
		release:   *p.release,
		relCore:   p.relCore,
		finalCore: p.finalCore,
		kind:      kind,
		action:    p.sec == secUrgent,
		order:     len(p.entries),
		line:      p.lines.line(start),
	}
	p.fillEntry(&e, entryMarkdown(p.src, start, end, indent))
	p.entries = append(p.entries, e)
	p.lastEntry, p.lastStart, p.lastInd = len(p.entries)-1, start, indent
}

func (p *kparser) fillEntry(e *rawEntry, md string) {
	e.text = md
	e.pr, e.url, e.hasOwnRef = ownPR(md)
	e.sigs = sigsOf(md, p.sigNames)
}

// continuation handles a paragraph after a notes list: upstream sometimes
// indents an entry's second paragraph too little, so it falls out of the list
// item. When the entry before it has no PR reference yet, it is that entry's.
func (p *kparser) continuation(par *ast.Paragraph) {
	if p.lastEntry < 0 || p.entries[p.lastEntry].hasOwnRef {
		p.lastEntry = -1
		return
	}
	end := blockEnd(p.src, par)
	if end < 0 {
		return
	}
	e := &p.entries[p.lastEntry]
	p.fillEntry(e, entryMarkdown(p.src, p.lastStart, end, p.lastInd))
}

// ownPR finds the note's own PR: the last PR reference paired with an author.
func ownPR(md string) (pr int, url string, ok bool) {
	// The reference sits at the end: read the tail by hand first (this runs
	// for every entry), the whole text by regexp only when that fails.
	// strings.LastIndex is a byte-by-byte scan; the reference is within
	// the last few hundred bytes.
	// '#' is rare in entries, so walking back over it is cheap.
	tail := md[max(0, len(md)-tailLen):]
	for t := tail; ; {
		i := strings.LastIndexByte(t, '#')
		if i < 0 {
			break
		}
		if i >= 2 && t[i-2] == '(' && t[i-1] == '[' {
			if pr, url, ok := ownPRTail(t[i+1:]); ok {
				return pr, url, ok
			}
			break
		}
		t = t[:i]
	}
	return ownPRIn(md)
}

// ownPRTail reads `NNN](https://github.com/kubernetes/kubernetes/pull/NNN), [@`.
func ownPRTail(s string) (int, string, bool) {
	num, rest, ok := strings.Cut(s, "](")
	if !ok || num == "" || len(num) > 9 {
		return 0, "", false
	}
	n, err := strconv.Atoi(num)
	if err != nil || n <= 0 {
		return 0, "", false
	}
	url, rest, ok := strings.Cut(rest, ")")
	const prefix = "https://github.com/kubernetes/kubernetes/pull/"
	if !ok || !strings.HasPrefix(url, prefix) || strings.TrimSuffix(url[len(prefix):], "/") != num {
		return 0, "", false
	}
	if !strings.HasPrefix(strings.TrimLeft(rest, " "), ",") || !strings.HasPrefix(strings.TrimLeft(strings.TrimLeft(rest, " ")[1:], " "), "[@") {
		return 0, "", false
	}
	return n, url, true
}

func ownPRIn(md string) (pr int, url string, ok bool) {
	if ms := ownPRLinkRe.FindAllStringSubmatch(md, -1); len(ms) > 0 {
		m := ms[len(ms)-1]
		if a, b := m[1], m[3]; a == b {
			n, err := strconv.Atoi(a)
			if err == nil {
				return n, m[2], true
			}
		}
	}
	if ms := ownPRTextRe.FindAllStringSubmatch(md, -1); len(ms) > 0 {
		n, err := strconv.Atoi(ms[len(ms)-1][1])
		if err == nil {
			return n, "https://github.com/kubernetes/kubernetes/pull/" + strconv.Itoa(n), true
		}
	}
	return 0, "", false
}

// sigsOf reads the trailing "[SIG A, B and C]" as upstream's lower-case,
// hyphenated SIG names ("api-machinery").
func sigsOf(md string, cache map[string]string) []string {
	// The list ends the entry: find its brackets from the end.
	md = strings.TrimRight(md, " \t\r\n")
	if !strings.HasSuffix(md, "]") {
		return nil
	}
	i := strings.LastIndexByte(md, '[')
	if i < 0 || !strings.HasPrefix(md[i:], "[SIG ") {
		return nil
	}
	list := md[i+len("[SIG ") : len(md)-1]
	if strings.ContainsAny(list, "\n]") {
		return nil
	}
	out := make([]string, 0, strings.Count(list, ",")+2)
	for rest := list; rest != ""; {
		var part string
		part, rest, _ = strings.Cut(rest, ",")
		for {
			name, more, found := strings.Cut(part, " and ")
			n, ok := cache[name]
			if !ok {
				n = sigName(name)
				if cache != nil {
					cache[name] = n
				}
			}
			if n != "" {
				out = append(out, n)
			}
			if !found {
				break
			}
			part = more
		}
	}
	return out
}

// sigName turns "API Machinery" into "api-machinery".
func sigName(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	b := make([]byte, 0, len(s))
	space := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			space = true
			continue
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		}
		if space {
			b = append(b, '-')
			space = false
		}
		b = append(b, c)
	}
	return string(b)
}

// securityBlock adds a block to the open security entry, reading the
// affected and fixed versions and the CVSS line on the way.
func (p *kparser) securityBlock(n ast.Node) {
	if e := blockEnd(p.src, n); e > p.secEnd {
		p.secEnd = e
	}
	switch n := n.(type) {
	case *ast.Paragraph:
		raw := string(blockRaw(p.src, n))
		label, rest, _ := strings.Cut(raw, "\n")
		switch l := normHeading(strings.ReplaceAll(label, ":", " ")); {
		case strings.HasPrefix(l, "affected versions"):
			p.secMode = 1
			p.versionLines(n, rest)
		case strings.HasPrefix(l, "fixed versions"):
			p.secMode = 2
			p.versionLines(n, rest)
		default:
			p.secMode = 0
			if c := parseCVSS(raw); c != nil {
				p.secInfo.CVSS = c
			}
		}
	case *ast.List:
		if p.secMode == 0 {
			return
		}
		for it := n.FirstChild(); it != nil; it = it.NextSibling() {
			p.versionLine(it, string(blockRaw(p.src, it.FirstChild())))
		}
	}
}

// versionLines reads versions written as plain lines under the label.
func (p *kparser) versionLines(n ast.Node, rest string) {
	for l := range strings.SplitSeq(rest, "\n") {
		l = strings.TrimLeft(strings.TrimSpace(l), "-* ")
		if l != "" {
			p.versionLine(n, l)
		}
	}
}

var (
	affectedRe = regexp.MustCompile(`^([A-Za-z][\w.-]*)\s+(?:(v?\d+\.\d+\.[\d?x*]+)\s*[-\x{2013}]\s*(v?\d+\.\d+\.[\d?x*]+)|(<=|<|≤)\s*(v?\d+\.\d+\.[\d?x*]+)|(v?\d+\.\d+\.[\d?x*]+))`)
	fixedRe    = regexp.MustCompile(`^([A-Za-z][\w.-]*)\s+(v?\d+\.\d+\.\d+\S*)`)
	cvssRe     = regexp.MustCompile(`CVSS Rating:?\**:?\**\s*([A-Za-z]+)\s*\(\s*(\d+(?:\.\d+)?)\s*\)\s*\[?\s*(CVSS:\d\.\d/[A-Za-z0-9:/]+)?`)
)

func (p *kparser) versionLine(n ast.Node, l string) {
	l = strings.TrimSpace(strings.Trim(strings.TrimSpace(l), "`"))
	switch p.secMode {
	case 1:
		m := affectedRe.FindStringSubmatch(l)
		if m == nil {
			p.problem(n, "%s: unreadable affected version %q", p.secInfo.ID, clip(l))
			return
		}
		r := tracker.ComponentRange{Component: m[1]}
		switch {
		case m[2] != "":
			r.From, r.To = m[2], m[3]
		case m[5] != "":
			r.To = m[5]
		default:
			r.From, r.To = m[6], m[6]
		}
		p.secInfo.Affected = append(p.secInfo.Affected, r)
	case 2:
		m := fixedRe.FindStringSubmatch(l)
		if m == nil {
			p.problem(n, "%s: unreadable fixed version %q", p.secInfo.ID, clip(l))
			return
		}
		p.secInfo.Fixed = append(p.secInfo.Fixed, tracker.ComponentVersion{Component: m[1], Version: m[2]})
	}
}

func parseCVSS(s string) *tracker.CVSS {
	m := cvssRe.FindStringSubmatch(s)
	if m == nil {
		return nil
	}
	score, _ := strconv.ParseFloat(m[2], 64)
	return &tracker.CVSS{Rating: m[1], Score: score, Vector: m[3]}
}

// closeSecurity ends the open security entry (if any) at offset stop.
func (p *kparser) closeSecurity(stop int) {
	if p.sec0 < 0 {
		return
	}
	end := min(max(p.secEnd, p.sec0), stop)
	md := entryMarkdown(p.src, p.sec0, end, 0)
	info := p.secInfo
	if len(info.Fixed) == 0 {
		p.problemAt(p.secLine, "%s: no fixed versions found", info.ID)
	}
	p.entries = append(p.entries, rawEntry{
		release:   *p.release,
		relCore:   p.relCore,
		finalCore: p.finalCore,
		kind:      tracker.KindSecurity,
		text:      md,
		security:  info,
		order:     len(p.entries),
		line:      p.secLine,
		url:       kubernetesReleaseURL + p.release.Core(),
	})
	p.sec0, p.secInfo, p.secMode = -1, nil, 0
}

// blockRaw is the source of a block's own lines (not its children's).
func blockRaw(src []byte, n ast.Node) []byte {
	if !isBlock(n) {
		return nil
	}
	l := n.Lines()
	if l == nil || l.Len() == 0 {
		return nil
	}
	return src[l.At(0).Start:l.At(l.Len()-1).Stop]
}

// cmpVersion orders versions like tracker.Version.Compare without formatting
// them, which matters in the merge loop.
func cmpVersion(a, b tracker.Version) int {
	switch {
	case a.Major != b.Major:
		return cmp.Compare(a.Major, b.Major)
	case a.Minor != b.Minor:
		return cmp.Compare(a.Minor, b.Minor)
	case a.Patch != b.Patch:
		return cmp.Compare(a.Patch, b.Patch)
	case a.Pre == b.Pre:
		return 0
	case a.Pre == "":
		return 1
	case b.Pre == "":
		return -1
	}
	// Upstream tags are alpha.N, beta.N, rc.N: the names sort as strings.
	an, ai, aok := strings.Cut(a.Pre, ".")
	bn, bi, bok := strings.Cut(b.Pre, ".")
	x, errA := strconv.Atoi(ai)
	y, errB := strconv.Atoi(bi)
	if !aok || !bok || errA != nil || errB != nil {
		return a.Compare(b)
	}
	if an != bn {
		return strings.Compare(an, bn)
	}
	return cmp.Compare(x, y)
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}

// mergeEntries attributes entries to their final release and folds repeated
// listings of one note: by PR, by CVE id for security entries, else by
// normalised text, always within one final version.
func mergeEntries(component string, entries []rawEntry, prURL func(int) string) []tracker.Note {
	// Notes are built in place; meta carries what merging and ordering need.
	type meta struct {
		first, newest *tracker.Version
		final         tracker.Version
		firstCore     string
		order         int
	}
	type noteKey struct {
		final string
		pr    int
		cve   string
		text  string
	}
	byKey := make(map[noteKey]int, len(entries))
	notes := make([]tracker.Note, 0, len(entries))
	metas := make([]meta, 0, len(entries))
	for k := range entries {
		e := &entries[k]
		key := noteKey{final: e.finalCore}
		switch {
		case e.security != nil:
			key.cve = e.security.ID
		case e.pr > 0:
			key.pr = e.pr
		default:
			key.text = strings.Join(strings.Fields(strings.ToLower(e.text)), " ")
		}
		i, ok := byKey[key]
		if !ok {
			i = len(notes)
			byKey[key] = i
			notes = append(notes, tracker.Note{
				Component: component,
				Version:   e.finalCore,
				Kinds:     make([]tracker.Kind, 0, 2),
				CVEs:      []string{},
				PR:        e.pr,
				Text:      e.text,
				SIGs:      e.sigs,
				URL:       e.url,
				Security:  e.security,
			})
			// Only the numbers matter for ordering; Final() would format Raw.
			final := tracker.Version{Major: e.release.Major, Minor: e.release.Minor, Patch: e.release.Patch}
			metas = append(metas, meta{first: &e.release, newest: &e.release, final: final, firstCore: e.relCore, order: e.order})
		}
		n, m := &notes[i], &metas[i]
		if cmpVersion(e.release, *m.first) < 0 {
			m.first, m.firstCore = &e.release, e.relCore
		}
		if cmpVersion(*m.newest, e.release) < 0 {
			m.newest = &e.release
			n.Text, n.Security = e.text, e.security
			if e.sigs != nil {
				n.SIGs = e.sigs
			}
			if e.url != "" {
				n.URL = e.url
			}
		}
		if e.kind != "" {
			n.AddKind(e.kind)
		}
		n.ActionRequired = n.ActionRequired || e.action
	}
	for i := range notes {
		n := &notes[i]
		n.FirstSeen = metas[i].firstCore
		if n.URL == "" && n.PR > 0 && prURL != nil {
			n.URL = prURL(n.PR)
		}
		if n.Security != nil {
			n.CVEs = []string{n.Security.ID}
		}
		Classify(n)
	}
	idx := make([]int, len(notes))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(x, y int) int {
		if c := cmpVersion(metas[y].final, metas[x].final); c != 0 {
			return c
		}
		return metas[x].order - metas[y].order
	})
	out := make([]tracker.Note, len(notes))
	for i, j := range idx {
		out[i] = notes[j]
	}
	return out
}
