package tracker

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// Test data invented for kubedrift's tests: versions resemble upstream's, note
// texts and CVE ids are made up.

func day(s string) time.Time {
	t, err := time.Parse(dateLayout, s)
	if err != nil {
		panic(err)
	}
	return t
}

func testReleases() []Release {
	var rs []Release
	add := func(vs ...string) {
		for _, v := range vs {
			rs = append(rs, Release{Component: ComponentKubernetes, Version: v, Prerelease: strings.Contains(v, "-")})
		}
	}
	add("v1.24.0-rc.1", "v1.24.0", "v1.24.3", "v1.24.5", "v1.24.17")
	add("v1.25.0-alpha.1", "v1.25.0", "v1.25.1", "v1.25.16")
	add("v1.26.0", "v1.26.15")
	add("v1.27.0", "v1.27.4", "v1.27.16")
	add("v1.28.0", "v1.28.2", "v1.28.3-rc.0")
	rs[len(rs)-2].URL = "https://example.test/releases/v1.28.2"
	// Ignored: another component, and a duplicate from a second source.
	rs = append(rs, Release{Component: "etcd", Version: "v3.5.9"}, Release{Version: "v1.26.15"})
	return rs
}

func testNotes() []Note {
	return []Note{
		{Component: ComponentKubernetes, Version: "v1.24.5", Kinds: []Kind{KindBug}, PR: 1001, Text: "Fixes a made-up leak in the widget cache."},
		{Component: ComponentKubernetes, Version: "v1.25.0", FirstSeen: "v1.25.0-alpha.1", Kinds: []Kind{KindDeprecation, KindRemoval}, ActionRequired: true, PR: 2001, Text: "The imaginary FooPolicy admission plugin is removed."},
		{Component: ComponentKubernetes, Version: "v1.25.0", Kinds: []Kind{KindDeprecation}, PR: 2002, Text: "The --bar flag is deprecated."},
		{Component: ComponentKubernetes, Version: "v1.25.0-rc.1", Kinds: []Kind{KindRemoval}, PR: 2003, Text: "A generic pre-release body."},
		{Component: ComponentKubernetes, Version: "v1.26.0", Kinds: []Kind{KindAPIChange}, ActionRequired: true, PR: 3001, Text: "Widgets now default to strict mode."},
		{Component: ComponentKubernetes, Version: "v1.27.0", Kinds: []Kind{KindRemoval}, PR: 4001, Text: "The v1beta1 Gadget API is no longer served."},
		{Component: ComponentKubernetes, Version: "v1.27.4", Kinds: []Kind{KindDeprecation}, PR: 4002, Text: "The --baz flag is deprecated."},
		{Component: ComponentKubernetes, Version: "v1.28.0", Kinds: []Kind{KindDeprecation, KindFeature}, PR: 5001, Text: "Gizmo v1alpha1 is deprecated."},
		{Component: "etcd", Version: "v1.25.0", Kinds: []Kind{KindRemoval}, PR: 9001, Text: "Not kubernetes."},
	}
}

const (
	cveAPI      = "CVE-2023-1001" // kube-apiserver, fixed per minor
	cveKubelet  = "CVE-2024-2002" // kubelet, fixed in 1.26.15 and 1.27.4
	cveProxy    = "CVE-2024-2010" // kube-proxy, no fix
	cveIngress  = "CVE-2024-3003" // untracked package
	cveTwoComps = "CVE-2023-1500" // kube-apiserver and kubelet
)

func testCVEs() []CVE {
	return []CVE{
		{ID: cveAPI, URL: "https://example.test/cve/1001", CVSS: &CVSS{Rating: "Medium", Score: 6.5}, Affected: []AffectedPackage{{
			Package: "k8s.io/apiserver", Component: ComponentAPIServer, Tracked: true,
			Ranges: []Range{{"1.25.0", "1.25.1"}, {"1.24.0", "1.24.5"}, {"0", "1.23.12"}},
		}}},
		{ID: cveKubelet, CVSS: &CVSS{Rating: "High", Score: 8.8}, Affected: []AffectedPackage{{
			Package: "k8s.io/kubelet", Component: ComponentKubelet, Tracked: true,
			Ranges: []Range{{"", "1.26.15"}, {"1.27.0", "1.27.4"}},
		}}},
		{ID: cveProxy, Affected: []AffectedPackage{{
			Package: "k8s.io/kube-proxy", Component: ComponentKubeProxy, Tracked: true,
			Ranges: []Range{{Introduced: "1.27.0"}},
		}}},
		{ID: cveIngress, Affected: []AffectedPackage{{
			Package: "k8s.io/ingress-nginx", Component: "ingress-nginx", Tracked: false,
			Ranges: []Range{{Introduced: "0"}},
		}}},
		{ID: cveTwoComps, Affected: []AffectedPackage{
			{Package: "k8s.io/apiserver", Component: ComponentAPIServer, Tracked: true, Ranges: []Range{{"0", "1.24.17"}}},
			{Package: "k8s.io/kubelet", Component: ComponentKubelet, Tracked: true, Ranges: []Range{{"0", "1.25.0"}}},
		}},
	}
}

func testWindows() []SupportWindow {
	return []SupportWindow{
		{Minor: "1.24", Released: day("2022-05-03"), MaintenanceStart: day("2023-05-28"), EndOfLife: day("2023-07-28")},
		{Minor: "1.27", Released: day("2023-04-11"), MaintenanceStart: day("2024-04-28"), EndOfLife: day("2024-06-28")},
		{Minor: "v1.28"}, // in the schedule, dates not yet known
		{Minor: "1.26", EndOfLife: day("2024-02-28")},
		{Minor: "1.25", MaintenanceStart: day("2023-08-28")},
	}
}

func testCatalog(t testing.TB) *Catalog {
	t.Helper()
	c := NewCatalog(testReleases(), testNotes(), testCVEs(), testWindows())
	if p := c.Problems(); len(p) != 0 {
		t.Fatalf("test catalog has problems: %v", p)
	}
	return c
}

func TestCatalogLatest(t *testing.T) {
	c := testCatalog(t)
	tests := []struct {
		minor string
		want  string
		ok    bool
	}{
		{"1.24", "v1.24.17", true},
		{"1.25", "v1.25.16", true},
		{"1.28", "v1.28.2", true}, // v1.28.3-rc.0 is a pre-release
		{"1.29", "", false},
		{"1.23", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.minor, func(t *testing.T) {
			got, ok := c.LatestPatch(mustMinor(t, tt.minor))
			if ok != tt.ok || (ok && got.String() != tt.want) {
				t.Errorf("LatestPatch(%s) = %s, %v; want %s, %v", tt.minor, got, ok, tt.want, tt.ok)
			}
		})
	}
	if v, ok := c.LatestStable(); !ok || v.String() != "v1.28.2" {
		t.Errorf("LatestStable = %s, %v; want v1.28.2", v, ok)
	}
	if got := c.Minors(); len(got) != 5 || got[0].String() != "1.24" || got[4].String() != "1.28" {
		t.Errorf("Minors = %v", got)
	}
	empty := NewCatalog(nil, nil, nil, nil)
	if _, ok := empty.LatestStable(); ok {
		t.Error("empty catalog has a latest stable release")
	}
}

func mustMinor(t testing.TB, s string) Minor {
	t.Helper()
	m, err := ParseMinor(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestCatalogProblems(t *testing.T) {
	c := NewCatalog(
		[]Release{{Version: "v1.27.1"}, {Component: ComponentKubernetes, Version: "1.x"}},
		[]Note{{Version: "vNext", PR: 42}},
		[]CVE{{ID: "CVE-2024-9", Affected: []AffectedPackage{{Package: "k8s.io/kubelet", Component: ComponentKubelet, Tracked: true, Ranges: []Range{{"1.2x", "1.27.3"}, {"1.27.0", "1.27.3"}}}}}},
		[]SupportWindow{{Minor: "one.two"}, {Minor: "1.27"}, {Minor: "v1.27"}},
	)
	want := []string{`release #1: invalid Kubernetes version "1.x"`, `note #0 (PR 42)`, `CVE #0 "CVE-2024-9": package k8s.io/kubelet: introduced`, `support window #0`, `support window #2: duplicate entry for minor 1.27`}
	got := c.Problems()
	if len(got) != len(want) {
		t.Fatalf("Problems = %v; want %d entries", got, len(want))
	}
	for i, w := range want {
		t.Run(w, func(t *testing.T) {
			if !strings.Contains(got[i].Error(), w) {
				t.Errorf("problem %d = %q; want it to contain %q", i, got[i], w)
			}
		})
	}
	// The bad range is skipped, the good one still counts.
	if e := c.CVEsAffecting(MustParseVersion("v1.27.1"), []string{ComponentKubelet}); len(e) != 1 || e[0].FixedIn != "v1.27.3" {
		t.Errorf("CVEsAffecting after a bad range = %+v", e)
	}
	if v, ok := c.LatestStable(); !ok || v.String() != "v1.27.1" {
		t.Errorf("LatestStable = %s, %v", v, ok)
	}
}

// TestNotesCrossedMatchesCrossing checks that the sorted index selects exactly
// what Crossing selects, for every pair of known versions.
func TestNotesCrossedMatchesCrossing(t *testing.T) {
	c := testCatalog(t)
	notes := testNotes()
	var kube []Note
	for _, n := range notes {
		if isKubernetes(n.Component) {
			kube = append(kube, n)
		}
	}
	var vs []Version
	for _, r := range testReleases() {
		if v, err := ParseVersion(r.Version); err == nil {
			vs = append(vs, v)
		}
	}
	vs = append(vs, MustParseVersion("v1.24.3-eks-a5565ad"), MustParseVersion("v1.30.0"), MustParseVersion("v1.20.0"))
	prs := func(ns []Note) []int {
		var out []int
		for _, n := range ns {
			out = append(out, n.PR)
		}
		slices.Sort(out)
		return out
	}
	for _, from := range vs {
		for _, to := range vs {
			t.Run(from.String()+"-"+to.String(), func(t *testing.T) {
				got, want := prs(c.notesCrossed(from.Upstream(), to.Upstream())), prs(Crossing(kube, from, to, false))
				if !slices.Equal(got, want) {
					t.Errorf("notesCrossed = %v; Crossing = %v", got, want)
				}
			})
		}
	}
}

// corpusDir finds ../shared/corpus next to the module root, or skips.
func corpusDir(t *testing.T) string {
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
			t.Skip("corpus not found: no go.mod above the package directory")
		}
		dir = parent
	}
	corpus := filepath.Join(dir, "..", "shared", "corpus")
	if _, err := os.Stat(corpus); err != nil {
		t.Skipf("upstream corpus not available at %s (it lives outside the repository): %v", corpus, err)
	}
	return corpus
}

// TestCorpusReleases indexes the real release list and checks facts stated in
// the corpus README, including its gaps (1.23 has no final release listed).
func TestCorpusReleases(t *testing.T) {
	corpus := corpusDir(t)
	b, err := os.ReadFile(filepath.Join(corpus, "kubernetes", "releases.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	var rs []Release
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if i == 0 {
			continue // header
		}
		f := strings.Split(line, "\t")
		rs = append(rs, Release{Component: ComponentKubernetes, Version: f[0], Prerelease: f[2] == "true"})
	}
	if len(rs) != 210 {
		t.Fatalf("read %d releases; want 210", len(rs))
	}
	c := NewCatalog(rs, nil, nil, nil)
	if p := c.Problems(); len(p) != 0 {
		t.Fatalf("real releases did not all parse: %v", p)
	}
	tests := []struct{ minor, latest string }{
		{"1.19", "v1.19.16"}, {"1.22", "v1.22.8"}, {"1.24", "v1.24.15"}, {"1.28", "v1.28.8"}, {"1.36", "v1.36.0"}, {"1.23", ""}, {"1.37", ""},
	}
	for _, tt := range tests {
		t.Run(tt.minor, func(t *testing.T) {
			got, ok := c.LatestPatch(mustMinor(t, tt.minor))
			if (tt.latest == "") == ok || (ok && got.String() != tt.latest) {
				t.Errorf("LatestPatch(%s) = %s, %v; want %q", tt.minor, got, ok, tt.latest)
			}
		})
	}
	if v, _ := c.LatestStable(); v.String() != "v1.36.0" {
		t.Errorf("LatestStable = %s; want v1.36.0", v)
	}
	if n := c.patchesAfter(MustParseVersion("v1.24.3")); n != 12 {
		t.Errorf("patches after v1.24.3 = %d; want 12", n)
	}
	steps, err := c.UpgradePath(MustParseVersion("v1.19.3"), MustParseVersion("v1.22.8"), nil)
	if err != nil || len(steps) != 4 || steps[0].To != "v1.19.16" || steps[1].To != "v1.20.4" || steps[2].To != "v1.21.0" {
		t.Errorf("UpgradePath 1.19.3 → 1.22.8 = %+v, %v", steps, err)
	}
	_, err = c.UpgradePath(MustParseVersion("v1.22.2"), MustParseVersion("v1.24.15"), nil)
	if !errors.Is(err, ErrNoRelease) || !strings.Contains(err.Error(), "minor 1.23") {
		t.Errorf("path across the missing 1.23: err = %v; want one naming minor 1.23", err)
	}
}
