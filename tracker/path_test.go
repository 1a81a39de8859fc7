package tracker

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func notePRs(ns []Note) []int {
	out := []int{}
	for _, n := range ns {
		out = append(out, n.PR)
	}
	return out
}

type wantStep struct {
	from, to    string
	ar, rm, dep []int
	cves        []string
	first       []string
}

func checkSteps(t *testing.T, got []Step, want []wantStep) {
	t.Helper()
	if len(got) != len(want) {
		var tos []string
		for _, s := range got {
			tos = append(tos, s.From+"→"+s.To)
		}
		t.Fatalf("path = %v; want %d steps", tos, len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.From != w.from || g.To != w.to {
			t.Errorf("step %d = %s → %s; want %s → %s", i, g.From, g.To, w.from, w.to)
		}
		if g.ActionRequired == nil || g.Removals == nil || g.Deprecations == nil || g.CVEsFixed == nil {
			t.Errorf("step %d has nil slices: %+v", i, g)
		}
		for _, c := range []struct {
			name      string
			got, want []int
		}{{"action required", notePRs(g.ActionRequired), w.ar}, {"removals", notePRs(g.Removals), w.rm}, {"deprecations", notePRs(g.Deprecations), w.dep}} {
			if !slices.Equal(c.got, c.want) && !(len(c.got) == 0 && len(c.want) == 0) {
				t.Errorf("step %d %s = %v; want %v", i, c.name, c.got, c.want)
			}
		}
		if !slices.Equal(g.CVEsFixed, w.cves) && !(len(g.CVEsFixed) == 0 && len(w.cves) == 0) {
			t.Errorf("step %d cves fixed = %v; want %v", i, g.CVEsFixed, w.cves)
		}
		if !slices.Equal(g.KubeletsFirst, w.first) {
			t.Errorf("step %d kubelets first = %q; want %q", i, g.KubeletsFirst, w.first)
		}
		anchor := "CHANGELOG-" + strings.Join(strings.Split(strings.TrimPrefix(w.to, "v"), ".")[:2], ".") + ".md#" + strings.ReplaceAll(w.to, ".", "")
		if len(g.Links) == 0 || !strings.HasSuffix(g.Links[len(g.Links)-1], anchor) {
			t.Errorf("step %d links = %v; want the changelog anchor %s", i, g.Links, anchor)
		}
	}
}

func TestUpgradePath(t *testing.T) {
	c := testCatalog(t)
	tests := []struct {
		name     string
		from, to string
		kubelets []string
		want     []wantStep
	}{
		{"v1.24.3 to latest through each minor's latest patch", "v1.24.3", "v1.28.2", nil, []wantStep{
			{"v1.24.3", "v1.24.17", nil, nil, nil, []string{cveAPI}, nil},
			{"v1.24.17", "v1.25.16", []int{2001}, []int{2001}, []int{2002}, []string{cveTwoComps}, nil},
			{"v1.25.16", "v1.26.15", []int{3001}, nil, nil, []string{cveKubelet}, nil},
			{"v1.26.15", "v1.27.16", nil, []int{4001}, []int{4002}, nil, nil},
			{"v1.27.16", "v1.28.2", nil, nil, []int{5001}, nil, nil},
		}},
		{"already on the latest patch: no patch step", "v1.24.17", "v1.25.16", nil, []wantStep{
			{"v1.24.17", "v1.25.16", []int{2001}, []int{2001}, []int{2002}, []string{cveTwoComps}, nil},
		}},
		{"exact older patch as target", "v1.25.0", "v1.27.4", nil, []wantStep{
			{"v1.25.0", "v1.25.16", nil, nil, nil, []string{cveAPI}, nil},
			{"v1.25.16", "v1.26.15", []int{3001}, nil, nil, []string{cveKubelet}, nil},
			{"v1.26.15", "v1.27.4", nil, []int{4001}, []int{4002}, nil, nil},
		}},
		{"within a minor", "v1.27.0", "v1.27.16", nil, []wantStep{
			{"v1.27.0", "v1.27.16", nil, nil, []int{4002}, []string{cveKubelet}, nil},
		}},
		{"managed version keeps its suffix as the start", "v1.24.17-eks-a5565ad", "v1.25.16", nil, []wantStep{
			{"v1.24.17-eks-a5565ad", "v1.25.16", []int{2001}, []int{2001}, []int{2002}, []string{cveTwoComps}, nil},
		}},
		{"pre-release start", "v1.25.0-alpha.1", "v1.25.1", nil, []wantStep{
			{"v1.25.0-alpha.1", "v1.25.1", []int{2001}, []int{2001}, []int{2002}, []string{cveTwoComps}, nil},
		}},
		{"kubelets move first, re-checked at every minor", "v1.24.17", "v1.28.2", []string{"v1.22.5", "v1.22.9", "v1.24.0", "v1.23.1"}, []wantStep{
			{"v1.24.17", "v1.25.16", []int{2001}, []int{2001}, []int{2002}, []string{cveTwoComps}, []string{"2 kubelets v1.22.x → at least v1.23"}},
			{"v1.25.16", "v1.26.15", []int{3001}, nil, nil, []string{cveKubelet}, []string{"3 kubelets v1.23.x → at least v1.24"}},
			// 1.27 supports kubelets from 1.25 only: 1.24 is older than 1.25, so two minors.
			{"v1.26.15", "v1.27.16", nil, []int{4001}, []int{4002}, nil, []string{"4 kubelets v1.24.x → at least v1.25"}},
			{"v1.27.16", "v1.28.2", nil, nil, []int{5001}, nil, nil},
		}},
		{"a patch step never asks for kubelets first", "v1.27.0", "v1.28.2", []string{"v1.24.0"}, []wantStep{
			{"v1.27.0", "v1.27.16", nil, nil, []int{4002}, []string{cveKubelet}, nil},
			{"v1.27.16", "v1.28.2", nil, nil, []int{5001}, nil, []string{"1 kubelet v1.24.x → at least v1.25"}},
		}},
		{"same version", "v1.26.15", "v1.26.15", nil, nil},
		{"same core, managed suffix", "v1.26.15-gke.1090000", "v1.26.15", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ks []Version
			for _, k := range tt.kubelets {
				ks = append(ks, MustParseVersion(k))
			}
			got, err := c.UpgradePath(MustParseVersion(tt.from), MustParseVersion(tt.to), ks)
			if err != nil {
				t.Fatal(err)
			}
			if got == nil {
				t.Fatal("nil path; want an empty slice")
			}
			checkSteps(t, got, tt.want)
		})
	}
	t.Run("release link", func(t *testing.T) {
		got, err := c.UpgradePath(MustParseVersion("v1.28.0"), MustParseVersion("v1.28.2"), nil)
		if err != nil || len(got) != 1 || len(got[0].Links) != 2 || got[0].Links[0] != "https://example.test/releases/v1.28.2" {
			t.Errorf("path = %+v, %v; want the release URL first", got, err)
		}
	})
}

func TestUpgradePathErrors(t *testing.T) {
	c := testCatalog(t)
	gap := NewCatalog([]Release{{Version: "v1.25.16"}, {Version: "v1.27.4"}}, nil, nil, nil)
	tests := []struct {
		name     string
		cat      *Catalog
		from, to string
		want     string
		noRel    bool
	}{
		{"target older", c, "v1.27.4", "v1.26.15", "target is older than the current version", false},
		{"target minor missing", c, "v1.27.4", "v1.29.1", "minor 1.29 has no final release", true},
		{"target patch unknown", c, "v1.27.4", "v1.27.99", "v1.27.99 is not a known release (newest 1.27 patch is v1.27.16)", true},
		{"intermediate minor missing", gap, "v1.25.16", "v1.27.4", "minor 1.26 has no final release in the catalog and kube-apiserver upgrades cannot skip a minor", true},
		{"pre-release target", c, "v1.27.4", "v1.28.3-rc.0", "pre-releases are not upgrade targets", false},
		{"major change", c, "v1.27.4", "v2.0.0", "across major versions", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.cat.UpgradePath(MustParseVersion(tt.from), MustParseVersion(tt.to), nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v; want it to contain %q", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.from) {
				t.Errorf("err = %v; want it to name the start %s", err, tt.from)
			}
			if errors.Is(err, ErrNoRelease) != tt.noRel {
				t.Errorf("errors.Is(err, ErrNoRelease) = %v; want %v", !tt.noRel, tt.noRel)
			}
		})
	}
	if _, err := c.UpgradePath(Version{}, MustParseVersion("v1.27.4"), nil); err == nil {
		t.Error("zero start: no error")
	}
}

func TestResolveTarget(t *testing.T) {
	c := testCatalog(t)
	tests := []struct {
		target, want, err string
	}{
		{"", "v1.28.2", ""},
		{"1.27", "v1.27.16", ""},
		{"v1.27", "v1.27.16", ""},
		{" 1.25 ", "v1.25.16", ""},
		{"v1.27.4", "v1.27.4", ""},
		{"1.27.4", "v1.27.4", ""},
		{"v1.27.4-eks-1", "v1.27.4", ""},
		{"v1.27.99", "", "not a known release"},
		{"1.40", "", `"1.40": minor 1.40 has no final release`},
		{"banana", "", `invalid Kubernetes minor version "banana"`},
		{"v1.28.3-rc.0", "", "pre-releases are not upgrade targets"},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			got, err := c.ResolveTarget(tt.target)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v; want %q", err, tt.err)
				}
				return
			}
			if err != nil || got.String() != tt.want {
				t.Errorf("ResolveTarget(%q) = %s, %v; want %s", tt.target, got, err, tt.want)
			}
		})
	}
	if _, err := NewCatalog(nil, nil, nil, nil).ResolveTarget(""); !errors.Is(err, ErrNoRelease) {
		t.Errorf("empty catalog: err = %v", err)
	}
}
