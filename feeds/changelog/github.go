package changelog

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/kubedrift/kubedrift/tracker"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"
	"golang.org/x/mod/semver"
)

var (
	pullLinkRe = regexp.MustCompile(`/pull/(\d{1,9})\b`)
	hashPRRe   = regexp.MustCompile(`(?:^|[\s(\[,])#(\d{1,9})\b`)
)

// genericSection maps a heading of a GitHub release body to the kind its
// entries get and whether they need action before upgrading.
func genericSection(h string) (tracker.Kind, bool) {
	h = strings.Trim(normHeading(h), " :!.")
	h = strings.TrimLeft(h, "-=#>:[]()🚨⚠️🔒🐛✨🚀💥🗑️🔥 ")
	has := func(words ...string) bool {
		for _, w := range words {
			if strings.Contains(h, w) {
				return true
			}
		}
		return false
	}
	switch {
	case has("breaking change", "breaking"):
		return tracker.KindOther, true
	case has("urgent upgrade", "action required"):
		return "", true
	case has("security"):
		return tracker.KindSecurity, false
	case has("deprecat"):
		return tracker.KindDeprecation, false
	case has("removed", "removal"):
		return tracker.KindRemoval, false
	case has("bug fix", "bugfix", "fixes", "fixed", "bugs"):
		return tracker.KindBug, false
	case has("feature", "enhancement"):
		return tracker.KindFeature, false
	}
	return tracker.KindOther, false
}

// ParseGitHubRelease parses the markdown body of a GitHub release of another
// project (etcd, containerd, cilium ...). Each list item is a note, kinded by
// the nearest heading above it; a body without list items but with text
// yields one note holding that text. name (URL or path) is used in errors.
// A pre-release version is attributed to its final; FirstSeen is version.
func ParseGitHubRelease(component, version, name string, body []byte) (*Result, error) {
	if strings.TrimSpace(component) == "" || strings.TrimSpace(version) == "" {
		return nil, fmt.Errorf("parse GitHub release %s: component and version are required", name)
	}
	final, pre := finalOf(version)
	res := &Result{Releases: []tracker.Release{{Component: component, Version: version, Prerelease: pre}}}
	if strings.HasPrefix(name, "https://") || strings.HasPrefix(name, "http://") {
		res.Releases[0].URL = name
	}
	lines := newLineIndex(body)
	doc := goldmark.New().Parser().Parse(text.NewReader(body))
	var (
		entries  []rawEntry
		kind     = tracker.KindOther
		action   bool
		headings int
		paras    []string
		paraLine int
	)
	rel := tracker.Version{Raw: version}
	add := func(md string, line int) {
		e := rawEntry{release: rel, kind: kind, action: action, text: md, order: len(entries), line: line}
		e.pr, e.url = genericPR(md)
		entries = append(entries, e)
	}
	for n := doc.FirstChild(); n != nil; n = n.NextSibling() {
		switch n := n.(type) {
		case *ast.Heading:
			headings++
			kind, action = genericSection(headingText(body, n))
		case *ast.List:
			for it := n.FirstChild(); it != nil; it = it.NextSibling() {
				s := firstSegOf(it)
				if s < 0 {
					continue
				}
				end := -1
				if next := it.NextSibling(); next != nil {
					if ns := firstSegOf(next); ns >= 0 {
						end = lineStart(body, ns)
					}
				}
				if end < 0 {
					end = blockEnd(body, it)
				}
				if md := entryMarkdown(body, s, end, s-lineStart(body, s)); md != "" {
					add(md, lines.line(s))
				}
			}
		case *ast.Paragraph:
			if s := firstSegOf(n); s >= 0 {
				if len(paras) == 0 {
					paraLine = lines.line(s)
				}
				paras = append(paras, entryMarkdown(body, s, blockEnd(body, n), 0))
			}
		}
	}
	if len(entries) == 0 && len(paras) > 0 {
		kind, action = tracker.KindOther, false
		add(strings.Join(paras, "\n\n"), paraLine)
	}
	if len(entries) == 0 && headings == 0 {
		return res, fmt.Errorf("parse GitHub release %s %s from %s: body has no headings and no notes", component, version, name)
	}
	res.Notes = mergeGeneric(component, final, version, entries)
	return res, nil
}

// genericPR finds the last pull link, else the last "#NNN" reference.
func genericPR(md string) (int, string) {
	if ms := pullLinkRe.FindAllStringSubmatchIndex(md, -1); len(ms) > 0 {
		m := ms[len(ms)-1]
		if n, err := strconv.Atoi(md[m[2]:m[3]]); err == nil {
			// The URL is the link target around the match.
			start := strings.LastIndexAny(md[:m[0]], "( <\n") + 1
			return n, md[start:m[1]]
		}
	}
	if ms := hashPRRe.FindAllStringSubmatch(md, -1); len(ms) > 0 {
		if n, err := strconv.Atoi(ms[len(ms)-1][1]); err == nil {
			return n, ""
		}
	}
	return 0, ""
}

// finalOf strips a semver pre-release tag: "v3.6.0-rc.1" → "v3.6.0", true.
func finalOf(version string) (string, bool) {
	v := strings.TrimSpace(version)
	sv := v
	if !strings.HasPrefix(sv, "v") {
		sv = "v" + sv
	}
	if !semver.IsValid(sv) {
		return v, false
	}
	pre, build := semver.Prerelease(sv), semver.Build(sv)
	if pre == "" {
		return v, false
	}
	return v[:len(v)-len(pre)-len(build)], true
}

// mergeGeneric folds repeated items of one body (same PR, or same text) into
// one note each, attributed to the final version.
func mergeGeneric(component, final, version string, entries []rawEntry) []tracker.Note {
	byKey := map[string]int{}
	notes := make([]tracker.Note, 0, len(entries))
	for _, e := range entries {
		key := "text " + strings.Join(strings.Fields(strings.ToLower(e.text)), " ")
		if e.pr > 0 {
			key = "pr " + strconv.Itoa(e.pr)
		}
		i, ok := byKey[key]
		if !ok {
			i = len(notes)
			byKey[key] = i
			notes = append(notes, tracker.Note{
				Component: component, Version: final, FirstSeen: version,
				Kinds: []tracker.Kind{}, CVEs: []string{}, PR: e.pr, Text: e.text, URL: e.url,
			})
		}
		n := &notes[i]
		if e.kind != "" {
			n.AddKind(e.kind)
		}
		n.ActionRequired = n.ActionRequired || e.action
	}
	for i := range notes {
		Classify(&notes[i])
	}
	return notes
}
