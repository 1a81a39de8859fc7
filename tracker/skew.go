package tracker

import (
	"fmt"
	"strings"
)

// Skew violation kinds (kubernetes.io/releases/version-skew-policy).
const (
	SkewKubeletNewer      = "kubelet-newer-than-apiserver"
	SkewKubeletTooOld     = "kubelet-too-old"
	SkewKubeProxyNewer    = "kube-proxy-newer-than-apiserver"
	SkewKubeProxyTooOld   = "kube-proxy-too-old"
	SkewControlPlaneMixed = "control-plane-mixed-minors"
)

const (
	// maxSkewNamesInDetail keeps Detail readable on clusters with thousands
	// of nodes; Nodes still lists them all.
	maxSkewNamesInDetail = 5
	// skewThreeMinorsFrom: from 1.25 on, kubelet and kube-proxy may trail
	// kube-apiserver by three minors instead of two.
	skewThreeMinorsFrom = 25
)

// SkewViolation is one broken rule of the version skew policy, with the nodes
// that break it. The JSON field names are a contract (DESIGN.md).
type SkewViolation struct {
	Kind   string `json:"kind"`
	Detail string `json:"detail"`
	// Nodes names every offending node; Detail gives the count and the first
	// few names, so it stays readable for large clusters.
	Nodes []string `json:"nodes"`
}

// nodeSkewAllowed is the number of minors a kubelet or kube-proxy at minor
// node may trail kube-apiserver: three, or two when the node component is
// older than 1.25 (kubernetes.io/releases/version-skew-policy).
func nodeSkewAllowed(node Minor) int {
	if node.Major == 1 && node.Minor < skewThreeMinorsFrom {
		return 2
	}
	return 3
}

// nodeSkewOK reports whether a kubelet or kube-proxy at minor node may run
// with kube-apiserver at minor api: not newer, and not more than the allowed
// number of minors older.
func nodeSkewOK(node, api Minor) bool {
	if node.Compare(api) > 0 {
		return false
	}
	return api.Sub(node) <= nodeSkewAllowed(node)
}

// minNodeMinor is the oldest kubelet/kube-proxy minor that kube-apiserver at
// minor api supports: api-3, unless that minor is older than 1.25, in which
// case api-2.
func minNodeMinor(api Minor) Minor {
	m := Minor{api.Major, api.Minor - 3}
	if m.Minor < 0 || !nodeSkewOK(m, api) {
		m = Minor{api.Major, max(api.Minor-2, 0)}
	}
	return m
}

// CheckSkew applies the version skew policy
// (kubernetes.io/releases/version-skew-policy) to a cluster:
//   - HA kube-apiserver instances (Cluster.ControlPlaneVersions, else Version)
//     must be within one minor of each other;
//   - kubelet and kube-proxy must not be newer than the oldest kube-apiserver
//     and may trail the newest by three minors (two when they are older than
//     1.25).
//
// Versions that do not parse cannot be judged and are skipped here; Drift
// reports them. One violation is returned per kind, listing all its nodes.
// The result is never nil.
func CheckSkew(cl Cluster) []SkewViolation {
	out := []SkewViolation{}
	apis := controlPlaneVersions(cl)
	if len(apis) == 0 {
		return out
	}
	lo, hi := apis[0], apis[0]
	for _, v := range apis[1:] {
		if v.MinorVersion().Compare(lo.MinorVersion()) < 0 {
			lo = v
		}
		if v.MinorVersion().Compare(hi.MinorVersion()) > 0 {
			hi = v
		}
	}
	if hi.MinorVersion().Sub(lo.MinorVersion()) > 1 {
		out = append(out, SkewViolation{
			Kind: SkewControlPlaneMixed,
			Detail: fmt.Sprintf("kube-apiserver instances run %s and %s, %d minors apart; HA kube-apiservers must be within one minor",
				lo, hi, hi.MinorVersion().Sub(lo.MinorVersion())),
			Nodes: []string{},
		})
	}
	type component struct {
		name         string
		newer, older string
		version      func(Node) string
	}
	for _, comp := range []component{
		{ComponentKubelet, SkewKubeletNewer, SkewKubeletTooOld, func(n Node) string { return n.KubeletVersion }},
		{ComponentKubeProxy, SkewKubeProxyNewer, SkewKubeProxyTooOld, func(n Node) string { return n.KubeProxyVersion }},
	} {
		var newer, older []string
		var newest, oldest Version
		for _, n := range cl.Nodes {
			s := comp.version(n)
			if s == "" {
				continue
			}
			v, err := ParseVersion(s)
			if err != nil {
				continue
			}
			nm := v.MinorVersion()
			switch {
			case nm.Compare(lo.MinorVersion()) > 0:
				newer = append(newer, nodeLabel(n))
				if newest.IsZero() || coreCmp(v, newest) > 0 {
					newest = v
				}
			case !nodeSkewOK(nm, hi.MinorVersion()):
				older = append(older, nodeLabel(n))
				if oldest.IsZero() || coreCmp(v, oldest) < 0 {
					oldest = v
				}
			}
		}
		if len(newer) > 0 {
			out = append(out, SkewViolation{
				Kind: comp.newer,
				Detail: fmt.Sprintf("%s on %s (newest %s) is newer than kube-apiserver %s; it must not be newer: %s",
					comp.name, countNodes(len(newer)), newest, lo, nameSample(newer)),
				Nodes: newer,
			})
		}
		if len(older) > 0 {
			min := minNodeMinor(hi.MinorVersion())
			out = append(out, SkewViolation{
				Kind: comp.older,
				Detail: fmt.Sprintf("%s on %s (oldest %s) is too old for kube-apiserver %s, which supports %s from v%s (three minors back, two for versions before 1.25): %s",
					comp.name, countNodes(len(older)), oldest, hi, comp.name, min, nameSample(older)),
				Nodes: older,
			})
		}
	}
	return out
}

// controlPlaneVersions parses the kube-apiserver versions of a cluster,
// skipping those that do not parse.
func controlPlaneVersions(cl Cluster) []Version {
	raw := cl.ControlPlaneVersions
	if len(raw) == 0 && cl.Version != "" {
		raw = []string{cl.Version}
	}
	var out []Version
	for _, s := range raw {
		if v, err := ParseVersion(s); err == nil {
			out = append(out, v)
		}
	}
	return out
}

func nodeLabel(n Node) string {
	if n.Name != "" {
		return n.Name
	}
	return "(unnamed node)"
}

func countNodes(n int) string {
	if n == 1 {
		return "1 node"
	}
	return fmt.Sprintf("%d nodes", n)
}

func nameSample(names []string) string {
	if len(names) <= maxSkewNamesInDetail {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:maxSkewNamesInDetail], ", "), len(names)-maxSkewNamesInDetail)
}
