package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"unicode"

	"sigs.k8s.io/yaml"
)

// Output formats. Every command that prints data validates its -o value against
// the formats it supports through checkFormat, and prints through these helpers,
// so JSON looks the same everywhere.
const (
	formatTable    = "table"
	formatWide     = "wide"
	formatJSON     = "json"
	formatYAML     = "yaml"
	formatMarkdown = "markdown"
)

func checkFormat(got string, allowed ...string) error {
	if slices.Contains(allowed, got) {
		return nil
	}
	return &exitError{code: exitUsage, err: fmt.Errorf("unknown output format %q: want one of %s", got, strings.Join(allowed, ", "))}
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func writeYAML(w io.Writer, v any) error {
	b, err := yaml.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode yaml: %w", err)
	}
	_, err = w.Write(b)
	return err
}

// newTable returns a tab-separated writer; the caller flushes it.
func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
}

// terminalSafe makes untrusted upstream text safe for a terminal cell: control
// characters (escape sequences could rewrite the screen) and tabs/newlines
// (they would break the table) become spaces; the result is cut to max runes.
func terminalSafe(s string, max int) string {
	var b strings.Builder
	n := 0
	space := false
	for _, r := range s {
		if unicode.IsControl(r) || unicode.IsSpace(r) || r == '\u2028' || r == '\u2029' {
			if !space && n > 0 {
				b.WriteByte(' ')
				n++
			}
			space = true
			continue
		}
		if max > 0 && n >= max-1 {
			b.WriteRune('…')
			return b.String()
		}
		space = false
		b.WriteRune(r)
		n++
	}
	return strings.TrimRight(b.String(), " ")
}

// markdownInline escapes untrusted text for a single markdown line: it keeps the
// words and neutralises characters that would start links, HTML or emphasis.
func markdownInline(s string) string {
	s = terminalSafe(s, 0)
	r := strings.NewReplacer(`\`, `\\`, "<", "&lt;", ">", "&gt;", "[", `\[`, "]", `\]`, "*", `\*`, "_", `\_`, "`", "\\`", "|", `\|`)
	return r.Replace(s)
}
