package main

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kubedrift/kubedrift/tracker"
)

func notesJSON(t *testing.T, args ...string) []tracker.Note {
	t.Helper()
	if !slices.Contains(args, "--store") {
		args = append([]string{"--store", filepath.Join(t.TempDir(), "kd.db")}, args...)
	}
	args = append([]string{"notes", "-o", "json"}, args...)
	out, stderr, code := runCLI(t, args...)
	if code != 0 {
		t.Fatalf("%v: exit %d: %s", args, code, stderr)
	}
	var notes []tracker.Note
	if err := json.Unmarshal([]byte(out), &notes); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	return notes
}

func prs(notes []tracker.Note) []int {
	var out []int
	for _, n := range notes {
		out = append(out, n.PR)
	}
	return out
}

func TestNotesFromChangelog(t *testing.T) {
	fixture := "testdata/CHANGELOG-1.30.md"
	tests := []struct {
		name string
		args []string
		want []int
	}{
		{"all finals", nil, []int{0, 120001, 120002, 120003, 120004, 120005, 120006}},
		{"crossing 1.30.0 to 1.30.1", []string{"--from", "v1.30.0", "--to", "v1.30.1"}, []int{0, 120001}},
		{"up to 1.30.0 (rc note attributed to the final)", []string{"--to", "v1.30.0"}, []int{120002, 120003, 120004, 120005, 120006}},
		{"removals", []string{"--kind", "removal"}, []int{120002, 120004}},
		{"security", []string{"--kind", "security"}, []int{0, 120001}},
		{"action required", []string{"--action-required"}, []int{120002}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := prs(notesJSON(t, append([]string{"--changelog", fixture}, tt.args...)...))
			if strings.Trim(strings.Join(strings.Fields(strings.Trim(jsonInts(got), "[]")), " "), " ") != strings.Trim(jsonInts(tt.want), "[]") {
				t.Errorf("PRs %v, want %v", got, tt.want)
			}
		})
	}
	for _, n := range notesJSON(t, "--changelog", fixture) {
		if n.PR == 120005 && (n.Version != "v1.30.0" || n.FirstSeen != "v1.30.0-rc.0") {
			t.Errorf("#120005 version %s first_seen %s, want v1.30.0 first seen in v1.30.0-rc.0", n.Version, n.FirstSeen)
		}
		if n.PR == 0 && (n.Security == nil || n.Security.ID != "CVE-2024-99001" || n.Version != "v1.30.1") {
			t.Errorf("security note %+v", n)
		}
		if n.CVEs == nil {
			t.Errorf("#%d: cves must be [] not null", n.PR)
		}
	}
}

func jsonInts(v []int) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestNotesOfflineFromSnapshot(t *testing.T) {
	// A fresh store answers from the embedded snapshot: PodSecurityPolicy's
	// removal is there by kinds, PR and link, without upstream prose.
	notes := notesJSON(t, "--from", "v1.24.17", "--to", "v1.25.0", "--kind", "removal")
	var psp *tracker.Note
	for i := range notes {
		if notes[i].PR == 109798 {
			psp = &notes[i]
		}
	}
	if psp == nil {
		t.Fatalf("PodSecurityPolicy removal (#109798) missing from offline notes: %v", prs(notes))
	}
	if !psp.HasKind(tracker.KindRemoval) || !psp.HasKind(tracker.KindDeprecation) || psp.Text != "" || psp.URL == "" {
		t.Errorf("offline PSP note %+v: want deprecation+removal, a link and no text", psp)
	}
	out, _, code := runCLI(t, "notes", "--store", filepath.Join(t.TempDir(), "kd.db"), "--to", "v1.25.0", "--kind", "removal")
	if code != 0 || !strings.Contains(out, "text arrives with kubedrift sync") {
		t.Errorf("offline table should say where the text is: exit %d\n%s", code, out)
	}
}

func TestNotesUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		msg  string
	}{
		{[]string{"--from", "v1.2x"}, `"v1.2x"`},
		{[]string{"--from", "v1.26.0", "--to", "v1.25.0"}, "older than --from"},
		{[]string{"--kind", "removals"}, `unknown kind "removals"`},
		{[]string{"-o", "csv"}, `unknown output format "csv"`},
		{[]string{"--changelog", "does-not-exist.md"}, "does-not-exist.md"},
	}
	for _, tt := range tests {
		_, stderr, code := runCLI(t, append([]string{"notes", "--store", filepath.Join(t.TempDir(), "kd.db")}, tt.args...)...)
		if code != exitUsage || !strings.Contains(stderr, tt.msg) {
			t.Errorf("%v: exit %d stderr %q, want exit 1 mentioning %s", tt.args, code, stderr, tt.msg)
		}
	}
}

func TestNotesBadChangelogKeepsGoing(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "CHANGELOG-9.9.md")
	writeTestFile(t, bad, "just prose, no release headings\n")
	out, stderr, code := runCLI(t, "notes", "--store", filepath.Join(dir, "kd.db"), "--changelog", bad, "--changelog", "testdata/CHANGELOG-1.30.md", "-o", "json")
	if code != exitPartial || !strings.Contains(stderr, "CHANGELOG-9.9.md") || !strings.Contains(out, "120001") {
		t.Errorf("exit %d (want 2), stderr %q must name the bad file, output must keep the good one", code, stderr)
	}
}

func TestMarkdownNeutralisesUpstreamText(t *testing.T) {
	got := markdownInline("see [here](javascript:x) <script>`x`|*y*")
	for _, bad := range []string{"[here](", "<script>", "|*"} {
		if strings.Contains(got, bad) {
			t.Errorf("markdownInline left %q in %q", bad, got)
		}
	}
	if got := terminalSafe("a\x1b[2Jb\tc\nd", 0); got != "a [2Jb c d" {
		t.Errorf("terminalSafe = %q", got)
	}
}

func TestVersionCommand(t *testing.T) {
	out, _, code := runCLI(t, "version")
	if code != 0 || !strings.Contains(out, "kubedrift ") || !strings.Contains(out, "embedded data built") {
		t.Errorf("version: exit %d out %q", code, out)
	}
}
