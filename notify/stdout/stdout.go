package stdout

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/kubedrift/kubedrift/notify"
	"github.com/kubedrift/kubedrift/tracker"
)

// maxNoteRunes bounds how much of an upstream note is printed; the link
// leads to the rest.
const maxNoteRunes = 240

// Notifier prints batches to a writer. It is safe for concurrent use: each
// batch is rendered whole and written with one Write.
type Notifier struct {
	mu sync.Mutex
	w  io.Writer
}

// New returns a Notifier printing to w.
func New(w io.Writer) *Notifier { return &Notifier{w: w} }

var _ notify.Notifier = (*Notifier)(nil)

// Notify prints b. A failed write is not retried: a closed terminal or pipe
// does not come back.
func (n *Notifier) Notify(ctx context.Context, b notify.Batch) (retry bool, err error) {
	if err := ctx.Err(); err != nil {
		return true, fmt.Errorf("stdout: print batch %s: %w", b.ID, err)
	}
	out := Render(b)
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, err := io.WriteString(n.w, out); err != nil {
		return false, fmt.Errorf("stdout: print batch %s: %w", b.ID, err)
	}
	return false, nil
}

// Render is the plain-text form of a batch: a header line, then one section
// per cluster (fleet-wide advisories last) listing each advisory's severity,
// title, detail, due date, links and the notes concerned. Every string is
// made terminal-safe, upstream note text first of all.
func Render(b notify.Batch) string {
	var buf bytes.Buffer
	names, by := b.Clusters()
	clusters := 0
	for _, n := range names {
		if n != "" {
			clusters++
		}
	}
	fmt.Fprintf(&buf, "kubedrift: %d %s for %d %s", len(b.Advisories), plural(len(b.Advisories), "advisory", "advisories"),
		clusters, plural(clusters, "cluster", "clusters"))
	if b.ID != "" || !b.GeneratedAt.IsZero() {
		var meta []string
		if b.ID != "" {
			meta = append(meta, "batch "+clean(short(b.ID)))
		}
		if !b.GeneratedAt.IsZero() {
			meta = append(meta, b.GeneratedAt.UTC().Format("2006-01-02 15:04 UTC"))
		}
		fmt.Fprintf(&buf, " (%s)", strings.Join(meta, ", "))
	}
	buf.WriteString("\n")
	// Fleet-wide advisories go last, after the clusters they concern.
	if i := slices.Index(names, ""); i >= 0 {
		names = append(append(names[:i:i], names[i+1:]...), "")
	}
	for _, name := range names {
		advs := by[name]
		buf.WriteString("\n")
		if name == "" {
			buf.WriteString("fleet-wide\n")
		} else {
			var facts []string
			if d := advs[0].Distribution; d != "" {
				facts = append(facts, d)
			}
			if v := advs[0].Version; v != "" {
				facts = append(facts, v)
			}
			buf.WriteString(clean(name))
			if len(facts) > 0 {
				fmt.Fprintf(&buf, " (%s)", clean(strings.Join(facts, ", ")))
			}
			buf.WriteString("\n")
		}
		for _, a := range advs {
			writeAdvisory(&buf, a)
		}
	}
	return buf.String()
}

const indent = "             "

func writeAdvisory(buf *bytes.Buffer, a tracker.Advisory) {
	fmt.Fprintf(buf, "  %-10s %s\n", strings.ToUpper(clean(string(a.Severity))), clean(a.Title))
	if a.Detail != "" {
		fmt.Fprintf(buf, "%s%s\n", indent, clean(a.Detail))
	}
	if a.DueDate != "" {
		fmt.Fprintf(buf, "%sdue %s\n", indent, clean(a.DueDate))
	}
	for _, n := range a.Notes {
		label := "note"
		if n.PR > 0 {
			label = fmt.Sprintf("note PR #%d", n.PR)
		}
		text := truncate(strings.Join(strings.Fields(clean(n.Text)), " "), maxNoteRunes)
		fmt.Fprintf(buf, "%s%s (%s): %s\n", indent, label, clean(n.Version), text)
		if n.URL != "" && slices.Index(a.Links, n.URL) < 0 {
			fmt.Fprintf(buf, "%s%s\n", indent, clean(n.URL))
		}
	}
	for _, l := range a.Links {
		fmt.Fprintf(buf, "%s%s\n", indent, clean(l))
	}
}

// clean makes s safe to print on a terminal: escape sequences (CSI, OSC,
// DCS and the rest) and control characters are removed, tabs become spaces,
// line breaks become spaces too (each field prints on its own lines), bidi
// overrides that could reorder what is shown are dropped, and invalid UTF-8
// becomes U+FFFD.
func clean(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == 0x1b: // ESC
			i += escapeLen(s[i:])
			continue
		case r == 0x9b: // C1 CSI
			i += size + csiLen(s[i+size:])
			continue
		case r == 0x9d || r == 0x90 || r == 0x98 || r == 0x9e || r == 0x9f: // C1 OSC, DCS, SOS, PM, APC
			i += size + stringLen(s[i+size:])
			continue
		case r == '\t' || r == '\n' || r == '\r':
			b.WriteByte(' ')
		case r == utf8.RuneError && size == 1:
			b.WriteRune(utf8.RuneError)
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
		case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f:
		default:
			b.WriteRune(r)
		}
		i += size
	}
	return b.String()
}

// escapeLen is the length of the escape sequence at the start of s (which
// begins with ESC), or of the lone ESC.
func escapeLen(s string) int {
	if len(s) < 2 {
		return len(s)
	}
	switch s[1] {
	case '[':
		return 2 + csiLen(s[2:])
	case ']', 'P', 'X', '^', '_':
		return 2 + stringLen(s[2:])
	}
	if s[1] >= 0x20 && s[1] <= 0x2f { // intermediate bytes, then a final byte
		n := 2
		for n < len(s) && s[n] >= 0x20 && s[n] <= 0x2f {
			n++
		}
		if n < len(s) {
			n++
		}
		return n
	}
	if s[1] >= 0x30 && s[1] <= 0x7e {
		return 2
	}
	return 1
}

// csiLen is the length of a CSI sequence's parameters and final byte.
func csiLen(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x40 && s[i] <= 0x7e {
			return i + 1
		}
		if s[i] < 0x20 || s[i] > 0x3f {
			return i // malformed: drop what was read, keep the rest
		}
	}
	return len(s)
}

// stringLen is the length of a control string (OSC, DCS ...) up to and
// including its terminator: BEL, ST (ESC \) or C1 ST; to the end when
// unterminated, so no half sequence leaks.
func stringLen(s string) int {
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == 0x07:
			return i + 1
		case s[i] == 0x1b && i+1 < len(s) && s[i+1] == '\\':
			return i + 2
		case strings.HasPrefix(s[i:], "\u009c"):
			return i + len("\u009c")
		}
	}
	return len(s)
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n])) + "…"
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
