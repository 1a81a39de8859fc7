package tracker

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

var updateDriftGolden = flag.Bool("update-drift", false, "rewrite tracker/testdata/drift/*.golden.json")

var driftNow = time.Date(2023, 8, 1, 12, 0, 0, 0, time.UTC)

// prodEU is an EKS cluster on an end-of-life minor with an old node pool.
func prodEU() Cluster {
	cl := Cluster{
		Name:       "prod-eu",
		Source:     "inventory:clusters.yaml",
		Version:    "v1.24.3-eks-a5565ad",
		Labels:     map[string]string{"env": "prod"},
		ObservedAt: driftNow.Add(-time.Hour),
	}
	for i := range 12 {
		cl.Nodes = append(cl.Nodes, Node{Name: fmt.Sprintf("general-%02d", i), KubeletVersion: "v1.22.4-eks-7f7b5a1", Pool: "general"})
	}
	cl.Nodes = append(cl.Nodes, Node{Name: "edge-1", KubeletVersion: "v1.24.3-eks-a5565ad", KubeProxyVersion: "v1.24.3-eks-a5565ad"})
	return cl
}

func TestDrift(t *testing.T) {
	c := testCatalog(t)
	d := c.Drift(prodEU(), DriftOptions{Now: driftNow})
	if d.Error != "" || len(d.Warnings) != 0 {
		t.Fatalf("error %q, warnings %q", d.Error, d.Warnings)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"name", d.Name, "prod-eu"},
		{"distribution", d.Distribution, DistEKS},
		{"version", d.Version, "v1.24.3-eks-a5565ad"},
		{"nodes", d.Nodes, NodeSummary{Min: "v1.22.4-eks-7f7b5a1", Max: "v1.24.3-eks-a5565ad", Count: 13}},
		{"support status", d.Support.Status, SupportEOL},
		{"end of life", d.Support.EndOfLife, "2023-07-28"},
		{"days left", *d.Support.DaysLeft, -4},
		{"latest patch", d.LatestPatch, "v1.24.17"},
		{"latest", d.Latest, "v1.28.2"},
		{"patches behind", d.PatchesBehind, 2},
		{"minors behind", d.MinorsBehind, 4},
		{"skew", len(d.Skew), 0},
		{"path length", len(d.Path), 5},
		{"labels", d.Labels["env"], "prod"},
		{"source", d.Source, "inventory:clusters.yaml"},
	}
	for _, ck := range checks {
		t.Run(ck.name, func(t *testing.T) {
			if !reflect.DeepEqual(ck.got, ck.want) {
				t.Errorf("%s = %v; want %v", ck.name, ck.got, ck.want)
			}
		})
	}
	t.Run("cves", func(t *testing.T) {
		want := []CVEExposure{
			{ID: cveAPI, FixedIn: "v1.24.5", Components: []string{ComponentAPIServer}, Status: ExposureFixedInMinor},
			{ID: cveTwoComps, FixedIn: "v1.24.17", LaterFix: "v1.25.0", Components: []string{ComponentAPIServer, ComponentKubelet}, Status: ExposureFixedInLaterMinor},
			{ID: cveKubelet, LaterFix: "v1.26.15", Components: []string{ComponentKubelet}, Status: ExposureFixedInLaterMinor},
		}
		if len(d.CVEs) != len(want) {
			t.Fatalf("cves = %+v", d.CVEs)
		}
		for i, w := range want {
			g := d.CVEs[i]
			if g.ID != w.ID || g.FixedIn != w.FixedIn || g.LaterFix != w.LaterFix || g.Status != w.Status || !slices.Equal(g.Components, w.Components) || !g.MayBeBackported {
				t.Errorf("cve %d = %+v; want %+v (may be backported)", i, g, w)
			}
		}
	})
	t.Run("kubelets first", func(t *testing.T) {
		want := [][]string{
			nil,
			{"pool general (12 nodes) v1.22.x → at least v1.23"},
			{"pool general (12 nodes) v1.23.x → at least v1.24"},
			{"pool general (12 nodes) v1.24.x → at least v1.25", "node edge-1 v1.24.3-eks-a5565ad → at least v1.25"},
			nil,
		}
		for i, w := range want {
			if !slices.Equal(d.Path[i].KubeletsFirst, w) {
				t.Errorf("step %d kubelets first = %q; want %q", i, d.Path[i].KubeletsFirst, w)
			}
		}
	})
	checkGolden(t, "prod-eu", d)
}

// checkGolden compares the facts of a drift (note texts dropped) with
// testdata/drift/<name>.golden.json.
func checkGolden(t *testing.T, name string, d ClusterDrift) {
	t.Helper()
	for i := range d.Path {
		for _, ns := range [][]Note{d.Path[i].ActionRequired, d.Path[i].Removals, d.Path[i].Deprecations} {
			for j := range ns {
				ns[j].Text = "" // upstream prose never goes into golden files
			}
		}
	}
	got, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "drift", name+".golden.json")
	if *updateDriftGolden {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./tracker -run TestDrift -update-drift to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("drift of %s differs from %s:\n%s", name, path, got)
	}
}

func TestDriftVariants(t *testing.T) {
	c := testCatalog(t)
	tests := []struct {
		name  string
		cl    Cluster
		opt   DriftOptions
		check func(t *testing.T, d ClusterDrift)
	}{
		{"up to date", Cluster{Name: "edge", Version: "v1.28.2", Nodes: []Node{{Name: "a", KubeletVersion: "v1.28.2"}}}, DriftOptions{Now: driftNow}, func(t *testing.T, d ClusterDrift) {
			if d.PatchesBehind != 0 || d.MinorsBehind != 0 || len(d.Path) != 0 || len(d.CVEs) != 0 || d.Support.Status != SupportUnknown || d.Distribution != DistVanilla {
				t.Errorf("drift = %+v", d)
			}
		}},
		{"unreachable, nothing known", Cluster{Name: "lost", Error: "dial tcp 10.0.0.1:443: connection refused"}, DriftOptions{Now: driftNow}, func(t *testing.T, d ClusterDrift) {
			if d.Error != "dial tcp 10.0.0.1:443: connection refused" || d.Support.Status != SupportUnknown || d.Version != "" || d.Latest != "" || d.Path == nil || d.CVEs == nil || d.Skew == nil {
				t.Errorf("drift = %+v", d)
			}
		}},
		{"no version and no error", Cluster{Name: "blank"}, DriftOptions{Now: driftNow}, func(t *testing.T, d ClusterDrift) {
			if !strings.Contains(d.Error, `cluster "blank": no control-plane version`) {
				t.Errorf("error = %q", d.Error)
			}
		}},
		{"unreachable, last known state", Cluster{Name: "stale", Error: "timeout", Version: "v1.27.4"}, DriftOptions{Now: driftNow}, func(t *testing.T, d ClusterDrift) {
			if d.Error != "timeout" || d.LatestPatch != "v1.27.16" || d.PatchesBehind != 1 || len(d.Path) != 2 {
				t.Errorf("drift = %+v", d)
			}
		}},
		{"invalid control-plane version", Cluster{Name: "bad", Version: "1.x"}, DriftOptions{Now: driftNow}, func(t *testing.T, d ClusterDrift) {
			if !strings.Contains(d.Error, `cluster "bad": control-plane version: invalid Kubernetes version "1.x"`) || d.Version != "1.x" || d.Support.Status != SupportUnknown || d.Path == nil {
				t.Errorf("drift = %+v", d)
			}
		}},
		{"invalid node versions are warnings", Cluster{Name: "w", Version: "v1.27.4", Nodes: []Node{
			{Name: "w1", KubeletVersion: "banana"}, {Name: "w2", KubeletVersion: "v1.27.1", KubeProxyVersion: "v?"}, {Name: "w3", KubeletVersion: "v1.26.0"},
		}, ControlPlaneVersions: []string{"v1.27.4", "nope"}}, DriftOptions{Now: driftNow}, func(t *testing.T, d ClusterDrift) {
			want := []string{`control-plane instance: invalid Kubernetes version "nope"`, `node "w1": kubelet version: invalid Kubernetes version "banana"`, `node "w2": kube-proxy version`}
			if len(d.Warnings) != len(want) {
				t.Fatalf("warnings = %q", d.Warnings)
			}
			for i, w := range want {
				if !strings.Contains(d.Warnings[i], w) {
					t.Errorf("warning %d = %q; want %q", i, d.Warnings[i], w)
				}
			}
			if d.Error != "" || d.Nodes != (NodeSummary{Min: "v1.26.0", Max: "v1.27.1", Count: 3}) {
				t.Errorf("drift = %+v", d)
			}
		}},
		{"target minor", Cluster{Name: "t", Version: "v1.24.3"}, DriftOptions{Target: "1.26", Now: driftNow}, func(t *testing.T, d ClusterDrift) {
			if len(d.Path) != 3 || d.Path[2].To != "v1.26.15" {
				t.Errorf("path = %+v", d.Path)
			}
		}},
		{"target exact", Cluster{Name: "t", Version: "v1.24.3"}, DriftOptions{Target: "v1.25.1", Now: driftNow}, func(t *testing.T, d ClusterDrift) {
			if len(d.Path) != 2 || d.Path[1].To != "v1.25.1" {
				t.Errorf("path = %+v", d.Path)
			}
		}},
		{"target reached", Cluster{Name: "t", Version: "v1.25.1+k3s1"}, DriftOptions{Target: "v1.25.1"}, func(t *testing.T, d ClusterDrift) {
			if len(d.Path) != 0 || len(d.Warnings) != 0 || d.Distribution != DistK3s {
				t.Errorf("drift = %+v", d)
			}
		}},
		{"target older than the cluster", Cluster{Name: "t", Version: "v1.27.4"}, DriftOptions{Target: "1.25", Now: driftNow}, func(t *testing.T, d ClusterDrift) {
			if len(d.Path) != 0 || len(d.Warnings) != 1 || !strings.Contains(d.Warnings[0], "target is older") || d.Error != "" {
				t.Errorf("drift = %+v", d)
			}
		}},
		{"invalid target", Cluster{Name: "t", Version: "v1.27.4"}, DriftOptions{Target: "latest-ish"}, func(t *testing.T, d ClusterDrift) {
			if len(d.Path) != 0 || len(d.Warnings) != 1 || !strings.Contains(d.Warnings[0], `"latest-ish"`) {
				t.Errorf("drift = %+v", d)
			}
		}},
		{"newer than the catalog", Cluster{Name: "n", Version: "v1.29.0"}, DriftOptions{Now: driftNow}, func(t *testing.T, d ClusterDrift) {
			if d.MinorsBehind != 0 || d.LatestPatch != "" || d.PatchesBehind != 0 || len(d.Warnings) != 1 {
				t.Errorf("drift = %+v", d)
			}
		}},
		{"inventory distribution without suffix", Cluster{Name: "g", Distribution: DistGKE, Version: "v1.25.0"}, DriftOptions{Now: driftNow}, func(t *testing.T, d ClusterDrift) {
			if d.Distribution != DistGKE || len(d.CVEs) != 1 || !d.CVEs[0].MayBeBackported {
				t.Errorf("drift = %+v", d)
			}
		}},
		{"vanilla is not backported", Cluster{Name: "v", Version: "v1.25.0"}, DriftOptions{Now: driftNow}, func(t *testing.T, d ClusterDrift) {
			if len(d.CVEs) != 1 || d.CVEs[0].MayBeBackported {
				t.Errorf("cves = %+v", d.CVEs)
			}
		}},
		{"kube-proxy exposure", Cluster{Name: "p", Version: "v1.27.4", Nodes: []Node{{Name: "a", KubeletVersion: "v1.27.4", KubeProxyVersion: "v1.27.4"}}}, DriftOptions{Now: driftNow}, func(t *testing.T, d ClusterDrift) {
			if len(d.CVEs) != 1 || d.CVEs[0].ID != cveProxy || d.CVEs[0].Status != ExposureNoFix || !slices.Equal(d.CVEs[0].Components, []string{ComponentKubeProxy}) {
				t.Errorf("cves = %+v", d.CVEs)
			}
		}},
		{"named node moved at every minor", Cluster{Name: "m", Version: "v1.24.17", Nodes: []Node{{Name: "w", KubeletVersion: "v1.21.3"}, {Name: "ok", KubeletVersion: "v1.24.17"}}}, DriftOptions{Target: "1.27"}, func(t *testing.T, d ClusterDrift) {
			want := [][]string{{"node w v1.21.3 → at least v1.23"}, {"node w v1.23.x → at least v1.24"}, {"node w v1.24.x → at least v1.25", "node ok v1.24.17 → at least v1.25"}}
			if len(d.Path) != len(want) {
				t.Fatalf("path = %+v", d.Path)
			}
			for i, w := range want {
				if !slices.Equal(d.Path[i].KubeletsFirst, w) {
					t.Errorf("step %d kubelets first = %q; want %q", i, d.Path[i].KubeletsFirst, w)
				}
			}
		}},
		{"skew reported", Cluster{Name: "s", Version: "v1.27.4", Nodes: []Node{{Name: "old", KubeletVersion: "v1.24.9"}}}, DriftOptions{Now: driftNow}, func(t *testing.T, d ClusterDrift) {
			if len(d.Skew) != 1 || d.Skew[0].Kind != SkewKubeletTooOld {
				t.Errorf("skew = %+v", d.Skew)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.check(t, c.Drift(tt.cl, tt.opt))
		})
	}
}

// TestDriftJSONContract checks the field names DESIGN.md fixes and that lists
// are [] rather than null.
func TestDriftJSONContract(t *testing.T) {
	c := testCatalog(t)
	required := []string{"name", "distribution", "version", "nodes", "support", "latest_patch", "latest", "patches_behind", "minors_behind", "skew", "cves", "path", "error"}
	optional := []string{"warnings", "labels", "source", "observed_at"}
	skewed := prodEU()
	skewed.Nodes = append(skewed.Nodes, Node{Name: "too-new", KubeletVersion: "v1.25.0"})
	tests := []struct {
		name string
		d    ClusterDrift
	}{
		{"full", c.Drift(skewed, DriftOptions{Now: driftNow})},
		{"unreachable", c.Drift(Cluster{Name: "lost", Error: "unreachable"}, DriftOptions{Now: driftNow})},
		{"up to date", c.Drift(Cluster{Name: "ok", Version: "v1.28.2"}, DriftOptions{Now: driftNow})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.d)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]json.RawMessage
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			for _, k := range required {
				if _, ok := m[k]; !ok {
					t.Errorf("key %q missing from %s", k, b)
				}
			}
			for k := range m {
				if !slices.Contains(required, k) && !slices.Contains(optional, k) {
					t.Errorf("unexpected key %q", k)
				}
			}
			for _, k := range []string{"skew", "cves", "path"} {
				if string(m[k]) == "null" {
					t.Errorf("%s is null; want []", k)
				}
			}
			checkKeys(t, "nodes", m["nodes"], []string{"min", "max", "count"}, nil)
			checkKeys(t, "support", m["support"], []string{"status"}, []string{"end_of_life", "maintenance_start", "days_left"})
			var lists struct {
				Skew []json.RawMessage `json:"skew"`
				CVEs []json.RawMessage `json:"cves"`
				Path []json.RawMessage `json:"path"`
			}
			if err := json.Unmarshal(b, &lists); err != nil {
				t.Fatal(err)
			}
			for _, s := range lists.Skew {
				checkKeys(t, "skew[]", s, []string{"kind", "detail", "nodes"}, nil)
			}
			for _, e := range lists.CVEs {
				checkKeys(t, "cves[]", e, []string{"id", "fixed_in", "components", "status"}, []string{"later_fix", "severity", "score", "url", "may_be_backported", "affected_versions"})
			}
			for _, s := range lists.Path {
				checkKeys(t, "path[]", s, []string{"from", "to", "action_required", "removals", "deprecations", "cves_fixed"}, []string{"kubelets_first", "links"})
			}
			if tt.name == "full" && (len(lists.Skew) == 0 || len(lists.CVEs) == 0 || len(lists.Path) == 0) {
				t.Errorf("full drift lacks skew, cves or path: %s", b)
			}
		})
	}
}

// checkKeys asserts that raw is an object with every required key, only
// required or optional keys, and no null values.
func checkKeys(t *testing.T, what string, raw json.RawMessage, required, optional []string) {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Errorf("%s: %v", what, err)
		return
	}
	for _, k := range required {
		if _, ok := m[k]; !ok {
			t.Errorf("%s: key %q missing from %s", what, k, raw)
		}
	}
	for k, v := range m {
		if !slices.Contains(required, k) && !slices.Contains(optional, k) {
			t.Errorf("%s: unexpected key %q", what, k)
		}
		if string(v) == "null" {
			t.Errorf("%s: %q is null", what, k)
		}
	}
}

// TestDriftConcurrent shares one catalog between goroutines (run with -race).
func TestDriftConcurrent(t *testing.T) {
	c := testCatalog(t)
	want := c.Drift(prodEU(), DriftOptions{Now: driftNow})
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for range 8 {
		wg.Go(func() {
			for range 20 {
				if got := c.Drift(prodEU(), DriftOptions{Now: driftNow}); !reflect.DeepEqual(got, want) {
					errs <- fmt.Sprintf("concurrent drift differs: %+v", got)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// benchCatalog is a synthetic catalog of the size of upstream's: 20 minors,
// 210 releases, 700 notes, 50 CVEs.
func benchCatalog() (*Catalog, []Cluster) {
	var releases []Release
	var windows []SupportWindow
	for m := 19; m <= 38; m++ {
		for _, pre := range []string{"alpha.1", "beta.0", "rc.0"} {
			releases = append(releases, Release{Component: ComponentKubernetes, Version: fmt.Sprintf("v1.%d.0-%s", m, pre), Prerelease: true})
		}
		patches := 7
		if m < 29 {
			patches = 8
		}
		for p := range patches {
			releases = append(releases, Release{Component: ComponentKubernetes, Version: fmt.Sprintf("v1.%d.%d", m, p)})
		}
		rel := time.Date(2020, 8, 26, 0, 0, 0, 0, time.UTC).AddDate(0, 4*(m-19), 0)
		windows = append(windows, SupportWindow{Minor: fmt.Sprintf("1.%d", m), Released: rel, MaintenanceStart: rel.AddDate(1, 0, 0), EndOfLife: rel.AddDate(1, 2, 0)})
	}
	kinds := [][]Kind{{KindDeprecation}, {KindDeprecation, KindRemoval}, {KindAPIChange}, {KindBug}, {KindFeature}, {KindRemoval}, {KindCleanup}}
	var notes []Note
	for i := range 700 {
		m, p := 19+i%20, (i/20)%7
		notes = append(notes, Note{Component: ComponentKubernetes, Version: fmt.Sprintf("v1.%d.%d", m, p), Kinds: kinds[i%len(kinds)], ActionRequired: i%11 == 0, PR: 100000 + i, Text: "synthetic"})
	}
	comps := []string{ComponentAPIServer, ComponentKubelet, ComponentKubeProxy, ComponentControllerManager}
	var cves []CVE
	for i := range 50 {
		first := 19 + i%17
		var ranges []Range
		for m := first; m < first+3; m++ {
			ranges = append(ranges, Range{Introduced: fmt.Sprintf("1.%d.0", m), Fixed: fmt.Sprintf("1.%d.%d", m, 1+i%6)})
		}
		cves = append(cves, CVE{ID: fmt.Sprintf("CVE-2099-%d", 1000+i), CVSS: &CVSS{Rating: "High", Score: 7.5}, Affected: []AffectedPackage{
			{Package: "k8s.io/" + comps[i%len(comps)], Component: comps[i%len(comps)], Tracked: true, Ranges: ranges},
		}})
	}
	rng := rand.New(rand.NewPCG(1, 2))
	suffixes := []string{"", "", "-eks-a5565ad", "-gke.1090000", "+k3s1"}
	clusters := make([]Cluster, 1000)
	for i := range clusters {
		m, p := 19+rng.IntN(19), rng.IntN(7)
		sfx := suffixes[rng.IntN(len(suffixes))]
		cl := Cluster{Name: fmt.Sprintf("cluster-%04d", i), Version: fmt.Sprintf("v1.%d.%d%s", m, p, sfx)}
		for n := range 10 {
			km := max(m-rng.IntN(4), 19)
			cl.Nodes = append(cl.Nodes, Node{
				Name:             fmt.Sprintf("node-%d", n),
				Pool:             []string{"", "general", "gpu"}[n%3],
				KubeletVersion:   fmt.Sprintf("v1.%d.%d%s", km, rng.IntN(7), sfx),
				KubeProxyVersion: fmt.Sprintf("v1.%d.%d%s", km, rng.IntN(7), sfx),
			})
		}
		clusters[i] = cl
	}
	return NewCatalog(releases, notes, cves, windows), clusters
}

func TestBenchCatalogShape(t *testing.T) {
	c, clusters := benchCatalog()
	if p := c.Problems(); len(p) != 0 {
		t.Fatal(p)
	}
	n := 0
	for _, rs := range c.finals {
		n += len(rs)
	}
	if n+60 != 210 || len(c.notes) != 700 || len(c.cves) != 50 || len(clusters) != 1000 {
		t.Errorf("bench catalog: %d releases, %d notes, %d CVEs, %d clusters", n+60, len(c.notes), len(c.cves), len(clusters))
	}
	d := c.Drift(clusters[0], DriftOptions{Now: driftNow})
	if d.Error != "" || len(d.Warnings) != 0 {
		t.Errorf("bench cluster drift: %q %q", d.Error, d.Warnings)
	}
}

func BenchmarkDrift1000(b *testing.B) {
	c, clusters := benchCatalog()
	opt := DriftOptions{Now: time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)}
	b.ReportAllocs()
	for b.Loop() {
		for _, cl := range clusters {
			d := c.Drift(cl, opt)
			if d.Error != "" {
				b.Fatal(d.Error)
			}
		}
	}
}

// FuzzDrift feeds arbitrary version strings and targets to Drift: it must never
// panic, and its lists must stay non-nil.
func FuzzDrift(f *testing.F) {
	f.Add("v1.24.3-eks-a5565ad", "v1.22.4", "v1.24.3", "v1.26.0", "")
	f.Add("1.x", "", "garbage", "", "1.27")
	f.Add("v1.28.2", "v1.28.2", "", "v1.27.0", "v1.27.4")
	f.Add("v1.25.0-rc.1", "v1.0.0", "v9.9.9", "v1.24.0", "v1.28.3-rc.0")
	f.Add("v0.0.0", "v1.999999999.0", "v1.24.0+k3s1", "v1.23.0", "0.1")
	c := testCatalog(f)
	f.Fuzz(func(t *testing.T, version, kubelet, proxy, controlPlane, target string) {
		cl := Cluster{
			Name: "fuzz", Version: version,
			ControlPlaneVersions: []string{version, controlPlane},
			Nodes:                []Node{{Name: "a", KubeletVersion: kubelet, KubeProxyVersion: proxy, Pool: "p"}, {Name: "b", KubeletVersion: proxy}},
		}
		d := c.Drift(cl, DriftOptions{Target: target, Now: driftNow})
		if d.Skew == nil || d.CVEs == nil || d.Path == nil {
			t.Fatalf("nil list in %+v", d)
		}
		for _, s := range d.Path {
			if s.ActionRequired == nil || s.Removals == nil || s.Deprecations == nil || s.CVEsFixed == nil {
				t.Fatalf("nil list in step %+v", s)
			}
		}
		if _, err := json.Marshal(d); err != nil {
			t.Fatal(err)
		}
	})
}
