package tracker

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// eolDrift builds a drift on minor 1.27 whose end of life is days away.
func eolDrift(name string, days int) ClusterDrift {
	eol := driftNow.AddDate(0, 0, days).Format(dateLayout)
	return ClusterDrift{Name: name, Version: "v1.27.4", Distribution: DistVanilla,
		Support: Support{Status: SupportSupported, EndOfLife: eol, DaysLeft: &days}}
}

// allKnown lists every release of the test catalog except those named.
func allKnown(except ...string) map[string]bool {
	m := map[string]bool{}
	for i, r := range testReleases() {
		if !slices.Contains(except, r.Version) {
			// Both spellings are accepted.
			m[strings.TrimPrefix(r.Version, strings.Repeat("v", i%2))] = true
		}
	}
	return m
}

type wantAdv struct {
	id       string
	severity Severity
	target   string
	title    string // a substring of the title
}

func TestAdvisoriesKinds(t *testing.T) {
	c := testCatalog(t)
	prod := prodEU()
	prodDrift := c.Drift(prod, DriftOptions{Now: driftNow})
	on := func(v string) ClusterDrift {
		return c.Drift(Cluster{Name: "stage-" + v, Version: v, ObservedAt: driftNow}, DriftOptions{Now: driftNow})
	}
	tests := []struct {
		name     string
		clusters []Cluster
		drifts   []ClusterDrift
		opt      AdvisoryOptions
		only     AdvisoryKind // when set, other kinds are ignored
		want     []wantAdv
	}{
		{
			name:     "prod-eu: security, next step, eol",
			clusters: []Cluster{prod},
			drifts:   []ClusterDrift{prodDrift},
			opt:      AdvisoryOptions{Now: driftNow},
			want: []wantAdv{
				{"eol/prod-eu/1.24", SeverityCritical, "v1.28.2", "reached end of life on 2023-07-28 (4 days ago)"},
				{"action-required/prod-eu/pr-2001", SeverityHigh, "v1.25.16", "v1.24.17 → v1.25.16 has an urgent upgrade note (PR #2001"},
				{"security/prod-eu/CVE-2024-2002", SeverityHigh, "v1.26.15", "CVE-2024-2002 (high 8.8) affects v1.22.4-eks-7f7b5a1 (kubelet); fixed in v1.26.15 (a later minor)"},
				{"removal/prod-eu/pr-2001", SeverityMedium, "v1.25.16", "removes a feature or API (PR #2001, in v1.25.0)"},
				{"security/prod-eu/CVE-2023-1001", SeverityMedium, "v1.24.5", "prod-eu: CVE-2023-1001 (medium 6.5) affects v1.24.3-eks-a5565ad (kube-apiserver); fixed in v1.24.5"},
				{"security/prod-eu/CVE-2023-1500", SeverityMedium, "v1.25.0", "CVE-2023-1500 (medium) affects"},
			},
		},
		{
			name:   "no fix yet: no security advisory",
			drifts: []ClusterDrift{{Name: "x", Version: "v1.27.4", CVEs: []CVEExposure{{ID: cveProxy, Status: ExposureNoFix, Score: 9.9}}}},
			want:   nil,
		},
		{
			name: "severity from the CVSS score",
			drifts: []ClusterDrift{{Name: "x", Version: "v1.27.4", CVEs: []CVEExposure{
				{ID: "CVE-2024-1", Status: ExposureFixedInMinor, FixedIn: "v1.27.5", Score: 9.0},
				{ID: "CVE-2024-2", Status: ExposureFixedInMinor, FixedIn: "v1.27.5", Score: 7.0},
				{ID: "CVE-2024-3", Status: ExposureFixedInMinor, FixedIn: "v1.27.5", Score: 3.9},
				{ID: "CVE-2024-4", Status: ExposureFixedInMinor, FixedIn: "v1.27.5"},
				{ID: "CVE-2024-5", Status: ExposureFixedInMinor, FixedIn: "v1.27.5", Severity: "High"},
				{ID: "CVE-2024-6", Status: ExposureFixedInLaterMinor, LaterFix: "v1.28.1", Score: 4.0},
			}}},
			want: []wantAdv{
				{"security/x/CVE-2024-1", SeverityCritical, "v1.27.5", "(critical 9.0)"},
				{"security/x/CVE-2024-2", SeverityHigh, "v1.27.5", "(high 7.0)"},
				{"security/x/CVE-2024-5", SeverityHigh, "v1.27.5", "(high)"},
				{"security/x/CVE-2024-4", SeverityMedium, "v1.27.5", "(medium)"},
				{"security/x/CVE-2024-6", SeverityMedium, "v1.28.1", "fixed in v1.28.1 (a later minor)"},
				{"security/x/CVE-2024-3", SeverityLow, "v1.27.5", "(low 3.9)"},
			},
		},
		{
			name: "eol thresholds",
			drifts: []ClusterDrift{
				eolDrift("d61", 61), eolDrift("d60", 60), eolDrift("d31", 31), eolDrift("d30", 30),
				eolDrift("d8", 8), eolDrift("d7", 7), eolDrift("d1", 1), eolDrift("d0", 0), eolDrift("dm5", -5),
				{Name: "unknown", Version: "v1.28.2", Support: Support{Status: SupportUnknown}},
			},
			want: []wantAdv{
				{"eol/d0/1.27", SeverityCritical, "", "reached end of life on 2023-08-01 (0 days ago)"},
				{"eol/dm5/1.27", SeverityCritical, "", "(5 days ago)"},
				{"eol/d1/1.27", SeverityHigh, "", "(1 days left)"},
				{"eol/d7/1.27", SeverityHigh, "", "(7 days left)"},
				{"eol/d30/1.27", SeverityMedium, "", "(30 days left)"},
				{"eol/d8/1.27", SeverityMedium, "", "(8 days left)"},
				{"eol/d31/1.27", SeverityLow, "", "(31 days left)"},
				{"eol/d60/1.27", SeverityLow, "", "reaches end of life on 2023-09-30 (60 days left)"},
			},
		},
		{
			name:   "custom eol thresholds",
			drifts: []ClusterDrift{eolDrift("d14", 14), eolDrift("d90", 90)},
			opt:    AdvisoryOptions{EOLWarnDays: []int{14, 90}},
			want: []wantAdv{
				{"eol/d14/1.27", SeverityHigh, "", "(14 days left)"},
				{"eol/d90/1.27", SeverityMedium, "", "(90 days left)"},
			},
		},
		{
			name: "skew: one per rule",
			drifts: []ClusterDrift{{Name: "edge", Version: "v1.28.2", Skew: []SkewViolation{
				{Kind: SkewKubeletTooOld, Detail: "3 nodes: a, b, c", Nodes: []string{"a", "b", "c"}},
				{Kind: SkewKubeProxyNewer, Detail: "1 node: d", Nodes: []string{"d"}},
			}}},
			want: []wantAdv{
				{"skew/edge/kube-proxy-newer-than-apiserver", SeverityHigh, "", "violated by 1 node"},
				{"skew/edge/kubelet-too-old", SeverityHigh, "", "edge: version skew policy violated by 3 nodes (kubelet-too-old)"},
			},
		},
		{
			name:   "new patch that fixes a CVE the cluster has",
			drifts: []ClusterDrift{prodDrift},
			opt:    AdvisoryOptions{Now: driftNow, PreviouslyKnown: allKnown("v1.24.5", "v1.24.17")},
			only:   AdvisoryNewRelease,
			want: []wantAdv{
				{"new-release/prod-eu/v1.24.17", SeverityLow, "v1.24.17", "Kubernetes v1.24.17 is out (cluster runs v1.24.3-eks-a5565ad); it fixes CVE-2023-1001"},
			},
		},
		{
			name:   "new patch, nothing fixed; a release the cluster already runs is not news",
			drifts: []ClusterDrift{on("v1.27.4"), on("v1.25.16")},
			opt:    AdvisoryOptions{PreviouslyKnown: allKnown("v1.27.16", "v1.25.16")},
			only:   AdvisoryNewRelease,
			want: []wantAdv{
				{"new-release/stage-v1.27.4/v1.27.16", SeverityInfo, "v1.27.16", "Kubernetes v1.27.16 is out (cluster runs v1.27.4)"},
			},
		},
		{
			name:   "new minor, fleet-wide",
			drifts: []ClusterDrift{on("v1.27.16")},
			opt:    AdvisoryOptions{PreviouslyKnown: allKnown("v1.28.0", "v1.28.2")},
			only:   AdvisoryNewRelease,
			want: []wantAdv{
				{"new-release//1.28", SeverityInfo, "v1.28.2", "Kubernetes 1.28 is out (v1.28.0)"},
			},
		},
		{
			name: "unreachable",
			clusters: []Cluster{
				{Name: "down", Version: "v1.27.4", Error: "connect: refused", ObservedAt: driftNow.Add(-2 * time.Hour)},
				{Name: "blip", Version: "v1.27.4", Error: "timeout", ObservedAt: driftNow.Add(-30 * time.Minute)},
				{Name: "never", Error: "no such context", Source: "kubeconfig:never"},
				{Name: "new", Error: "no such context", ObservedAt: driftNow.Add(-5 * time.Hour)},
				{Name: "fine", Version: "v1.27.4", ObservedAt: driftNow.Add(-48 * time.Hour)},
			},
			opt: AdvisoryOptions{Now: driftNow},
			want: []wantAdv{
				{"unreachable/down/down", SeverityHigh, "", "down: cluster unreachable (last read 2023-08-01 10:00 UTC)"},
				{"unreachable/never/never", SeverityHigh, "", "never: cluster unreachable (never read successfully)"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Advisories(c, tt.clusters, tt.drifts, tt.opt)
			if tt.only != "" {
				got = slices.DeleteFunc(got, func(a Advisory) bool { return a.Kind != tt.only })
			}
			var ids, wantIDs []string
			for _, a := range got {
				ids = append(ids, a.ID)
			}
			for _, w := range tt.want {
				wantIDs = append(wantIDs, w.id)
			}
			if !slices.Equal(ids, wantIDs) {
				t.Fatalf("ids (in order) = %q\nwant %q", ids, wantIDs)
			}
			for i, w := range tt.want {
				a := got[i]
				if a.Severity != w.severity || a.Target != w.target || !strings.Contains(a.Title, w.title) {
					t.Errorf("%s: severity %s, target %q, title %q; want %s, %q, title containing %q", a.ID, a.Severity, a.Target, a.Title, w.severity, w.target, w.title)
				}
				if len(a.Fingerprint) != 64 {
					t.Errorf("%s: fingerprint %q is not a hex sha256", a.ID, a.Fingerprint)
				}
				wantPrefix := fmt.Sprintf("%s/%s/%s", a.Kind, a.Cluster, a.Subject)
				if a.ID != wantPrefix {
					t.Errorf("id %q, want kind/cluster/subject %q", a.ID, wantPrefix)
				}
			}
		})
	}
}

// TestAdvisoriesNoUpstreamProse checks that titles and details are
// kubedrift's own: the note text travels only in Notes.
func TestAdvisoriesNoUpstreamProse(t *testing.T) {
	c := testCatalog(t)
	d := c.Drift(prodEU(), DriftOptions{Now: driftNow})
	var withNotes int
	for _, a := range Advisories(c, nil, []ClusterDrift{d}, AdvisoryOptions{Now: driftNow}) {
		for _, n := range testNotes() {
			if strings.Contains(a.Title, n.Text) || strings.Contains(a.Detail, n.Text) {
				t.Errorf("%s repeats upstream text %q", a.ID, n.Text)
			}
		}
		if len(a.Notes) > 0 {
			withNotes++
			if a.Notes[0].PR != 2001 {
				t.Errorf("%s carries note PR %d, want 2001", a.ID, a.Notes[0].PR)
			}
		}
	}
	if withNotes != 2 {
		t.Errorf("%d advisories carry notes, want 2 (removal and action-required)", withNotes)
	}
}

// TestAdvisoriesRepost checks the re-post rules: an advisory keeps its id, and
// its fingerprint changes exactly when it changes in substance.
func TestAdvisoriesRepost(t *testing.T) {
	c := testCatalog(t)
	at := func(s string) time.Time { return day(s).Add(9 * time.Hour) }
	prodAt := func(now time.Time) []Advisory {
		cl := prodEU()
		cl.ObservedAt = now
		return Advisories(c, []Cluster{cl}, []ClusterDrift{c.Drift(cl, DriftOptions{Now: now})}, AdvisoryOptions{Now: now})
	}
	withStep := func(to string) []Advisory {
		d := ClusterDrift{Name: "s", Version: "v1.24.17", Path: []Step{{From: "v1.24.17", To: to,
			Removals: []Note{{Version: "v1.25.0", PR: 2001, Kinds: []Kind{KindRemoval}}}}}}
		return Advisories(c, nil, []ClusterDrift{d}, AdvisoryOptions{})
	}
	withCVE := func(e CVEExposure) []Advisory {
		e.ID = "CVE-2024-9"
		return Advisories(c, nil, []ClusterDrift{{Name: "s", Version: "v1.27.4", CVEs: []CVEExposure{e}}}, AdvisoryOptions{})
	}
	down := func(now, lastGood time.Time) []Advisory {
		cl := Cluster{Name: "down", Version: "v1.27.4", Error: "refused", ObservedAt: lastGood}
		return Advisories(c, []Cluster{cl}, nil, AdvisoryOptions{Now: now})
	}
	tests := []struct {
		name     string
		a, b     []Advisory
		id       string
		wantSame bool
	}{
		{"same input twice", prodAt(at("2023-07-10")), prodAt(at("2023-07-10")), "", true},
		{"eol: same 30-day bucket, later now", prodAt(at("2023-07-05")), prodAt(at("2023-07-15")), "eol/prod-eu/1.24", true},
		{"eol: 30 → 7 days", prodAt(at("2023-07-15")), prodAt(at("2023-07-25")), "eol/prod-eu/1.24", false},
		{"eol: 7 days → passed", prodAt(at("2023-07-25")), prodAt(at("2023-07-28")), "eol/prod-eu/1.24", false},
		{"eol: 60 → 30 days", prodAt(at("2023-06-10")), prodAt(at("2023-07-01")), "eol/prod-eu/1.24", false},
		{"security: unchanged as time passes", prodAt(at("2023-06-10")), prodAt(at("2023-07-28")), "security/prod-eu/CVE-2023-1001", true},
		{"removal: a new patch of the target minor", withStep("v1.25.15"), withStep("v1.25.16"), "removal/s/pr-2001", true},
		{"removal: a different target minor", withStep("v1.25.16"), withStep("v1.26.15"), "removal/s/pr-2001", false},
		{"security: a fix in the minor becomes available",
			withCVE(CVEExposure{Status: ExposureFixedInLaterMinor, LaterFix: "v1.28.1", Score: 5}),
			withCVE(CVEExposure{Status: ExposureFixedInMinor, FixedIn: "v1.27.9", Score: 5}), "security/s/CVE-2024-9", false},
		{"security: rescored", withCVE(CVEExposure{Status: ExposureFixedInMinor, FixedIn: "v1.27.9", Score: 5}),
			withCVE(CVEExposure{Status: ExposureFixedInMinor, FixedIn: "v1.27.9", Score: 9.1}), "security/s/CVE-2024-9", false},
		{"unreachable: same outage, later now", down(at("2023-07-10"), at("2023-07-09")), down(at("2023-07-12"), at("2023-07-09")), "unreachable/down/down", true},
		{"unreachable: a new outage", down(at("2023-07-10"), at("2023-07-09")), down(at("2023-07-20"), at("2023-07-19")), "unreachable/down/down", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.id == "" {
				if len(tt.a) == 0 || !slices.EqualFunc(tt.a, tt.b, func(x, y Advisory) bool {
					return x.ID == y.ID && x.Fingerprint == y.Fingerprint && x.Title == y.Title
				}) {
					t.Fatalf("two runs differ or are empty:\n%v\n%v", tt.a, tt.b)
				}
				return
			}
			find := func(as []Advisory) Advisory {
				i := slices.IndexFunc(as, func(a Advisory) bool { return a.ID == tt.id })
				if i < 0 {
					t.Fatalf("no advisory %s in %d advisories", tt.id, len(as))
				}
				return as[i]
			}
			fa, fb := find(tt.a).Fingerprint, find(tt.b).Fingerprint
			if (fa == fb) != tt.wantSame {
				t.Errorf("fingerprints %s vs %s; want same = %v", fa[:12], fb[:12], tt.wantSame)
			}
		})
	}
}

func TestAdvisoriesSortedAndUnique(t *testing.T) {
	c := testCatalog(t)
	prod := prodEU()
	other := prodEU()
	other.Name = "a-dev"
	ds := []ClusterDrift{c.Drift(prod, DriftOptions{Now: driftNow}), c.Drift(other, DriftOptions{Now: driftNow}), c.Drift(prod, DriftOptions{Now: driftNow})}
	got := Advisories(c, nil, ds, AdvisoryOptions{Now: driftNow, PreviouslyKnown: allKnown("v1.24.17", "v1.28.0", "v1.28.2")})
	seen := map[string]bool{}
	for i, a := range got {
		if seen[a.ID] {
			t.Errorf("duplicate id %s", a.ID)
		}
		seen[a.ID] = true
		if i == 0 {
			continue
		}
		p := got[i-1]
		if p.Severity.Rank() > a.Severity.Rank() ||
			(p.Severity == a.Severity && (p.Cluster > a.Cluster || (p.Cluster == a.Cluster && p.ID > a.ID))) {
			t.Errorf("out of order: %s (%s) before %s (%s)", p.ID, p.Severity, a.ID, a.Severity)
		}
	}
	if len(got) != 2*7+1 {
		t.Errorf("%d advisories, want 15 (7 per cluster, 1 fleet-wide)", len(got))
	}
}

var updateAdvisoriesGolden = flag.Bool("update-advisories", false, "rewrite tracker/testdata/advisories/*.golden.json")

// goldenAdvisory is the part of an advisory the golden file pins: facts and
// kubedrift's own wording, never note text. Pinning fingerprints matters: a
// change to how they are computed re-posts every advisory to every channel.
type goldenAdvisory struct {
	ID          string   `json:"id"`
	Fingerprint string   `json:"fingerprint"`
	Severity    Severity `json:"severity"`
	Target      string   `json:"target,omitempty"`
	DueDate     string   `json:"due_date,omitempty"`
	Title       string   `json:"title"`
	Detail      string   `json:"detail,omitempty"`
	NotePRs     []int    `json:"note_prs,omitempty"`
	Links       []string `json:"links,omitempty"`
}

// TestAdvisoriesGolden runs a small fleet (an EKS cluster on an end-of-life
// minor, a cluster with kubelets newer than its control plane, one that has
// been unreachable for hours) through Advisories.
func TestAdvisoriesGolden(t *testing.T) {
	c := testCatalog(t)
	now := day("2023-07-20").Add(8 * time.Hour)
	edge := Cluster{Name: "edge", Version: "v1.26.15", ObservedAt: now,
		Nodes: []Node{{Name: "e1", KubeletVersion: "v1.27.4"}, {Name: "e2", KubeletVersion: "v1.27.4"}}}
	lab := Cluster{Name: "lab", Version: "v1.27.4", Error: "dial tcp 10.0.0.1:6443: connect: connection refused", ObservedAt: now.Add(-3 * time.Hour)}
	prod := prodEU()
	prod.ObservedAt = now
	clusters := []Cluster{prod, edge, lab}
	var drifts []ClusterDrift
	for _, cl := range clusters {
		drifts = append(drifts, c.Drift(cl, DriftOptions{Now: now}))
	}
	got := Advisories(c, clusters, drifts, AdvisoryOptions{Now: now, PreviouslyKnown: allKnown("v1.26.15", "v1.28.0", "v1.28.2")})
	var facts []goldenAdvisory
	for _, a := range got {
		g := goldenAdvisory{ID: a.ID, Fingerprint: a.Fingerprint, Severity: a.Severity, Target: a.Target, DueDate: a.DueDate,
			Title: a.Title, Detail: a.Detail, Links: a.Links}
		for _, n := range a.Notes {
			g.NotePRs = append(g.NotePRs, n.PR)
		}
		facts = append(facts, g)
	}
	b, err := json.MarshalIndent(facts, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, '\n')
	path := filepath.Join("testdata", "advisories", "fleet.golden.json")
	if *updateAdvisoriesGolden {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update-advisories to create it)", err)
	}
	if !bytes.Equal(b, want) {
		t.Errorf("advisories differ from %s (run with -update-advisories if intended):\n%s", path, b)
	}
}

// TestCorpusAdvisories derives advisories from real upstream facts: the
// release list and the OSV record of CVE-2022-3172 (kube-apiserver).
func TestCorpusAdvisories(t *testing.T) {
	corpus := corpusDir(t)
	tsv, err := os.ReadFile(filepath.Join(corpus, "kubernetes", "releases.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	var releases []Release
	for i, line := range strings.Split(strings.TrimSpace(string(tsv)), "\n") {
		f := strings.Split(line, "\t")
		if i == 0 || len(f) < 3 {
			continue
		}
		releases = append(releases, Release{Component: ComponentKubernetes, Version: f[0], Prerelease: f[2] == "true"})
	}
	osv, err := os.ReadFile(filepath.Join(corpus, "osv", "CVE-2022-3172.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rec struct {
		ID       string
		Affected []struct {
			Package struct{ Name string }
			Ranges  []struct{ Events []map[string]string }
		}
	}
	if err := json.Unmarshal(osv, &rec); err != nil {
		t.Fatalf("CVE-2022-3172.json: %v", err)
	}
	cv := CVE{ID: rec.ID, CVSS: &CVSS{Score: 5.1}}
	for _, a := range rec.Affected {
		p := AffectedPackage{Package: a.Package.Name}
		if a.Package.Name == "k8s.io/apiserver" {
			p.Component, p.Tracked = ComponentAPIServer, true
		}
		for _, r := range a.Ranges {
			var cur Range
			for _, ev := range r.Events {
				if v, ok := ev["introduced"]; ok {
					cur = Range{Introduced: v}
				}
				if v, ok := ev["fixed"]; ok {
					cur.Fixed = v
					p.Ranges = append(p.Ranges, cur)
				}
			}
		}
		cv.Affected = append(cv.Affected, p)
	}
	c := NewCatalog(releases, nil, []CVE{cv}, nil)
	known := map[string]bool{}
	for _, r := range releases {
		if r.Version != "v1.24.14" && r.Version != "v1.24.15" {
			known[r.Version] = true
		}
	}
	cl := Cluster{Name: "prod-eu", Version: "v1.24.3", ObservedAt: driftNow}
	got := Advisories(c, []Cluster{cl}, []ClusterDrift{c.Drift(cl, DriftOptions{Now: driftNow})}, AdvisoryOptions{Now: driftNow, PreviouslyKnown: known})
	tests := []struct{ id, title, detail string }{
		{"security/prod-eu/CVE-2022-3172", "prod-eu: CVE-2022-3172 (medium 5.1) affects v1.24.3 (kube-apiserver); fixed in v1.24.5", "Affected components: kube-apiserver."},
		{"new-release/prod-eu/v1.24.15", "prod-eu: Kubernetes v1.24.15 is out (cluster runs v1.24.3); it fixes CVE-2022-3172", "2 new patch releases of 1.24 since the last check."},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			i := slices.IndexFunc(got, func(a Advisory) bool { return a.ID == tt.id })
			if i < 0 {
				t.Fatalf("no %s among %d advisories", tt.id, len(got))
			}
			if got[i].Title != tt.title || got[i].Detail != tt.detail {
				t.Errorf("title %q, detail %q; want %q, %q", got[i].Title, got[i].Detail, tt.title, tt.detail)
			}
		})
	}
}

// BenchmarkAdvisories derives the advisories of a fleet of 1000 clusters
// (drifts computed beforehand).
func BenchmarkAdvisories(b *testing.B) {
	c := testCatalog(b)
	var clusters []Cluster
	var drifts []ClusterDrift
	for i := range 1000 {
		cl := prodEU()
		cl.Name = fmt.Sprintf("cluster-%04d", i)
		clusters = append(clusters, cl)
		drifts = append(drifts, c.Drift(cl, DriftOptions{Now: driftNow}))
	}
	known := allKnown("v1.24.17", "v1.28.2")

	for b.Loop() {
		if got := Advisories(c, clusters, drifts, AdvisoryOptions{Now: driftNow, PreviouslyKnown: known}); len(got) < 7000 {
			b.Fatalf("%d advisories", len(got))
		}
	}
}

func TestAdvisoriesSayWhatBlocks(t *testing.T) {
	psp := Note{Component: "kubernetes", Version: "v1.25.0", PR: 109798, Kinds: []Kind{KindDeprecation, KindRemoval}, CVEs: []string{}}
	d := ClusterDrift{Name: "prod", Version: "v1.24.17", Distribution: DistVanilla,
		Path: []Step{{From: "v1.24.17", To: "v1.25.16", Removals: []Note{psp}}},
		Impact: []StepVerdicts{{From: "v1.24.17", To: "v1.25.16", Verdicts: []Verdict{
			{Subject: "policy/v1beta1 PodSecurityPolicy", Status: StatusBlocker, Detail: "3 PodSecurityPolicies still exist; migrate before 1.25", SourcePR: 109798, Examples: []string{"restricted"}},
			{Subject: "dockershim", Status: StatusBlocker, Detail: "2 nodes run dockershim (docker://20.10.7); switch them before 1.24"},
			{Subject: "in-tree flocker volume plugin", Status: StatusClear, Detail: "not used", SourcePR: 111618},
		}}},
	}
	advs := stepAdvisories(d)
	var titles []string
	for _, a := range advs {
		titles = append(titles, string(a.Severity)+" "+a.Title)
	}
	for _, want := range []string{
		"high prod: 3 PodSecurityPolicies still exist; migrate before 1.25 (PR #109798)",
		"high prod: 2 nodes run dockershim (docker://20.10.7); switch them before 1.24 (dockershim)",
	} {
		if !slices.Contains(titles, want) {
			t.Errorf("missing %q in:\n%s", want, strings.Join(titles, "\n"))
		}
	}
	// Without evidence the same note is the generic, medium advisory; the
	// fingerprint differs, so gaining evidence re-posts it.
	plain := d
	plain.Impact = nil
	a0, a1 := stepAdvisories(plain)[0], advs[0]
	if a0.ID != a1.ID || a0.Fingerprint == a1.Fingerprint || a0.Severity != SeverityMedium {
		t.Errorf("with and without evidence: ids %s/%s, fingerprints equal %v, severity %s", a0.ID, a1.ID, a0.Fingerprint == a1.Fingerprint, a0.Severity)
	}
}
