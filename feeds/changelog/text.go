package changelog

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/yuin/goldmark/ast"
)

// Problem is a non-fatal oddity met while parsing; parsing went on past it.
type Problem struct {
	// Name is the file path or URL given to the parser.
	Name string
	Line int
	Msg  string
}

func (p Problem) String() string { return fmt.Sprintf("%s:%d: %s", p.Name, p.Line, p.Msg) }

// lineIndex maps byte offsets to 1-based line numbers in O(log n) per lookup,
// so reporting many problems stays linear overall.
type lineIndex []int // offsets of '\n'

func newLineIndex(src []byte) lineIndex {
	idx := make(lineIndex, 0, bytes.Count(src, []byte{'\n'}))
	for off := 0; ; {
		i := bytes.IndexByte(src[off:], '\n')
		if i < 0 {
			return idx
		}
		idx = append(idx, off+i)
		off += i + 1
	}
}

func (l lineIndex) line(off int) int { return sort.SearchInts(l, off) + 1 }

// isBlock reports whether n may be asked for Lines (goldmark panics on inlines).
func isBlock(n ast.Node) bool { return n != nil && n.Type() != ast.TypeInline }

// firstSeg is the source offset of the first line segment in n's subtree, or -1.
// It follows first children only as far as needed, so it is O(depth) in practice.
func firstSeg(n ast.Node) int {
	for ; n != nil; n = n.NextSibling() {
		if !isBlock(n) {
			continue
		}
		if l := n.Lines(); l != nil && l.Len() > 0 {
			return l.At(0).Start
		}
		if s := firstSeg(n.FirstChild()); s >= 0 {
			return s
		}
	}
	return -1
}

// firstSegOf is firstSeg restricted to n itself and its descendants.
func firstSegOf(n ast.Node) int {
	if !isBlock(n) {
		return -1
	}
	if l := n.Lines(); l != nil && l.Len() > 0 {
		return l.At(0).Start
	}
	return firstSeg(n.FirstChild())
}

// blockEnd is the offset just past the last source line of n's subtree,
// including a closing code fence that goldmark keeps outside the segments.
func blockEnd(src []byte, n ast.Node) int {
	end, last := -1, ast.Node(nil)
	var visit func(ast.Node)
	visit = func(m ast.Node) {
		for ; m != nil; m = m.NextSibling() {
			if !isBlock(m) {
				continue
			}
			if l := m.Lines(); l != nil && l.Len() > 0 {
				if e := l.At(l.Len() - 1).Stop; e >= end {
					end, last = e, m
				}
			}
			visit(m.FirstChild())
		}
	}
	if isBlock(n) {
		if l := n.Lines(); l != nil && l.Len() > 0 {
			end, last = l.At(l.Len()-1).Stop, n
		}
		visit(n.FirstChild())
	}
	if end < 0 {
		return -1
	}
	end = lineEnd(src, end)
	if _, ok := last.(*ast.FencedCodeBlock); ok {
		// The closing fence is the next line when it is one.
		start := min(end+1, len(src))
		next := len(src)
		if i := bytes.IndexByte(src[start:], '\n'); i >= 0 {
			next = start + i
		}
		t := bytes.TrimSpace(src[start:next])
		if bytes.HasPrefix(t, []byte("```")) || bytes.HasPrefix(t, []byte("~~~")) {
			end = next
		}
	}
	return end
}

// lineStart is the offset of the start of the line holding off.
func lineStart(src []byte, off int) int {
	if off > len(src) {
		off = len(src)
	}
	if i := bytes.LastIndexByte(src[:off], '\n'); i >= 0 {
		return i + 1
	}
	return 0
}

// lineEnd is the offset of the '\n' ending the line holding off (or len(src)).
func lineEnd(src []byte, off int) int {
	if off >= len(src) {
		return len(src)
	}
	if off > 0 && src[off-1] == '\n' {
		// off is already at the start of the next line: the segment ended
		// with its newline.
		return off - 1
	}
	if i := bytes.IndexByte(src[off:], '\n'); i >= 0 {
		return off + i
	}
	return len(src)
}

// entryMarkdown rebuilds an entry's markdown from src[start:end]: the first
// line from start, later lines with up to indent leading spaces removed so
// that nested lists and code blocks keep their relative indentation. It
// copies only the entry's own bytes, once.
func entryMarkdown(src []byte, start, end, indent int) string {
	if start < 0 || end > len(src) || start >= end {
		return ""
	}
	t := bytes.TrimSpace(src[start:end])
	if bytes.IndexByte(t, '\n') < 0 {
		return string(bytes.TrimSuffix(t, []byte("\r")))
	}
	var b strings.Builder
	b.Grow(len(t))
	first := true
	for chunk := t; len(chunk) > 0; {
		line := chunk
		if i := bytes.IndexByte(chunk, '\n'); i >= 0 {
			line, chunk = chunk[:i], chunk[i+1:]
		} else {
			chunk = nil
		}
		line = bytes.TrimRight(line, "\r")
		if !first {
			b.WriteByte('\n')
			n := 0
			for n < indent && n < len(line) && line[n] == ' ' {
				n++
			}
			line = line[n:]
		}
		first = false
		b.Write(line)
	}
	return strings.TrimSpace(b.String())
}

// headingText is the raw text of a heading's line(s), trimmed.
func headingText(src []byte, h *ast.Heading) string {
	l := h.Lines()
	if l == nil || l.Len() == 0 {
		return ""
	}
	var b strings.Builder
	for i := range l.Len() {
		if i > 0 {
			b.WriteByte(' ')
		}
		s := l.At(i)
		b.Write(s.Value(src))
	}
	return strings.TrimSpace(b.String())
}

// normHeading folds a section heading for matching: case, curly apostrophes,
// runs of white space and stray emphasis markers.
var headingFold = strings.NewReplacer("\u2019", "'", "\u2018", "'", "*", "", "_", " ")

func normHeading(s string) string {
	s = headingFold.Replace(s)
	return strings.Join(strings.Fields(strings.ToLower(s)), " ")
}

var cveRe = regexp.MustCompile(`CVE-\d{4}-\d{4,}`)

// cvesIn lists the CVE ids mentioned in s, sorted and unique, never nil.
func cvesIn(s string, have []string) []string {
	out := append([]string{}, have...)
	if strings.Contains(s, "CVE-") {
		out = append(out, cveRe.FindAllString(s, -1)...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
