package tracker

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Step is one upgrade of the control plane: to the latest patch of the current
// minor, or one minor up. The JSON field names are a contract (DESIGN.md).
type Step struct {
	From string `json:"from"`
	To   string `json:"to"`
	// ActionRequired, Removals and Deprecations are the notes of the final
	// releases after From up to and including To. A removal that is also a
	// deprecation is listed under Removals only.
	ActionRequired []Note `json:"action_required"`
	Removals       []Note `json:"removals"`
	Deprecations   []Note `json:"deprecations"`
	// CVEsFixed are the CVEs that affect From but no longer To, on any
	// control-plane or node component.
	CVEsFixed []string `json:"cves_fixed"`
	// KubeletsFirst names the nodes (or pools) whose kubelets must be upgraded
	// before this step because kube-apiserver would otherwise be too far ahead,
	// with the minimum minor they need.
	KubeletsFirst []string `json:"kubelets_first,omitempty"`
	// Links point to the upstream changelog (and release page when known) of To.
	Links []string `json:"links,omitempty"`
}

// changelogURL is where upstream publishes the changelog of each minor.
const changelogURL = "https://github.com/kubernetes/kubernetes/blob/master/CHANGELOG/CHANGELOG-%d.%d.md#%s"

// ErrNoRelease is wrapped by errors about versions or minors the catalog does
// not know.
var ErrNoRelease = errors.New("not a known release")

// ResolveTarget turns an upgrade target into a version: "" is the latest stable
// release, "1.27" the latest patch of 1.27, and a full version ("v1.27.4") is
// taken as is (suffix dropped) once it is known to the catalog.
func (c *Catalog) ResolveTarget(target string) (Version, error) {
	if strings.TrimSpace(target) == "" {
		v, ok := c.LatestStable()
		if !ok {
			return Version{}, fmt.Errorf("resolve target latest: catalog has no final release: %w", ErrNoRelease)
		}
		return v, nil
	}
	if v, err := ParseVersion(target); err == nil {
		if v.IsPrerelease() {
			return Version{}, fmt.Errorf("resolve target %q: pre-releases are not upgrade targets", target)
		}
		u := v.Upstream()
		if !c.HasRelease(u) {
			return Version{}, c.unknownVersionError(fmt.Sprintf("resolve target %q", target), u)
		}
		return u, nil
	}
	m, err := ParseMinor(target)
	if err != nil {
		return Version{}, fmt.Errorf("resolve target: %w", err)
	}
	v, ok := c.LatestPatch(m)
	if !ok {
		return Version{}, fmt.Errorf("resolve target %q: minor %s has no final release in the catalog: %w", target, m, ErrNoRelease)
	}
	return v, nil
}

func (c *Catalog) unknownVersionError(op string, v Version) error {
	if latest, ok := c.LatestPatch(v.MinorVersion()); ok {
		return fmt.Errorf("%s: %s is %w (newest %s patch is %s)", op, v.Core(), ErrNoRelease, v.MinorVersion(), latest)
	}
	return fmt.Errorf("%s: minor %s has no final release in the catalog: %w", op, v.MinorVersion(), ErrNoRelease)
}

// pathNode is a kubelet whose version constrains the path.
type pathNode struct {
	name, pool string
	minor      Minor
	shown      string // version as reported; "" once an earlier step moved it
}

// UpgradePath plans the control-plane upgrade from one version to another, one
// minor at a time, since kube-apiserver upgrades must never skip a minor
// (kubernetes.io/releases/version-skew-policy): first to the latest patch of
// the current minor when behind, then to the latest patch of each following
// minor, ending exactly at to. kubelets are the node versions; before a step
// takes kube-apiserver to minor M, the kubelets the skew policy no longer
// allows with M are named in KubeletsFirst (and then assumed moved to the
// minimum they need).
//
// from == to gives an empty path. It is an error when to is older than from,
// is a pre-release, or when to or any minor on the way has no final release
// in the catalog.
func (c *Catalog) UpgradePath(from, to Version, kubelets []Version) ([]Step, error) {
	nodes := make([]pathNode, 0, len(kubelets))
	for _, k := range kubelets {
		if k.IsZero() {
			continue
		}
		nodes = append(nodes, pathNode{minor: k.MinorVersion(), shown: k.String()})
	}
	return c.upgradePath(from, to, nodes)
}

func (c *Catalog) upgradePath(from, to Version, nodes []pathNode) ([]Step, error) {
	op := fmt.Sprintf("upgrade path from %s to %s", from, to)
	switch {
	case from.IsZero() || to.IsZero():
		return nil, fmt.Errorf("%s: both versions are required", op)
	case to.IsPrerelease():
		return nil, fmt.Errorf("%s: pre-releases are not upgrade targets", op)
	case from.Major != to.Major:
		return nil, fmt.Errorf("%s: upgrades across major versions are not planned", op)
	case coreCmp(to, from) < 0:
		return nil, fmt.Errorf("%s: target is older than the current version", op)
	case coreCmp(to, from) == 0:
		return []Step{}, nil
	}
	if !c.HasRelease(to) {
		return nil, c.unknownVersionError(op, to)
	}
	var hops []Version
	if latest, ok := c.LatestPatch(from.MinorVersion()); ok && coreCmp(latest, from) > 0 && to.MinorVersion() != from.MinorVersion() {
		hops = append(hops, latest)
	}
	for m := from.MinorVersion().Next(); m.Compare(to.MinorVersion()) < 0; m = m.Next() {
		latest, ok := c.LatestPatch(m)
		if !ok {
			return nil, fmt.Errorf("%s: minor %s has no final release in the catalog and kube-apiserver upgrades cannot skip a minor: %w", op, m, ErrNoRelease)
		}
		hops = append(hops, latest)
	}
	hops = append(hops, to.Upstream())

	nodes = slices.Clone(nodes)
	steps := make([]Step, 0, len(hops))
	prev := from
	for _, hop := range hops {
		s := c.step(prev, hop)
		if hop.MinorVersion() != prev.MinorVersion() {
			s.KubeletsFirst = kubeletsFirst(nodes, hop.MinorVersion())
		}
		steps = append(steps, s)
		prev = hop
	}
	return steps, nil
}

// step fills one step's notes, CVEs and links.
func (c *Catalog) step(from, to Version) Step {
	key := from.String() + ">" + to.String()
	if s, ok := c.steps.Load(key); ok {
		return s.(Step)
	}
	s := c.buildStep(from, to)
	// Steps are shared between the clusters that take them: clip every
	// slice so that a caller's append copies instead of writing into
	// another cluster's report.
	s.ActionRequired, s.Removals, s.Deprecations = slices.Clip(s.ActionRequired), slices.Clip(s.Removals), slices.Clip(s.Deprecations)
	s.CVEsFixed, s.Links = slices.Clip(s.CVEsFixed), slices.Clip(s.Links)
	c.steps.Store(key, s)
	return s
}

func (c *Catalog) buildStep(from, to Version) Step {
	s := Step{
		From:           from.String(),
		To:             to.String(),
		ActionRequired: []Note{},
		Removals:       []Note{},
		Deprecations:   []Note{},
		CVEsFixed:      []string{},
	}
	// Count first so that each list is allocated once at its final size: a
	// fleet report builds thousands of steps.
	crossed := c.notesBetween(from.Upstream(), to)
	var nAR, nRm, nDep int
	for _, n := range crossed {
		if n.v.IsPrerelease() {
			continue
		}
		if n.n.ActionRequired {
			nAR++
		}
		switch {
		case n.n.HasKind(KindRemoval):
			nRm++
		case n.n.HasKind(KindDeprecation):
			nDep++
		}
	}
	s.ActionRequired = make([]Note, 0, nAR)
	s.Removals = make([]Note, 0, nRm)
	s.Deprecations = make([]Note, 0, nDep)
	for _, n := range crossed {
		if n.v.IsPrerelease() {
			continue
		}
		if n.n.ActionRequired {
			s.ActionRequired = append(s.ActionRequired, n.n)
		}
		switch {
		case n.n.HasKind(KindRemoval):
			s.Removals = append(s.Removals, n.n)
		case n.n.HasKind(KindDeprecation):
			s.Deprecations = append(s.Deprecations, n.n)
		}
	}
	fromU := from.Upstream()
	for i := range c.cves {
		if c.cves[i].affectsCluster(fromU) && !c.cves[i].affectsCluster(to) {
			s.CVEsFixed = append(s.CVEsFixed, c.cves[i].cve.ID)
		}
	}
	slices.SortFunc(s.CVEsFixed, compareCVEIDs)
	if r, ok := c.release(to); ok && r.url != "" {
		s.Links = append(s.Links, r.url)
	}
	anchor := strings.ReplaceAll(to.Core(), ".", "")
	s.Links = append(s.Links, fmt.Sprintf(changelogURL, to.Major, to.Minor, anchor))
	return s
}

// affectsCluster reports whether upstream version u is affected on any
// component a cluster runs.
func (cv *catCVE) affectsCluster(u Version) bool {
	for j := range cv.pkgs {
		p := &cv.pkgs[j]
		if (slices.Contains(controlPlaneComponents, p.component) || slices.Contains(nodeComponents, p.component)) && p.affects(u) {
			return true
		}
	}
	return false
}

// kubeletsFirst names the kubelets that kube-apiserver at minor api no longer
// supports, grouped by pool (and by minor within a pool), and records them as
// moved to the minimum minor they need.
func kubeletsFirst(nodes []pathNode, api Minor) []string {
	need := minNodeMinor(api)
	type key struct {
		pool  string
		node  int // index of an unpooled, named node; -1 otherwise
		minor Minor
	}
	type group struct {
		key
		count int
		shown string
		name  string
	}
	var groups []group
	for i := range nodes {
		n := &nodes[i]
		if n.minor.Compare(api) > 0 || nodeSkewOK(n.minor, api) {
			continue
		}
		k := key{pool: n.pool, node: -1, minor: n.minor}
		if n.pool == "" && n.name != "" {
			k.node = i
		}
		// Groups are few (pools × minors), so a linear search beats a map.
		j := -1
		for gi := range groups {
			if groups[gi].key == k {
				j = gi
				break
			}
		}
		if j < 0 {
			groups = append(groups, group{key: k, shown: n.shown, name: n.name})
			j = len(groups) - 1
		}
		groups[j].count++
		n.minor, n.shown = need, ""
	}
	if len(groups) == 0 {
		return nil
	}
	// Plain concatenation: this runs for every node group of every step of
	// every cluster in a fleet report.
	atLeast := " → at least v" + need.String()
	out := make([]string, 0, len(groups))
	for _, g := range groups {
		minor := "v" + g.minor.String() + ".x"
		switch {
		case g.pool != "":
			out = append(out, "pool "+g.pool+" ("+countNodes(g.count)+") "+minor+atLeast)
		case g.node >= 0:
			shown := g.shown
			if shown == "" { // moved by an earlier step: only the minor is known
				shown = minor
			}
			out = append(out, "node "+g.name+" "+shown+atLeast)
		default:
			noun := " kubelets "
			if g.count == 1 {
				noun = " kubelet "
			}
			out = append(out, strconv.Itoa(g.count)+noun+minor+atLeast)
		}
	}
	return out
}
