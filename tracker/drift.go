package tracker

import (
	"fmt"
	"time"
)

// DriftOptions tunes Drift.
type DriftOptions struct {
	// Target is the upgrade target: "" for the latest stable release, a minor
	// ("1.27": its latest patch) or a full version ("v1.27.4").
	Target string
	// Now is the moment support windows are judged at; a zero Now gives the
	// status "unknown".
	Now time.Time
}

// NodeSummary condenses a cluster's kubelet versions.
type NodeSummary struct {
	Min   string `json:"min"`
	Max   string `json:"max"`
	Count int    `json:"count"`
}

// ClusterDrift is how far one cluster is behind upstream. The JSON field names
// are a contract (DESIGN.md); slices always marshal as [] rather than null.
type ClusterDrift struct {
	Name         string `json:"name"`
	Distribution string `json:"distribution"`
	// Version is the control-plane version as reported (canonical form, suffix
	// kept).
	Version       string          `json:"version"`
	Nodes         NodeSummary     `json:"nodes"`
	Support       Support         `json:"support"`
	LatestPatch   string          `json:"latest_patch"`
	Latest        string          `json:"latest"`
	PatchesBehind int             `json:"patches_behind"`
	MinorsBehind  int             `json:"minors_behind"`
	Skew          []SkewViolation `json:"skew"`
	CVEs          []CVEExposure   `json:"cves"`
	Path          []Step          `json:"path"`
	// Error says why the cluster could not be assessed (unreadable, or its
	// version does not parse); "" otherwise.
	Error string `json:"error"`
	// Warnings are problems that leave the rest of the report valid: node
	// versions that do not parse, an upgrade path that cannot be planned.
	Warnings []string `json:"warnings,omitempty"`
	// Impact holds, per upgrade step, whether each removal ahead is in use
	// on this cluster (blocker), checked and unused (clear), or could not be
	// checked (unknown). Set by the caller, which gathers the evidence.
	Impact     []StepVerdicts    `json:"impact,omitempty"`
	Labels     map[string]string `json:"labels,omitempty"`
	Source     string            `json:"source,omitempty"`
	ObservedAt time.Time         `json:"observed_at,omitzero"`
}

// Drift assesses one cluster against the catalog: patch and minor lag, support
// status, skew violations, CVE exposure of the control plane and of the oldest
// node components, and the upgrade path to opt.Target. It never fails: a
// cluster that could not be read, or whose version does not parse, comes back
// with Error set, and problems with single nodes or the path are Warnings.
//
// Managed distributions are compared on the upstream core; their CVE matches
// are flagged MayBeBackported because providers patch their own builds.
func (c *Catalog) Drift(cl Cluster, opt DriftOptions) ClusterDrift {
	d := ClusterDrift{
		Name:         cl.Name,
		Distribution: cl.Distribution,
		Version:      cl.Version,
		Support:      Support{Status: SupportUnknown},
		Skew:         []SkewViolation{},
		CVEs:         []CVEExposure{},
		Path:         []Step{},
		Error:        cl.Error,
		Labels:       cl.Labels,
		Source:       cl.Source,
		ObservedAt:   cl.ObservedAt,
	}
	d.Nodes.Count = len(cl.Nodes)
	if cl.Version == "" {
		if d.Error == "" {
			d.Error = fmt.Sprintf("cluster %q: no control-plane version reported", cl.Name)
		}
		return d
	}
	v, err := ParseVersion(cl.Version)
	if err != nil {
		d.Error = joinError(d.Error, fmt.Sprintf("cluster %q: control-plane version: %v", cl.Name, err))
		return d
	}
	d.Version = v.String()
	if d.Distribution == "" {
		d.Distribution = v.Distribution
	}
	managed := d.Distribution != DistVanilla || v.Distribution != DistVanilla

	for _, s := range cl.ControlPlaneVersions {
		if _, err := ParseVersion(s); err != nil {
			d.Warnings = append(d.Warnings, fmt.Sprintf("control-plane instance: %v", err))
		}
	}

	// Nodes: summary, and the oldest kubelet and kube-proxy for CVE matching.
	var minK, maxK, minP Version
	nodes := make([]pathNode, 0, len(cl.Nodes))
	for _, n := range cl.Nodes {
		k, err := ParseVersion(n.KubeletVersion)
		if err != nil {
			d.Warnings = append(d.Warnings, fmt.Sprintf("node %q: kubelet version: %v", n.Name, err))
		} else {
			if minK.IsZero() || coreCmp(k, minK) < 0 {
				minK = k
			}
			if maxK.IsZero() || coreCmp(k, maxK) > 0 {
				maxK = k
			}
			nodes = append(nodes, pathNode{name: nodeLabel(n), pool: n.Pool, minor: k.MinorVersion(), shown: k.String()})
		}
		if n.KubeProxyVersion == "" {
			continue // not every kubelet reports kube-proxy; never guess it
		}
		p, err := ParseVersion(n.KubeProxyVersion)
		if err != nil {
			d.Warnings = append(d.Warnings, fmt.Sprintf("node %q: kube-proxy version: %v", n.Name, err))
			continue
		}
		if minP.IsZero() || coreCmp(p, minP) < 0 {
			minP = p
		}
	}
	if !minK.IsZero() {
		d.Nodes.Min, d.Nodes.Max = minK.String(), maxK.String()
	}

	d.Support = c.Support(v.MinorVersion(), opt.Now)
	if lp, ok := c.LatestPatch(v.MinorVersion()); ok {
		d.LatestPatch = lp.String()
	}
	d.PatchesBehind = c.patchesAfter(v)
	if latest, ok := c.LatestStable(); ok {
		d.Latest = latest.String()
		d.MinorsBehind = max(latest.MinorVersion().Sub(v.MinorVersion()), 0)
	}
	d.Skew = CheckSkew(cl)

	cves := c.CVEsAffecting(v, controlPlaneComponents)
	if !minK.IsZero() {
		cves = mergeExposures(cves, c.CVEsAffecting(minK, []string{ComponentKubelet}))
	}
	if !minP.IsZero() {
		cves = mergeExposures(cves, c.CVEsAffecting(minP, []string{ComponentKubeProxy}))
	}
	if managed {
		for i := range cves {
			cves[i].MayBeBackported = true
		}
	}
	d.CVEs = cves

	target, err := c.ResolveTarget(opt.Target)
	if err != nil {
		d.Warnings = append(d.Warnings, err.Error())
		return d
	}
	if coreCmp(target, v) == 0 {
		return d
	}
	path, err := c.upgradePath(v, target, nodes)
	if err != nil {
		d.Warnings = append(d.Warnings, err.Error())
		return d
	}
	d.Path = path
	return d
}

func joinError(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}
