package tracker

import "time"

// Cluster is what kubedrift knows of one cluster at one observation.
type Cluster struct {
	Name string `json:"name"`
	// Source says where the observation came from: "kubeconfig:<context>" or
	// "inventory:<file>".
	Source string `json:"source"`
	// Distribution is detected from the version strings unless the inventory
	// states it.
	Distribution string `json:"distribution"`
	// Version is the control-plane (kube-apiserver) version as reported.
	Version string `json:"version"`
	// ControlPlaneVersions lists every apiserver version seen (HA control planes
	// may be mid-upgrade); empty when only Version is known.
	ControlPlaneVersions []string          `json:"control_plane_versions,omitempty"`
	Nodes                []Node            `json:"nodes,omitempty"`
	Labels               map[string]string `json:"labels,omitempty"`
	ObservedAt           time.Time         `json:"observed_at,omitzero"`
	// Error is set when the cluster could not be read; the other fields then
	// hold the last known state, if any.
	Error string `json:"error,omitempty"`
}

// Node is one node's reported component versions.
type Node struct {
	Name             string `json:"name"`
	KubeletVersion   string `json:"kubelet_version"`
	KubeProxyVersion string `json:"kube_proxy_version,omitempty"`
	ContainerRuntime string `json:"container_runtime,omitempty"`
	// Pool groups nodes for reporting (node pool / node group label), or "".
	Pool string `json:"pool,omitempty"`
}

// SummarizeNodes condenses kubelet versions to oldest, newest and count, by
// upstream core. Versions that do not parse are counted but not compared.
func SummarizeNodes(nodes []Node) NodeSummary {
	s := NodeSummary{Count: len(nodes)}
	var lo, hi Version
	for _, n := range nodes {
		v, err := ParseVersion(n.KubeletVersion)
		if err != nil {
			continue
		}
		if lo.IsZero() || v.Compare(lo) < 0 {
			lo = v
		}
		if hi.IsZero() || v.Compare(hi) > 0 {
			hi = v
		}
	}
	if !lo.IsZero() {
		s.Min, s.Max = lo.String(), hi.String()
	}
	return s
}
