package slack

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/kubedrift/kubedrift/notify"
	"github.com/kubedrift/kubedrift/tracker"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden %s (run go test -update to create it): %v", path, err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the rendering (run go test -update after checking):\n--- got\n%s", path, got)
	}
}

func indentJSON(t *testing.T, v any) []byte {
	t.Helper()
	// Unescaped HTML keeps Slack's own &lt; entities readable in the file.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRenderGolden(t *testing.T) {
	msgs := Render(fixedBatch())
	if len(msgs) != 1 {
		t.Fatalf("fixed batch renders %d messages, want 1", len(msgs))
	}
	golden(t, "render.golden.json", indentJSON(t, msgs))
}

// texts walks a decoded JSON message and returns every "text" string with
// the type of the object that holds it.
func texts(v any, typ string, out *[]textField) {
	switch x := v.(type) {
	case map[string]any:
		t, _ := x["type"].(string)
		if t == "" {
			t = typ
		}
		for k, c := range x {
			if s, ok := c.(string); ok && k == "text" {
				*out = append(*out, textField{parent: typ, typ: t, text: s})
				continue
			}
			texts(c, t, out)
		}
	case []any:
		for _, c := range x {
			texts(c, typ, out)
		}
	}
}

type textField struct{ parent, typ, text string }

var linkRe = regexp.MustCompile(`<([^<>|]*)\|([^<>]*)>`)

// checkMessage asserts the Block Kit limits and that no "<" in any text
// opens anything but a link to a trusted URL.
func checkMessage(t *testing.T, i int, raw []byte) []textField {
	t.Helper()
	var blocks []any
	if err := json.Unmarshal(raw, &blocks); err != nil {
		t.Fatalf("message %d: %v", i, err)
	}
	if len(blocks) > maxBlocks {
		t.Errorf("message %d has %d blocks, limit %d", i, len(blocks), maxBlocks)
	}
	var fields []textField
	texts(blocks, "", &fields)
	total := 0
	for _, f := range fields {
		total += utf8.RuneCountInString(f.text)
	}
	if total > maxMessageText {
		t.Errorf("message %d holds %d runes of text, budget %d", i, total, maxMessageText)
	}
	for _, f := range fields {
		limit := maxText
		if f.parent == "header" {
			limit = maxHeaderText
		}
		if n := utf8.RuneCountInString(f.text); n > limit || n == 0 {
			t.Errorf("message %d: %s text has %d runes (limit %d)", i, f.parent, n, limit)
		}
		if !utf8.ValidString(f.text) {
			t.Errorf("message %d: invalid UTF-8 in %q", i, f.text[:min(len(f.text), 80)])
		}
		rest := linkRe.ReplaceAllStringFunc(f.text, func(m string) string {
			sub := linkRe.FindStringSubmatch(m)
			if !safeURL(sub[1]) {
				t.Errorf("message %d: link to untrusted URL %q", i, sub[1])
			}
			return ""
		})
		if strings.ContainsAny(rest, "<>") {
			t.Errorf("message %d: raw < or > outside a kubedrift link: %q", i, excerptAround(rest, "<>"))
		}
		// Every & must start one of the three entities.
		for j := strings.IndexByte(rest, '&'); j >= 0; j = nextAmp(rest, j) {
			tail := rest[j:]
			if !strings.HasPrefix(tail, "&amp;") && !strings.HasPrefix(tail, "&lt;") && !strings.HasPrefix(tail, "&gt;") {
				t.Errorf("message %d: bare & or split entity at %q", i, tail[:min(len(tail), 12)])
			}
		}
	}
	return fields
}

func nextAmp(s string, j int) int {
	k := strings.IndexByte(s[j+1:], '&')
	if k < 0 {
		return -1
	}
	return j + 1 + k
}

func excerptAround(s, chars string) string {
	i := strings.IndexAny(s, chars)
	return s[max(i-30, 0):min(i+30, len(s))]
}

func hostileBatch() notify.Batch {
	hostile := []string{
		"Ping <!channel> and <!here> now",
		"Ask <@U123> or <#C1|general>",
		"Read <https://evil.example|the official notice>",
		"<script>alert(1)</script> in a note",
		"Already escaped &lt; stays visible as &lt;",
		"*bold* _italic_ ~strike~ ```unclosed fence",
		"@here @channel @everyone please",
		"javascript:alert(1)",
	}
	huge := strings.Repeat("Kubelet é & <!channel> ", 200*1024/23)
	var advs []tracker.Advisory
	for i := range 120 {
		cluster := fmt.Sprintf("cluster-%02d <!channel>", i/7)
		n := tracker.Note{
			Component: "kubernetes", Version: "v1.25.0", Kinds: []tracker.Kind{tracker.KindRemoval},
			PR: 100000 + i, Text: hostile[i%len(hostile)],
		}
		if i%10 == 3 {
			n.Text = huge
		}
		evil := tracker.Note{
			Component: "other-project", Version: "v0.1.0", Kinds: []tracker.Kind{tracker.KindRemoval},
			Text: "Visit <https://evil.example/x|docs>",
			URL:  []string{"https://evil.example/x", "javascript:alert(1)", "https://github.com.evil.example/", "https://github.com/a|b>c", "http://github.com/x"}[i%5],
		}
		advs = append(advs, tracker.Advisory{
			ID:       fmt.Sprintf("removal/%d", i),
			Kind:     tracker.AdvisoryRemoval,
			Severity: tracker.SeverityHigh,
			Cluster:  cluster,
			Labels:   map[string]string{"owner": "<@U999>", "tier": "<!everyone>"},
			Version:  "v1.24.9", Target: "v1.25.16",
			Title: fmt.Sprintf("adv-%03d removal ahead", i),
			Notes: []tracker.Note{n, evil},
			CVEs:  []tracker.CVEExposure{{ID: "CVE-2099-0001 <!here>", URL: "https://evil.example/cve", Status: tracker.ExposureNoFix}},
			Links: []string{"https://evil.example/<!channel>"},
		})
	}
	return notify.Batch{ID: "hostile", Advisories: advs}
}

func TestRenderHostile(t *testing.T) {
	msgs := Render(hostileBatch())
	if len(msgs) < 2 {
		t.Fatalf("120 advisories rendered into %d message(s); expected a split", len(msgs))
	}
	order := regexp.MustCompile(`adv-(\d{3})`)
	next := 0
	var all strings.Builder
	for i, m := range msgs {
		raw, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		fields := checkMessage(t, i, raw)
		header := fields[0].text
		if want := fmt.Sprintf("(%d/%d)", i+1, len(msgs)); fields[0].parent != "header" || !strings.HasSuffix(header, want) {
			t.Errorf("message %d: first text %q (%s) should be a header ending %s", i, header, fields[0].parent, want)
		}
		for _, f := range fields {
			all.WriteString(f.text + "\n")
			for _, sub := range order.FindAllStringSubmatch(f.text, -1) {
				n, _ := strconv.Atoi(sub[1])
				if n != next {
					t.Fatalf("message %d: advisory %d appears where %d was expected", i, n, next)
				}
				next++
			}
		}
	}
	if next != 120 {
		t.Errorf("found %d advisories across the messages, want 120", next)
	}
	text := all.String()
	for _, bad := range []string{"<!", "<@", "<#", "<http://", "<https://evil", "<script", "<javascript"} {
		if strings.Contains(text, bad) {
			t.Errorf("raw %q survived escaping", bad)
		}
	}
	for _, want := range []string{"&amp;lt; stays visible", "&lt;!channel&gt;", "&lt;script&gt;", "<https://github.com/kubernetes/kubernetes/pull/100000|#100000>", "`https://evil.example/x`", "…"} {
		if !strings.Contains(text, want) {
			t.Errorf("rendering lacks %q", want)
		}
	}
}

// Long advisories split on the text budget before the block limit.
func TestSplitByTextBudget(t *testing.T) {
	long := strings.Repeat("A long invented note about widgets & gadgets. ", 20)
	var advs []tracker.Advisory
	for i := range 40 {
		a := tracker.Advisory{Kind: tracker.AdvisoryActionRequired, Severity: tracker.SeverityHigh, Cluster: "prod", Title: fmt.Sprintf("adv-%03d", i)}
		for j := range 12 {
			a.Notes = append(a.Notes, tracker.Note{Component: "kubernetes", Version: "v1.30.0", PR: 1000*i + j, ActionRequired: true, Text: long})
		}
		advs = append(advs, a)
	}
	msgs := Render(notify.Batch{Advisories: advs})
	if len(msgs) < 3 {
		t.Fatalf("40 advisories of ~3000 runes fit in %d messages; the text budget should split them", len(msgs))
	}
	next := 0
	for i, m := range msgs {
		raw, _ := json.Marshal(m)
		if len(m) >= maxBlocks {
			t.Errorf("message %d has %d blocks: split by blocks, not text", i, len(m))
		}
		for _, f := range checkMessage(t, i, raw) {
			if strings.Contains(f.text, fmt.Sprintf("adv-%03d", next)) {
				next++
			}
		}
		if i > 0 && !strings.Contains(string(raw), "(continued)") {
			t.Errorf("message %d does not re-announce the cluster", i)
		}
	}
	if next != 40 {
		t.Errorf("found %d advisories in order, want 40", next)
	}
}

func TestEscape(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"broadcast", "<!channel>", "&lt;!channel&gt;"},
		{"mention", "<@U123>", "&lt;@U123&gt;"},
		{"disguised link", "<https://evil.example|click>", "&lt;https://evil.example|click&gt;"},
		{"entity stays literal", "&lt;", "&amp;lt;"},
		{"ampersand", "a & b", "a &amp; b"},
		{"bold and strike", "*x* ~y~", "∗x∗ ∼y∼"},
		{"italic at boundary", "_x_", "_\u200bx_\u200b"},
		{"snake_case kept", "max_pods", "max_pods"},
		{"code kept", "`--feature-gates=*`", "`--feature-gates=*`"},
		{"code escapes still", "`<!here>`", "`&lt;!here&gt;`"},
		{"unpaired backtick dropped", "a `b` c `d", "a `b` c d"},
		{"bare broadcast word", "@here now", "@\u200bhere now"},
		{"email untouched", "dev@example.com", "dev@example.com"},
		{"control chars dropped", "a\x00b\x1bc", "abc"},
		{"invalid utf8", "a\xffb", "a\uFFFDb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := escape(tt.in); got != tt.want {
				t.Errorf("escape(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		name string
		in   string
		max  int
		want string
	}{
		{"short unchanged", "abc", 3, "abc"},
		{"plain", "abcdefgh", 5, "abc…"},
		{"rune boundary", "ééééééé", 5, "ééé…"},
		{"entity not split", "ab&amp;cd", 6, "ab…"},
		{"whole entity kept", "ab&amp;cdefgh", 10, "ab&amp;c…"},
		{"link not split", "see <https://github.com/x|x> now", 12, "see …"},
		{"code closed", "a `code span here`", 10, "a `code `…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := truncate(tt.in, tt.max)
			if got != tt.want {
				t.Errorf("truncate(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
			}
			if n := utf8.RuneCountInString(got); n > tt.max {
				t.Errorf("result has %d runes, max %d", n, tt.max)
			}
		})
	}
}

func TestSafeURL(t *testing.T) {
	tests := []struct {
		url  string
		want bool
	}{
		{"https://github.com/kubernetes/kubernetes/pull/1", true},
		{"https://kubernetes.io/releases/", true},
		{"https://GitHub.com/x", true},
		{"http://github.com/x", false},
		{"https://evil.example/x", false},
		{"https://github.com.evil.example/", false},
		{"https://user@github.com/", false},
		{"https://github.com:8443/", false},
		{"https://github.com/a|b", false},
		{"https://github.com/a>b", false},
		{"https://github.com/a b", false},
		{"https://github.com/é", false},
		{"javascript:alert(1)", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			if got := safeURL(tt.url); got != tt.want {
				t.Errorf("safeURL(%q) = %v, want %v", tt.url, got, tt.want)
			}
		})
	}
}

func TestRenderEmptyAndFleetWide(t *testing.T) {
	if m := Render(notify.Batch{}); len(m) != 0 {
		t.Errorf("empty batch rendered %d messages", len(m))
	}
	b := notify.Batch{Advisories: []tracker.Advisory{{Kind: tracker.AdvisoryNewRelease, Severity: tracker.SeverityInfo, Title: "v1.36.0 released", Target: "v1.36.0"}}}
	msgs := Render(b)
	raw, _ := json.Marshal(msgs[0])
	fields := checkMessage(t, 0, raw)
	if fields[0].text != "kubedrift: 1 advisory" {
		t.Errorf("header %q", fields[0].text)
	}
	if !strings.Contains(string(raw), "*Fleet-wide*") {
		t.Errorf("fleet-wide advisory lacks its heading: %s", raw)
	}
}

func BenchmarkRenderHostile(b *testing.B) {
	batch := hostileBatch()
	for b.Loop() {
		Render(batch)
	}
}
