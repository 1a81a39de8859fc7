package email

import (
	"bytes"
	"html/template"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"
)

// maxNoteBytes bounds how much of one upstream note goes into a message: a
// mail is a pointer to the changelog, not a copy of it, and a huge note must
// not make the digest unreadable or exceed provider size limits.
const maxNoteBytes = 2000

// md renders untrusted upstream markdown. It is deliberately built without
// html.WithUnsafe(): raw HTML in notes is dropped, never emitted.
var md = goldmark.New()

// renderMarkdown renders one note to an HTML fragment safe to embed in the
// message: raw HTML is omitted by goldmark, and links or images whose
// destination is not http(s) lose their target but keep their text. Images
// are replaced by their alt text (no remote content in mail).
func renderMarkdown(src string) (template.HTML, error) {
	source := []byte(src)
	doc := md.Parser().Parse(text.NewReader(source))
	var unwrap []ast.Node
	var autolinks []*ast.AutoLink
	err := ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Link:
			if !httpURL(n.Destination) {
				unwrap = append(unwrap, n)
			}
		case *ast.Image:
			unwrap = append(unwrap, n)
		case *ast.AutoLink:
			if n.AutoLinkType != ast.AutoLinkURL || !httpURL(n.URL(source)) {
				autolinks = append(autolinks, n)
			}
		}
		return ast.WalkContinue, nil
	})
	if err != nil {
		return "", err
	}
	// Rewrite after the walk: changing the tree while walking it skips nodes.
	for _, n := range unwrap {
		parent := n.Parent()
		for c := n.FirstChild(); c != nil; {
			next := c.NextSibling()
			parent.InsertBefore(parent, n, c)
			c = next
		}
		parent.RemoveChild(parent, n)
	}
	for _, n := range autolinks {
		parent := n.Parent()
		parent.ReplaceChild(parent, n, ast.NewString(n.Label(source)))
	}
	var buf bytes.Buffer
	if err := md.Renderer().Render(&buf, source, doc); err != nil {
		return "", err
	}
	// Trusted as HTML only because goldmark ran without unsafe mode and the
	// links were filtered above.
	return template.HTML(buf.String()), nil
}

// httpURL reports whether a link destination is an absolute http(s) URL.
func httpURL(dest []byte) bool {
	d := bytes.ToLower(bytes.TrimSpace(dest))
	return bytes.HasPrefix(d, []byte("https://")) || bytes.HasPrefix(d, []byte("http://"))
}

// safeLink returns s when it is an absolute http(s) URL without control
// characters, "" otherwise; links kubedrift writes itself (changelogs, CVE
// pages) pass through it before they reach either part of a message.
func safeLink(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) }) >= 0 {
		return ""
	}
	if !httpURL([]byte(s)) {
		return ""
	}
	return s
}

// truncate cuts s to at most n bytes on a rune boundary and reports whether
// it did.
func truncate(s string, n int) (string, bool) {
	if len(s) <= n {
		return s, false
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n], true
}

// clean removes characters that have no business in a mail: control
// characters other than newline and tab (terminal escapes, NUL, CR that could
// split headers) and bidirectional overrides that make text read differently
// from what it is.
func clean(s string) string {
	if strings.IndexFunc(s, unwanted) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if unwanted(r) {
			return -1
		}
		return r
	}, s)
}

// cleanLine is clean for one-line values (names, titles, headers): newlines
// and tabs become spaces.
func cleanLine(s string) string {
	s = clean(s)
	if strings.ContainsAny(s, "\n\t") {
		s = strings.Join(strings.Fields(s), " ")
	}
	return s
}

func unwanted(r rune) bool {
	switch {
	case r == '\n' || r == '\t':
		return false
	case unicode.IsControl(r), r == utf8.RuneError:
		return true
	case r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069', r == '\u200e', r == '\u200f':
		return true
	}
	return false
}
