package slack

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/kubedrift/kubedrift/notify"
	"github.com/kubedrift/kubedrift/tracker"
)

// corpusDir finds ../shared/corpus next to the module root, or skips.
func corpusDir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("no go.mod above the package directory; upstream corpus not reachable")
		}
		dir = parent
	}
	c := filepath.Join(dir, "..", "shared", "corpus")
	if _, err := os.Stat(c); err != nil {
		t.Skipf("upstream corpus not present at %s (only in the project's shared workspace): %v", c, err)
	}
	return c
}

// corpusNotes reads upstream's structured release notes for v1.25.0, in PR
// order. The texts stay in memory: upstream prose is never written to
// testdata.
func corpusNotes(t testing.TB) []tracker.Note {
	path := filepath.Join(corpusDir(t), "relnotes", "release-notes-1.25.0.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("upstream release notes not readable: %v", err)
	}
	var entries map[string]struct {
		Markdown       string `json:"markdown"`
		PRNumber       any    `json:"pr_number"` // a number or a string, varying by entry
		PRURL          string `json:"pr_url"`
		Kinds          any    `json:"kinds"`
		ActionRequired any    `json:"action_required"`
	}
	if err := json.Unmarshal(raw, &entries); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var notes []tracker.Note
	for key, e := range entries {
		pr, err := strconv.Atoi(fmt.Sprint(e.PRNumber))
		if err != nil {
			t.Fatalf("%s: entry %s: pr_number %v: %v", path, key, e.PRNumber, err)
		}
		n := tracker.Note{Component: "kubernetes", Version: "v1.25.0", PR: pr, URL: e.PRURL, Text: e.Markdown, ActionRequired: fmt.Sprint(e.ActionRequired) == "True" || e.ActionRequired == true}
		for _, k := range listOf(e.Kinds) {
			n.Kinds = append(n.Kinds, tracker.Kind(k))
		}
		notes = append(notes, n)
	}
	sort.Slice(notes, func(i, j int) bool { return notes[i].PR < notes[j].PR })
	return notes
}

// listOf reads a list that is either JSON or a Python list literal in a
// string ("['bug', 'cleanup']"), as both occur upstream.
func listOf(v any) []string {
	var out []string
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			out = append(out, fmt.Sprint(e))
		}
	case string:
		for _, k := range strings.Split(strings.Trim(x, "[]"), ",") {
			if k = strings.Trim(strings.TrimSpace(k), "'\""); k != "" {
				out = append(out, k)
			}
		}
	}
	return out
}

// Real upstream notes (markdown links, code, angle brackets, long entries)
// rendered one advisory per note across three clusters, plus one advisory
// carrying them all: every limit and escaping invariant must hold.
func TestRenderCorpusNotes(t *testing.T) {
	notes := corpusNotes(t)
	var advs []tracker.Advisory
	for i, n := range notes {
		advs = append(advs, tracker.Advisory{
			ID: fmt.Sprintf("removal/%d", n.PR), Kind: tracker.AdvisoryRemoval, Severity: tracker.SeverityMedium,
			Cluster: []string{"prod-eu", "prod-us", "staging"}[i*3/len(notes)],
			Version: "v1.24.9", Target: "v1.25.16", Title: fmt.Sprintf("adv-%03d", i), Notes: []tracker.Note{n},
		})
	}
	advs = append(advs, tracker.Advisory{ID: "all", Kind: tracker.AdvisoryActionRequired, Severity: tracker.SeverityHigh,
		Cluster: "staging", Title: "every note", Notes: notes})

	msgs := Render(notify.Batch{ID: "corpus", Advisories: advs})
	var all strings.Builder
	for i, m := range msgs {
		raw, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range checkMessage(t, i, raw) {
			all.WriteString(f.text + "\n")
		}
	}
	text := all.String()
	for _, n := range notes {
		if want := fmt.Sprintf("<https://github.com/kubernetes/kubernetes/pull/%d|#%d>", n.PR, n.PR); !strings.Contains(text, want) {
			t.Errorf("PR %d has no link", n.PR)
		}
	}
	if !strings.Contains(text, fmt.Sprintf("… and %d more notes", len(notes)-maxNotes)) {
		t.Errorf("the all-notes advisory does not say how many notes it left out")
	}
	t.Logf("%d upstream notes → %d advisories → %d messages", len(notes), len(advs), len(msgs))
}

func BenchmarkRenderCorpus(b *testing.B) {
	notes := corpusNotes(b)
	var advs []tracker.Advisory
	for i, n := range notes {
		advs = append(advs, tracker.Advisory{Kind: tracker.AdvisoryRemoval, Cluster: fmt.Sprintf("c%d", i%5), Title: "x", Notes: []tracker.Note{n}})
	}
	batch := notify.Batch{Advisories: advs}
	b.ResetTimer()
	for b.Loop() {
		Render(batch)
	}
}
