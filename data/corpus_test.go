package data

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kubedrift/kubedrift/tracker"
)

// corpusDir finds the shared upstream corpus next to the module root, or
// skips: a user's checkout has no ../shared.
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
			t.Skip("no go.mod above the package directory; upstream corpus unavailable")
		}
		dir = parent
	}
	c := filepath.Join(dir, "..", "shared", "corpus")
	if _, err := os.Stat(c); err != nil {
		t.Skipf("upstream corpus not found at %s (it lives outside the repository): %v", c, err)
	}
	return c
}

// corpusReleases reads kubernetes/releases.tsv.
func corpusReleases(t testing.TB, dir string) []tracker.Release {
	t.Helper()
	path := filepath.Join(dir, "kubernetes", "releases.tsv")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []tracker.Release
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		cols := strings.Split(sc.Text(), "\t")
		if line == 1 || len(cols) < 3 {
			continue
		}
		out = append(out, tracker.Release{Component: tracker.ComponentKubernetes, Version: cols[0], Prerelease: cols[2] == "true"})
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return out
}

// corpusNotes turns upstream's structured v1.25.0 notes into tracker notes.
func corpusNotes(t testing.TB, dir string) []tracker.Note {
	t.Helper()
	path := filepath.Join(dir, "relnotes", "release-notes-1.25.0.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]struct {
		Markdown       string   `json:"markdown"`
		PRURL          string   `json:"pr_url"`
		PRNumber       int      `json:"pr_number"`
		Kinds          []string `json:"kinds"`
		SIGs           []string `json:"sigs"`
		ActionRequired bool     `json:"action_required"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []tracker.Note
	for _, r := range raw {
		n := tracker.Note{Component: tracker.ComponentKubernetes, Version: "v1.25.0", FirstSeen: "v1.25.0",
			PR: r.PRNumber, SIGs: r.SIGs, Text: r.Markdown, URL: r.PRURL, ActionRequired: r.ActionRequired}
		for _, k := range r.Kinds {
			kind := tracker.Kind(k)
			if !tracker.ValidKind(kind) {
				kind = tracker.KindOther
			}
			n.AddKind(kind)
		}
		out = append(out, n)
	}
	return out
}

// corpusCVEs reads the OSV records.
func corpusCVEs(t testing.TB, dir string) []tracker.CVE {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "osv", "CVE-*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no OSV records: %v", err)
	}
	var out []tracker.CVE
	for _, path := range files {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var rec struct {
			ID, Summary, Details string
			Published, Modified  time.Time
			Affected             []struct {
				Package  struct{ Name string }
				Severity []struct{ Type, Score string }
				Ranges   []struct {
					Events []map[string]string
				}
			}
		}
		if err := json.Unmarshal(b, &rec); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		c := tracker.CVE{ID: rec.ID, Summary: rec.Summary, Details: rec.Details, Published: rec.Published,
			Modified: rec.Modified, Sources: []string{"osv"}}
		for _, a := range rec.Affected {
			p := tracker.AffectedPackage{Package: a.Package.Name}
			for _, sv := range a.Severity {
				c.CVSS = &tracker.CVSS{Vector: sv.Score}
			}
			for _, r := range a.Ranges {
				var cur tracker.Range
				for _, ev := range r.Events {
					if v, ok := ev["introduced"]; ok {
						cur = tracker.Range{Introduced: v}
					}
					if v, ok := ev["fixed"]; ok {
						cur.Fixed = v
						p.Ranges = append(p.Ranges, cur)
						cur = tracker.Range{}
					}
				}
				if cur.Introduced != "" {
					p.Ranges = append(p.Ranges, cur)
				}
			}
			c.Affected = append(c.Affected, p)
		}
		out = append(out, c)
	}
	return out
}

// TestCorpusRoundTrip stores the real upstream data, exports the facts-only
// snapshot and imports it elsewhere: the facts survive and no prose leaks.
func TestCorpusRoundTrip(t *testing.T) {
	dir := corpusDir(t)
	u := Update{Source: "corpus", At: date("2026-03-01T00:00:00Z"),
		Releases: corpusReleases(t, dir), Notes: corpusNotes(t, dir), CVEs: corpusCVEs(t, dir),
		NoteScopes: []NoteScope{{tracker.ComponentKubernetes, "v1.25.0"}}}
	s := openTemp(t, Options{})
	if err := s.Apply(ctxBG, u); err != nil {
		t.Fatal(err)
	}
	rel, err := s.Releases(ctxBG, ReleaseFilter{IncludePrereleases: true})
	if err != nil {
		t.Fatal(err)
	}
	notes, err := s.Notes(ctxBG, NoteFilter{Component: tracker.ComponentKubernetes, Minor: "1.25"})
	if err != nil {
		t.Fatal(err)
	}
	cves, err := s.CVEs(ctxBG)
	if err != nil {
		t.Fatal(err)
	}
	if len(rel) != len(u.Releases) || len(notes) != len(u.Notes) || len(cves) != len(u.CVEs) {
		t.Fatalf("stored %d releases, %d notes, %d cves; want %d, %d, %d",
			len(rel), len(notes), len(cves), len(u.Releases), len(u.Notes), len(u.CVEs))
	}
	for i := 1; i < len(rel); i++ {
		if tracker.CompareVersionStrings(rel[i-1].Version, rel[i].Version) < 0 {
			t.Fatalf("releases out of order: %s before %s", rel[i-1].Version, rel[i].Version)
		}
	}
	for i := 1; i < len(notes); i++ {
		if notes[i-1].PR >= notes[i].PR {
			t.Fatalf("notes of one version out of PR order: %d before %d", notes[i-1].PR, notes[i].PR)
		}
	}
	for i := 1; i < len(cves); i++ {
		if compareCVEIDs(cves[i-1].ID, cves[i].ID) >= 0 {
			t.Fatalf("cves out of order: %s before %s", cves[i-1].ID, cves[i].ID)
		}
	}

	var snap bytes.Buffer
	if err := s.Export(ctxBG, &snap, ExportOptions{FactsOnly: true, BuiltAt: builtAt}); err != nil {
		t.Fatal(err)
	}
	for _, n := range u.Notes {
		if len(n.Text) > 20 && bytes.Contains(snap.Bytes(), []byte(n.Text[:20])) {
			t.Errorf("snapshot contains note prose of PR %d", n.PR)
		}
	}
	for _, c := range u.CVEs {
		if bytes.Contains(snap.Bytes(), []byte(c.Summary)) {
			t.Errorf("snapshot contains the summary of %s", c.ID)
		}
	}
	fresh := openTemp(t, Options{})
	sum, err := fresh.Import(ctxBG, bytes.NewReader(snap.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Releases != len(u.Releases) || sum.Notes != len(u.Notes) || sum.CVEs != len(u.CVEs) {
		t.Errorf("import summary %+v", sum)
	}
	got, _ := fresh.Notes(ctxBG, NoteFilter{})
	for i := range notes {
		notes[i].Text = ""
	}
	if !jsonEq(t, got, notes) {
		t.Error("note facts differ after snapshot round trip")
	}
	t.Logf("corpus: %d releases, %d notes, %d cves; facts-only snapshot %d bytes", len(rel), len(notes), len(cves), snap.Len())
}

// benchChangelog is a changelog-sized update: 200 releases and 700 notes with
// upstream-like fields and text lengths.
func benchChangelog(minor, gen int) Update {
	u := Update{Source: fmt.Sprintf("changelog-1.%d", minor), At: genBase.Add(time.Duration(gen) * time.Second)}
	for i := range 200 {
		v := fmt.Sprintf("v1.%d.%d", minor, i)
		u.Releases = append(u.Releases, tracker.Release{Component: tracker.ComponentKubernetes, Version: v,
			Date: genBase.Add(time.Duration(i) * 24 * time.Hour), URL: "https://example.test/releases/" + v})
	}
	kinds := []tracker.Kind{tracker.KindBug, tracker.KindFeature, tracker.KindAPIChange, tracker.KindCleanup, tracker.KindDeprecation}
	for i := range 700 {
		v := u.Releases[i%20].Version
		n := tracker.Note{Component: tracker.ComponentKubernetes, Version: v, FirstSeen: v,
			Kinds: []tracker.Kind{kinds[i%len(kinds)]}, PR: 100000 + i, SIGs: []string{"node", "api-machinery"},
			URL:  fmt.Sprintf("https://example.test/pull/%d", 100000+i),
			Text: fmt.Sprintf("Widget %d: the controller now retries reconciling sprockets with backoff. %s", i, strings.Repeat("More detail. ", 25))}
		if i%50 == 0 {
			n.CVEs = []string{fmt.Sprintf("CVE-2099-%d", i)}
			n.AddKind(tracker.KindSecurity)
		}
		u.Notes = append(u.Notes, n)
	}
	for i := range 20 {
		u.NoteScopes = append(u.NoteScopes, NoteScope{tracker.ComponentKubernetes, u.Releases[i].Version})
	}
	return u
}

func BenchmarkApplyChangelog(b *testing.B) {
	s := openTemp(b, Options{})
	u := benchChangelog(25, 1)
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Apply(ctxBG, u); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNotesQuery(b *testing.B) {
	s := openTemp(b, Options{})
	for minor := 21; minor <= 25; minor++ {
		if err := s.Apply(ctxBG, benchChangelog(minor, 1)); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("minor", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ns, err := s.Notes(ctxBG, NoteFilter{Component: tracker.ComponentKubernetes, Minor: "1.25"})
			if err != nil || len(ns) != 700 {
				b.Fatalf("%d notes, %v", len(ns), err)
			}
		}
	})
	b.Run("versions", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ns, err := s.Notes(ctxBG, NoteFilter{Component: tracker.ComponentKubernetes, Versions: []string{"v1.24.3", "v1.25.3"}})
			if err != nil || len(ns) != 70 {
				b.Fatalf("%d notes, %v", len(ns), err)
			}
		}
	})
}

// BenchmarkImport measures importing a full (with prose) compressed bundle of one changelog.
func BenchmarkImport(b *testing.B) {
	s := openTemp(b, Options{})
	if err := s.Apply(ctxBG, benchChangelog(25, 1)); err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	if err := s.Export(ctxBG, &buf, ExportOptions{BuiltAt: builtAt, Compress: true}); err != nil {
		b.Fatal(err)
	}
	dst := openTemp(b, Options{})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := dst.Import(ctxBG, bytes.NewReader(buf.Bytes())); err != nil {
			b.Fatal(err)
		}
	}
}
