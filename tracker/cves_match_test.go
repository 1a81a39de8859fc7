package tracker

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestCVEsAffecting(t *testing.T) {
	c := testCatalog(t)
	type exp struct {
		id, status, fixedIn, laterFix string
		components                    []string
	}
	tests := []struct {
		name       string
		version    string
		components []string
		want       []exp
		backported bool
	}{
		{"apiserver fixed in minor", "v1.24.3", controlPlaneComponents, []exp{
			{cveAPI, ExposureFixedInMinor, "v1.24.5", "", []string{ComponentAPIServer}},
			{cveTwoComps, ExposureFixedInMinor, "v1.24.17", "", []string{ComponentAPIServer}},
		}, false},
		{"fix version itself is not affected", "v1.24.5", controlPlaneComponents, []exp{
			{cveTwoComps, ExposureFixedInMinor, "v1.24.17", "", []string{ComponentAPIServer}},
		}, false},
		{"introduced bound is inclusive", "v1.25.0", controlPlaneComponents, []exp{
			{cveAPI, ExposureFixedInMinor, "v1.25.1", "", []string{ComponentAPIServer}},
		}, false},
		{"open start: fixed only in a later minor", "v1.22.9", controlPlaneComponents, []exp{
			{cveAPI, ExposureFixedInLaterMinor, "", "v1.23.12", []string{ComponentAPIServer}},
			{cveTwoComps, ExposureFixedInLaterMinor, "", "v1.24.17", []string{ComponentAPIServer}},
		}, false},
		{"kubelet fixed in a later minor", "v1.25.16", []string{ComponentKubelet}, []exp{
			{cveKubelet, ExposureFixedInLaterMinor, "", "v1.26.15", []string{ComponentKubelet}},
		}, false},
		{"kubelet fixed in minor", "v1.27.1", []string{ComponentKubelet}, []exp{
			{cveKubelet, ExposureFixedInMinor, "v1.27.4", "", []string{ComponentKubelet}},
		}, false},
		{"two components of one CVE merge", "v1.24.3", []string{ComponentAPIServer, ComponentKubelet}, []exp{
			{cveAPI, ExposureFixedInMinor, "v1.24.5", "", []string{ComponentAPIServer}},
			{cveTwoComps, ExposureFixedInLaterMinor, "v1.24.17", "v1.25.0", []string{ComponentAPIServer, ComponentKubelet}},
			{cveKubelet, ExposureFixedInLaterMinor, "", "v1.26.15", []string{ComponentKubelet}},
		}, false},
		{"no fix", "v1.28.2", []string{ComponentKubeProxy}, []exp{
			{cveProxy, ExposureNoFix, "", "", []string{ComponentKubeProxy}},
		}, false},
		{"other component's CVEs do not match", "v1.28.2", controlPlaneComponents, nil, false},
		{"untracked packages are skipped", "v1.28.2", []string{ComponentKubelet, ComponentKubeProxy, "ingress-nginx", ""}, []exp{
			{cveProxy, ExposureNoFix, "", "", []string{ComponentKubeProxy}},
		}, false},
		{"managed distribution may be backported", "v1.24.3-eks-a5565ad", []string{ComponentAPIServer}, []exp{
			{cveAPI, ExposureFixedInMinor, "v1.24.5", "", []string{ComponentAPIServer}},
			{cveTwoComps, ExposureFixedInMinor, "v1.24.17", "", []string{ComponentAPIServer}},
		}, true},
		{"k3s suffix", "v1.27.0+k3s1", []string{ComponentKubeProxy}, []exp{
			{cveProxy, ExposureNoFix, "", "", []string{ComponentKubeProxy}},
		}, true},
		// v1.24.0-rc.1 sorts before 1.24.0, where CVE-2023-1001 was introduced.
		{"pre-release before the range", "v1.24.0-rc.1", []string{ComponentAPIServer}, []exp{
			{cveTwoComps, ExposureFixedInMinor, "v1.24.17", "", []string{ComponentAPIServer}},
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.CVEsAffecting(MustParseVersion(tt.version), tt.components)
			if got == nil {
				t.Fatal("nil result; want an empty slice")
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %+v; want %d exposures", got, len(tt.want))
			}
			for i, w := range tt.want {
				g := got[i]
				if g.ID != w.id || g.Status != w.status || g.FixedIn != w.fixedIn || g.LaterFix != w.laterFix || !slices.Equal(g.Components, w.components) {
					t.Errorf("exposure %d = %+v; want %+v", i, g, w)
				}
				if g.MayBeBackported != tt.backported {
					t.Errorf("exposure %d MayBeBackported = %v; want %v", i, g.MayBeBackported, tt.backported)
				}
			}
		})
	}
	t.Run("severity and url", func(t *testing.T) {
		got := c.CVEsAffecting(MustParseVersion("v1.25.0"), controlPlaneComponents)
		if len(got) != 1 || got[0].Severity != "Medium" || got[0].Score != 6.5 || got[0].URL != "https://example.test/cve/1001" {
			t.Errorf("got %+v", got)
		}
	})
	t.Run("zero version", func(t *testing.T) {
		if got := c.CVEsAffecting(Version{}, controlPlaneComponents); got == nil || len(got) != 0 {
			t.Errorf("got %+v; want []", got)
		}
	})
}

// TestCVEsAffectingRegression covers a fix that a later patch undid: the first
// fix is no fix for versions before it, since the next fix is the one to take.
func TestCVEsAffectingRegression(t *testing.T) {
	c := NewCatalog(nil, nil, []CVE{{ID: "CVE-2024-7", Affected: []AffectedPackage{{
		Package: "k8s.io/kubelet", Component: ComponentKubelet, Tracked: true,
		Ranges: []Range{{"1.26.0", "1.26.2"}, {"1.26.2", "1.26.9"}, {"1.28.0", "1.28.1"}, {"1.28.1", ""}},
	}}}}, nil)
	tests := []struct{ version, status, fixedIn string }{
		{"v1.26.1", ExposureFixedInMinor, "v1.26.9"},
		{"v1.26.5", ExposureFixedInMinor, "v1.26.9"},
		{"v1.28.0", ExposureNoFix, ""},
		{"v1.28.3", ExposureNoFix, ""},
	}
	for _, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			got := c.CVEsAffecting(MustParseVersion(tt.version), nodeComponents)
			if len(got) != 1 || got[0].Status != tt.status || got[0].FixedIn != tt.fixedIn {
				t.Errorf("got %+v; want %s %q", got, tt.status, tt.fixedIn)
			}
		})
	}
}

func TestMergeExposures(t *testing.T) {
	a := []CVEExposure{
		{ID: "CVE-2023-9", Status: ExposureFixedInMinor, FixedIn: "v1.25.10", Components: []string{ComponentAPIServer}},
		{ID: "CVE-2022-25749", Status: ExposureFixedInMinor, FixedIn: "v1.27.1", Components: []string{ComponentAPIServer}},
	}
	b := []CVEExposure{
		{ID: "CVE-2023-9", Status: ExposureFixedInMinor, FixedIn: "v1.27.4", Components: []string{ComponentKubelet}},
		{ID: "CVE-2022-3172", Status: ExposureNoFix, Components: []string{ComponentKubelet}},
		{ID: "CVE-2022-25749", Status: ExposureNoFix, Components: []string{ComponentKubelet}},
	}
	got := mergeExposures(a, b)
	wantIDs := []string{"CVE-2022-3172", "CVE-2022-25749", "CVE-2023-9"}
	var ids []string
	for _, e := range got {
		ids = append(ids, e.ID)
	}
	if !slices.Equal(ids, wantIDs) {
		t.Fatalf("ids = %v; want %v", ids, wantIDs)
	}
	if e := got[2]; e.FixedIn != "v1.27.4" || e.Status != ExposureFixedInMinor || !slices.Equal(e.Components, []string{ComponentAPIServer, ComponentKubelet}) {
		t.Errorf("merged = %+v; want the higher fix and both components", e)
	}
	if e := got[1]; e.Status != ExposureNoFix || e.FixedIn != "" {
		t.Errorf("merged = %+v; want no-fix to win and clear the fix", e)
	}
	if len(a[0].Components) != 1 {
		t.Error("merge modified its input")
	}
	if got := mergeExposures(nil, nil); got == nil {
		t.Error("merge of nothing is nil; want []")
	}
}

// TestCorpusOSV matches real OSV records: the affected ranges of
// CVE-2022-3172 (kube-apiserver) as published.
func TestCorpusOSV(t *testing.T) {
	corpus := corpusDir(t)
	b, err := os.ReadFile(filepath.Join(corpus, "osv", "CVE-2022-3172.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rec struct {
		ID       string
		Affected []struct {
			Package struct{ Name string }
			Ranges  []struct {
				Events []map[string]string
			}
		}
	}
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatal(err)
	}
	cv := CVE{ID: rec.ID}
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
	c := NewCatalog(nil, nil, []CVE{cv}, nil)
	tests := []struct{ version, status, fixedIn, laterFix string }{
		{"v1.24.3", ExposureFixedInMinor, "v1.24.5", ""},
		{"v1.25.0", ExposureFixedInMinor, "v1.25.1", ""},
		{"v1.20.5", ExposureFixedInLaterMinor, "", "v1.21.14"},
		{"v1.24.5", "", "", ""},
		{"v1.26.0", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			got := c.CVEsAffecting(MustParseVersion(tt.version), controlPlaneComponents)
			if tt.status == "" {
				if len(got) != 0 {
					t.Errorf("got %+v; want not affected", got)
				}
				return
			}
			if len(got) != 1 || got[0].ID != "CVE-2022-3172" || got[0].Status != tt.status || got[0].FixedIn != tt.fixedIn || got[0].LaterFix != tt.laterFix {
				t.Errorf("got %+v; want %s %q %q", got, tt.status, tt.fixedIn, tt.laterFix)
			}
		})
	}
}

func TestCVEsAffectingWholeRelease(t *testing.T) {
	cat := NewCatalog(nil, nil, []CVE{{
		ID: "CVE-2099-0007",
		Affected: []AffectedPackage{{Package: "k8s.io/kubernetes", Component: ComponentKubernetes, Tracked: true,
			Ranges: []Range{{Introduced: "v1.24.0", Fixed: "v1.24.9"}}}},
	}}, nil)
	for _, comps := range [][]string{{ComponentKubelet}, {ComponentAPIServer}} {
		got := cat.CVEsAffecting(MustParseVersion("v1.24.3"), comps)
		if len(got) != 1 || got[0].FixedIn != "v1.24.9" || got[0].Components[0] != ComponentKubernetes {
			t.Errorf("components %v: got %+v, want the whole-release CVE fixed in v1.24.9", comps, got)
		}
	}
	if got := cat.CVEsAffecting(MustParseVersion("v1.24.9"), []string{ComponentKubelet}); len(got) != 0 {
		t.Errorf("fixed version still affected: %+v", got)
	}
}
