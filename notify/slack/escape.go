package slack

import (
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// escape makes untrusted text inert in Slack mrkdwn. Slack reads "<...>" as
// links, mentions (<@U1>, <#C1>) and broadcasts (<!channel>), so &, < and >
// become entities; those are the only three Slack requires escaping. Outside
// code spans, the emphasis markers * and ~ are swapped for look-alikes and a
// zero-width space follows a word-boundary _, so upstream text cannot open
// bold, strike or italic runs that spill into kubedrift's own text (Slack
// has no backslash escapes). Backticks are kept (code spans render well and
// cannot escape), but an unpaired one is dropped so a code span cannot
// swallow what follows. Plain "@here"-style words get a zero-width space
// too: blocks ignore them, but notification fallback text is parsed more
// loosely by some clients. Control characters other than newline and tab
// are dropped and invalid UTF-8 is replaced.
func escape(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	ticks := strings.Count(s, "`")
	dropLastTick := ticks%2 == 1
	var b strings.Builder
	b.Grow(len(s) + len(s)/8)
	inCode := false
	seenTicks := 0
	var prev rune = ' '
	for i, r := range s {
		next, _ := utf8.DecodeRuneInString(s[i+utf8.RuneLen(r):])
		switch {
		case r == '`':
			seenTicks++
			if dropLastTick && seenTicks == ticks {
				prev = r
				continue
			}
			inCode = !inCode
			b.WriteRune(r)
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case inCode:
			b.WriteRune(r)
		case r == '*':
			b.WriteRune('∗') // U+2217 ASTERISK OPERATOR
		case r == '~':
			b.WriteRune('∼') // U+223C TILDE OPERATOR
		case r == '_' && (!isWord(prev) || !isWord(next)):
			// Slack italics need _ at a word boundary; inside snake_case it is inert.
			b.WriteString("_\u200b")
		case r == '@' && hasBroadcastWord(s[i+1:]):
			b.WriteString("@\u200b")
		default:
			if r != '\n' && r != '\t' && unicode.IsControl(r) {
				continue
			}
			b.WriteRune(r)
		}
		prev = r
	}
	return b.String()
}

func isWord(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

func hasBroadcastWord(s string) bool {
	for _, w := range []string{"here", "channel", "everyone"} {
		if len(s) >= len(w) && strings.EqualFold(s[:len(w)], w) {
			return true
		}
	}
	return false
}

// oneLine collapses runs of whitespace (newlines included) into single
// spaces, so a note becomes one bullet line that cannot start a quote or a
// list of its own.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// truncate shortens escaped mrkdwn to at most max runes, ending with "…".
// It cuts at a rune boundary and never inside an entity (&amp;) or one of
// kubedrift's own <url|label> links: in escaped text a raw & always starts an
// entity and a raw < always starts a link, so backing up to them is enough.
// A code span left open by the cut is closed.
func truncate(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	if max < 3 {
		return ""
	}
	// Byte offset of the rune that would be the max-th (leaving room for "…"
	// and a closing backtick).
	limit := max - 2
	cut := 0
	for n := 0; n < limit && cut < len(s); n++ {
		_, size := utf8.DecodeRuneInString(s[cut:])
		cut += size
	}
	head := s[:cut]
	if amp := strings.LastIndexByte(head, '&'); amp >= 0 && !strings.Contains(head[amp:], ";") {
		head = head[:amp]
	}
	if lt := strings.LastIndexByte(head, '<'); lt >= 0 && !strings.Contains(head[lt:], ">") {
		head = head[:lt]
	}
	if strings.Count(head, "`")%2 == 1 {
		head += "`"
	}
	return head + "…"
}

// runeLen counts runes, which is how Slack measures its limits.
func runeLen(s string) int { return utf8.RuneCountInString(s) }

// Hosts whose URLs may become links; anything else from upstream data is
// shown as text.
var linkHosts = map[string]bool{
	"github.com":        true,
	"kubernetes.io":     true,
	"www.kubernetes.io": true,
}

// safeURL reports whether raw may be used as a link target: https, a trusted
// host, no credentials or port, and none of the characters that end or split
// Slack's <url|label> syntax.
func safeURL(raw string) bool {
	if raw == "" || len(raw) > 2000 || strings.ContainsAny(raw, "<>|\"'` \t\r\n\\") {
		return false
	}
	for _, r := range raw {
		if r < 0x21 || r > 0x7e {
			return false
		}
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.User != nil || u.Port() != "" || u.Opaque != "" {
		return false
	}
	return linkHosts[strings.ToLower(u.Host)]
}

// link renders a trusted URL as a Slack link with an escaped label, or, when
// the URL fails safeURL, the escaped URL as inert code text.
func link(raw, label string) string {
	if safeURL(raw) {
		return "<" + raw + "|" + escapeLabel(label) + ">"
	}
	return "`" + escape(strings.ReplaceAll(raw, "`", "'")) + "`"
}

// escapeLabel escapes a link label; | would end the label early.
func escapeLabel(s string) string {
	return strings.ReplaceAll(escape(s), "|", "¦")
}

var (
	mdLink = regexp.MustCompile(`\[([^\]]*)\]\([^)\s]*\)`)
	// The attribution upstream appends to every entry, once links are
	// reduced to their labels: "(#109250, @author) [SIG Apps]". The PR is
	// linked separately, from its number.
	mdAttribution = regexp.MustCompile(`^\(#\d+(,\s*@[\w-]+)*\)\s*(\[SIG [^\]]*\])?\s*$`)
	mdStrong      = regexp.MustCompile(`\*\*|__`)
)

// plainMarkdown reduces an upstream note to the prose Slack should show:
// markdown links become their labels, strong emphasis markers and the
// trailing attribution go. Code spans are left alone.
func plainMarkdown(s string) string {
	parts := strings.Split(s, "`")
	for i := 0; i < len(parts); i += 2 { // even parts are outside code spans
		p := mdLink.ReplaceAllString(parts[i], "$1")
		parts[i] = mdStrong.ReplaceAllString(p, "")
	}
	out := strings.Join(parts, "`")
	if i := strings.LastIndex(out, "(#"); i >= 0 && mdAttribution.MatchString(out[i:]) {
		out = strings.TrimRight(out[:i], " \t\n")
	}
	return out
}
