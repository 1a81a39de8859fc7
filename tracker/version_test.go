package tracker

import (
	"slices"
	"strings"
	"testing"
)

func TestParseVersion(t *testing.T) {
	tests := []struct {
		in                  string
		core, suffix, dist  string
		major, minor, patch int
		pre                 bool
	}{
		{"v1.25.4", "v1.25.4", "", DistVanilla, 1, 25, 4, false},
		{"1.25.4", "v1.25.4", "", DistVanilla, 1, 25, 4, false},
		{" v1.25.4\n", "v1.25.4", "", DistVanilla, 1, 25, 4, false},
		{"v1.25.0-rc.1", "v1.25.0-rc.1", "", DistVanilla, 1, 25, 0, true},
		{"v1.25.0-alpha.0", "v1.25.0-alpha.0", "", DistVanilla, 1, 25, 0, true},
		{"v1.27.3-eks-a5565ad", "v1.27.3", "-eks-a5565ad", DistEKS, 1, 27, 3, false},
		{"v1.26.15-gke.1090000", "v1.26.15", "-gke.1090000", DistGKE, 1, 26, 15, false},
		{"v1.27.4+k3s1", "v1.27.4", "+k3s1", DistK3s, 1, 27, 4, false},
		{"v1.28.2+rke2r1", "v1.28.2", "+rke2r1", DistRKE2, 1, 28, 2, false},
		{"v1.29.1-aks.2", "v1.29.1", "-aks.2", DistAKS, 1, 29, 1, false},
		{"v1.28.6-1+openshift.4", "v1.28.6", "-1+openshift.4", DistOpenShift, 1, 28, 6, false},
		{"v1.28.6+6216ea1", "v1.28.6", "+6216ea1", DistOther, 1, 28, 6, false},
		{"v1.25.0-rc.1-eks-1", "v1.25.0-rc.1", "-eks-1", DistEKS, 1, 25, 0, true},
		{"v1.25.0-rc.1x", "v1.25.0", "-rc.1x", DistOther, 1, 25, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			v, err := ParseVersion(tt.in)
			if err != nil {
				t.Fatalf("ParseVersion(%q): %v", tt.in, err)
			}
			if v.Core() != tt.core || v.Suffix != tt.suffix || v.Distribution != tt.dist {
				t.Errorf("got core %q suffix %q dist %q, want %q %q %q", v.Core(), v.Suffix, v.Distribution, tt.core, tt.suffix, tt.dist)
			}
			if v.Major != tt.major || v.Minor != tt.minor || v.Patch != tt.patch || v.IsPrerelease() != tt.pre {
				t.Errorf("got %d.%d.%d pre=%v", v.Major, v.Minor, v.Patch, v.IsPrerelease())
			}
			if v.Raw != tt.in {
				t.Errorf("Raw = %q, want the input %q", v.Raw, tt.in)
			}
		})
	}
}

func TestParseVersionInvalid(t *testing.T) {
	for _, in := range []string{"", "v", "1.25", "v1", "latest", "v1.25.x", "v01.25.0", "v1.025.0", "v1.25.4 extra", "v1.25.4-", "v1.25.4+", "v1.25.4-é", "v1.9999999999.0", "-v1.25.0"} {
		t.Run(in, func(t *testing.T) {
			_, err := ParseVersion(in)
			if err == nil {
				t.Fatalf("ParseVersion(%q) succeeded, want an error", in)
			}
			if !strings.Contains(err.Error(), strings.TrimSpace(quote(in))) {
				t.Errorf("error %q does not quote the input", err)
			}
		})
	}
}

func quote(s string) string { return `"` + s + `"` }

func TestVersionOrdering(t *testing.T) {
	in := []string{"v1.25.0", "v1.24.17", "v1.25.0-rc.1", "v1.25.0-alpha.3", "v1.25.0-beta.0", "v1.24.3-eks-1", "v1.25.1", "v1.25.0-alpha.10", "v1.9.0"}
	want := []string{"v1.9.0", "v1.24.3-eks-1", "v1.24.17", "v1.25.0-alpha.3", "v1.25.0-alpha.10", "v1.25.0-beta.0", "v1.25.0-rc.1", "v1.25.0", "v1.25.1"}
	var vs []Version
	for _, s := range in {
		vs = append(vs, MustParseVersion(s))
	}
	slices.SortFunc(vs, Version.Compare)
	var got []string
	for _, v := range vs {
		got = append(got, v.String())
	}
	if !slices.Equal(got, want) {
		t.Errorf("order\n got %v\nwant %v", got, want)
	}
	if MustParseVersion("v1.27.3-eks-a").Compare(MustParseVersion("v1.27.3")) != 0 {
		t.Error("distribution suffix must not affect ordering")
	}
	if CompareVersionStrings("garbage", "v1.0.0") != -1 || CompareVersionStrings("v1.0.0", "garbage") != 1 {
		t.Error("invalid strings must sort first")
	}
}

func TestFinalAndUpstream(t *testing.T) {
	v := MustParseVersion("v1.25.0-rc.1")
	if got := v.Final().String(); got != "v1.25.0" {
		t.Errorf("Final = %s", got)
	}
	e := MustParseVersion("v1.27.3-eks-a5565ad")
	if got := e.Upstream().String(); got != "v1.27.3" || e.Upstream().Distribution != DistVanilla {
		t.Errorf("Upstream = %s (%s)", got, e.Upstream().Distribution)
	}
	if got := e.MinorVersion().String(); got != "1.27" {
		t.Errorf("MinorVersion = %s", got)
	}
}

func TestMinor(t *testing.T) {
	for _, tt := range []struct{ in, want string }{{"1.24", "1.24"}, {"v1.25", "1.25"}, {"v1.25.3", "1.25"}, {" 1.30 ", "1.30"}} {
		m, err := ParseMinor(tt.in)
		if err != nil || m.String() != tt.want {
			t.Errorf("ParseMinor(%q) = %v, %v; want %s", tt.in, m, err, tt.want)
		}
	}
	for _, in := range []string{"", "1", "1.x", "one.two", "1.2.3.4"} {
		if _, err := ParseMinor(in); err == nil || !strings.Contains(err.Error(), quote(in)) {
			t.Errorf("ParseMinor(%q) err = %v, want an error quoting it", in, err)
		}
	}
	m := Minor{1, 24}
	if m.Next() != (Minor{1, 25}) || m.Prev() != (Minor{1, 23}) || (Minor{1, 0}).Prev() != (Minor{1, 0}) {
		t.Error("Next/Prev arithmetic")
	}
	if (Minor{1, 28}).Sub(Minor{1, 25}) != 3 || (Minor{1, 25}).Compare(Minor{1, 28}) != -1 || (Minor{2, 0}).Compare(Minor{1, 99}) != 1 {
		t.Error("Sub/Compare")
	}
}

// FuzzParseVersion checks that parsing never panics and that the canonical form
// round-trips: parse(format(v)) == v.
func FuzzParseVersion(f *testing.F) {
	for _, s := range []string{"v1.25.4", "1.25.4", "v1.25.0-rc.1", "v1.27.3-eks-a5565ad", "v1.26.15-gke.1090000", "v1.27.4+k3s1", "v1.28.2+rke2r1", "v1.28.6-1+openshift.4", "v1.2.3-rc.1-x+y", "v0.0.0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseVersion(s)
		if err != nil {
			return
		}
		again, err := ParseVersion(v.String())
		if err != nil {
			t.Fatalf("ParseVersion(%q) ok, but its String %q does not parse: %v", s, v.String(), err)
		}
		if !again.Equal(v) || again.Distribution != v.Distribution || again.String() != v.String() {
			t.Fatalf("round trip of %q: %#v != %#v", s, again, v)
		}
		if v.Compare(again) != 0 {
			t.Fatalf("round trip changed ordering for %q", s)
		}
	})
}

func TestSummarizeNodes(t *testing.T) {
	got := SummarizeNodes([]Node{{KubeletVersion: "v1.24.3-eks-1"}, {KubeletVersion: "v1.23.9"}, {KubeletVersion: "bogus"}, {KubeletVersion: "v1.24.10"}})
	want := NodeSummary{Min: "v1.23.9", Max: "v1.24.10", Count: 4}
	if got != want {
		t.Errorf("SummarizeNodes = %+v, want %+v", got, want)
	}
	if got := SummarizeNodes(nil); got != (NodeSummary{}) {
		t.Errorf("no nodes: %+v", got)
	}
}
