package tracker

import "time"

// Components kubedrift tracks on a cluster. CVEs name affected components;
// those outside this set are kept but marked untracked.
const (
	ComponentAPIServer         = "kube-apiserver"
	ComponentControllerManager = "kube-controller-manager"
	ComponentScheduler         = "kube-scheduler"
	ComponentKubelet           = "kubelet"
	ComponentKubeProxy         = "kube-proxy"
	ComponentKubectl           = "kubectl"
)

// CVE is an official advisory with affected ranges and fixes per component.
type CVE struct {
	ID        string    `json:"id"`
	Summary   string    `json:"summary,omitempty"`
	URL       string    `json:"url,omitempty"`
	Published time.Time `json:"published,omitzero"`
	Modified  time.Time `json:"modified,omitzero"`
	CVSS      *CVSS     `json:"cvss,omitempty"`
	// Details is upstream prose: untrusted, never committed to the snapshot.
	Details  string            `json:"details,omitempty"`
	Affected []AffectedPackage `json:"affected"`
	Sources  []string          `json:"sources,omitempty"`
}

// AffectedPackage is one upstream package (Go module path or component name)
// with the version ranges it is vulnerable in.
type AffectedPackage struct {
	// Package is the name in the source ("k8s.io/apiserver").
	Package string `json:"package"`
	// Component is the cluster component it maps to ("kube-apiserver"), or "".
	Component string `json:"component,omitempty"`
	// Tracked is false for components kubedrift does not read from clusters.
	Tracked bool    `json:"tracked"`
	Ranges  []Range `json:"ranges"`
}

// Range is a half-open affected interval [Introduced, Fixed). Introduced "0"
// or "" means from the beginning; Fixed "" means no fix.
type Range struct {
	Introduced string `json:"introduced,omitempty"`
	Fixed      string `json:"fixed,omitempty"`
}

// SupportWindow is a minor's life cycle from the upstream release schedule.
type SupportWindow struct {
	Minor            string    `json:"minor"`
	Released         time.Time `json:"released,omitzero"`
	MaintenanceStart time.Time `json:"maintenance_start,omitzero"`
	EndOfLife        time.Time `json:"end_of_life,omitzero"`
}
