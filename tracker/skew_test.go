package tracker

import (
	"slices"
	"strings"
	"testing"
)

func TestCheckSkew(t *testing.T) {
	kubelets := func(vs ...string) []Node {
		var ns []Node
		for i, v := range vs {
			ns = append(ns, Node{Name: "n" + string(rune('a'+i)), KubeletVersion: v})
		}
		return ns
	}
	proxies := func(vs ...string) []Node {
		var ns []Node
		for i, v := range vs {
			ns = append(ns, Node{Name: "p" + string(rune('a'+i)), KubeletVersion: "v1.27.1", KubeProxyVersion: v})
		}
		return ns
	}
	type want struct {
		kind  string
		nodes []string
	}
	tests := []struct {
		name  string
		cl    Cluster
		wants []want
	}{
		{"all in policy", Cluster{Version: "v1.27.3", Nodes: kubelets("v1.27.1", "v1.26.0", "v1.25.9")}, nil},
		{"kubelet same minor, newer patch", Cluster{Version: "v1.27.3", Nodes: kubelets("v1.27.5")}, nil},
		{"kubelet one minor newer", Cluster{Version: "v1.27.3", Nodes: kubelets("v1.28.0", "v1.27.0")}, []want{{SkewKubeletNewer, []string{"na"}}}},
		{"kubelet 1.24 vs apiserver 1.27: only two minors before 1.25", Cluster{Version: "v1.27.3", Nodes: kubelets("v1.24.17")}, []want{{SkewKubeletTooOld, []string{"na"}}}},
		{"kubelet 1.25 vs apiserver 1.28: three minors", Cluster{Version: "v1.28.0", Nodes: kubelets("v1.25.0")}, nil},
		{"kubelet 1.24 vs apiserver 1.26: two minors", Cluster{Version: "v1.26.1", Nodes: kubelets("v1.24.0")}, nil},
		{"kubelet 1.23 vs apiserver 1.26", Cluster{Version: "v1.26.1", Nodes: kubelets("v1.23.9")}, []want{{SkewKubeletTooOld, []string{"na"}}}},
		{"kubelet 1.25 vs apiserver 1.29: four minors", Cluster{Version: "v1.29.0", Nodes: kubelets("v1.25.3", "v1.26.0")}, []want{{SkewKubeletTooOld, []string{"na"}}}},
		{"kubelet 1.26 vs apiserver 1.29", Cluster{Version: "v1.29.0", Nodes: kubelets("v1.26.0")}, nil},
		{"managed suffixes compare on the core", Cluster{Version: "v1.27.3-eks-a5565ad", Nodes: kubelets("v1.24.9-eks-1234", "v1.25.1+k3s1")}, []want{{SkewKubeletTooOld, []string{"na"}}}},
		{"kube-proxy newer", Cluster{Version: "v1.27.3", Nodes: proxies("v1.28.1")}, []want{{SkewKubeProxyNewer, []string{"pa"}}}},
		{"kube-proxy 1.24 vs apiserver 1.27", Cluster{Version: "v1.27.3", Nodes: proxies("v1.24.0", "v1.27.0")}, []want{{SkewKubeProxyTooOld, []string{"pa"}}}},
		{"kube-proxy 1.25 vs apiserver 1.28", Cluster{Version: "v1.28.0", Nodes: []Node{{Name: "x", KubeletVersion: "v1.25.0", KubeProxyVersion: "v1.25.0"}}}, nil},
		{"kube-proxy not reported", Cluster{Version: "v1.28.0", Nodes: []Node{{Name: "x", KubeletVersion: "v1.28.0"}}}, nil},
		{"HA within one minor", Cluster{Version: "v1.27.3", ControlPlaneVersions: []string{"v1.26.9", "v1.27.3"}}, nil},
		{"HA two minors apart", Cluster{Version: "v1.27.3", ControlPlaneVersions: []string{"v1.25.9", "v1.27.3", "v1.26.1"}}, []want{{SkewControlPlaneMixed, []string{}}}},
		{"HA mixed: kubelet must not be newer than the oldest apiserver", Cluster{Version: "v1.28.0", ControlPlaneVersions: []string{"v1.27.3", "v1.28.0"}, Nodes: kubelets("v1.28.0", "v1.25.2")}, []want{{SkewKubeletNewer, []string{"na"}}}},
		{"HA mixed: too old is judged against the newest apiserver", Cluster{Version: "v1.27.0", ControlPlaneVersions: []string{"v1.26.3", "v1.27.0"}, Nodes: kubelets("v1.24.0")}, []want{{SkewKubeletTooOld, []string{"na"}}}},
		{"several kinds at once", Cluster{Version: "v1.27.3", Nodes: []Node{
			{Name: "old", KubeletVersion: "v1.23.1", KubeProxyVersion: "v1.23.1"},
			{Name: "new", KubeletVersion: "v1.28.0", KubeProxyVersion: "v1.28.0"},
		}}, []want{{SkewKubeletNewer, []string{"new"}}, {SkewKubeletTooOld, []string{"old"}}, {SkewKubeProxyNewer, []string{"new"}}, {SkewKubeProxyTooOld, []string{"old"}}}},
		{"unparsable versions are skipped", Cluster{Version: "v1.27.3", ControlPlaneVersions: []string{"garbage"}, Nodes: kubelets("not-a-version", "")}, nil},
		{"no control-plane version", Cluster{Nodes: kubelets("v1.20.0")}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CheckSkew(tt.cl)
			if got == nil {
				t.Fatal("CheckSkew returned nil; want an empty slice")
			}
			if len(got) != len(tt.wants) {
				t.Fatalf("CheckSkew = %+v; want %d violations", got, len(tt.wants))
			}
			for i, w := range tt.wants {
				if got[i].Kind != w.kind || !slices.Equal(got[i].Nodes, w.nodes) {
					t.Errorf("violation %d = %s %v; want %s %v", i, got[i].Kind, got[i].Nodes, w.kind, w.nodes)
				}
				if got[i].Detail == "" || got[i].Nodes == nil {
					t.Errorf("violation %d has no detail or nil nodes: %+v", i, got[i])
				}
			}
		})
	}
}

func TestCheckSkewDetail(t *testing.T) {
	var nodes []Node
	for i := range 7 {
		nodes = append(nodes, Node{Name: "worker-" + string(rune('0'+i)), KubeletVersion: "v1.24.1"})
	}
	got := CheckSkew(Cluster{Version: "v1.27.3", Nodes: nodes})
	if len(got) != 1 {
		t.Fatalf("CheckSkew = %+v", got)
	}
	for _, want := range []string{"7 nodes", "oldest v1.24.1", "kube-apiserver v1.27.3", "from v1.25", "worker-4 and 2 more"} {
		if !strings.Contains(got[0].Detail, want) {
			t.Errorf("detail %q lacks %q", got[0].Detail, want)
		}
	}
	if len(got[0].Nodes) != 7 {
		t.Errorf("nodes = %v; want all 7", got[0].Nodes)
	}
	mixed := CheckSkew(Cluster{ControlPlaneVersions: []string{"v1.27.3", "v1.25.0"}})
	if len(mixed) != 1 || !strings.Contains(mixed[0].Detail, "v1.25.0 and v1.27.3, 2 minors apart") {
		t.Errorf("mixed control plane = %+v", mixed)
	}
}

func TestMinNodeMinor(t *testing.T) {
	tests := []struct{ api, want string }{
		{"1.24", "1.22"}, {"1.26", "1.24"}, {"1.27", "1.25"}, {"1.28", "1.25"}, {"1.30", "1.27"}, {"1.1", "1.0"},
	}
	for _, tt := range tests {
		t.Run(tt.api, func(t *testing.T) {
			if got := minNodeMinor(mustMinor(t, tt.api)); got.String() != tt.want {
				t.Errorf("minNodeMinor(%s) = %s; want %s", tt.api, got, tt.want)
			}
		})
	}
}
