package tracker

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// Exposure statuses of a CVE for a version.
const (
	// ExposureFixedInMinor: a patch release of the same minor fixes it.
	ExposureFixedInMinor = "fixed-in-minor"
	// ExposureFixedInLaterMinor: only a later minor carries the fix.
	ExposureFixedInLaterMinor = "fixed-in-later-minor"
	// ExposureNoFix: no released version fixes it (yet).
	ExposureNoFix = "no-fix"
)

// The components that run at a cluster's control-plane version, and those that
// run on nodes; CVEs are matched against them. Unexported so no caller can
// change what every report matches.
var (
	controlPlaneComponents = []string{ComponentAPIServer, ComponentControllerManager, ComponentScheduler}
	nodeComponents         = []string{ComponentKubelet, ComponentKubeProxy}
)

// CVEExposure is one CVE a cluster (or version) is exposed to. The JSON field
// names are a contract (DESIGN.md).
type CVEExposure struct {
	ID string `json:"id"`
	// FixedIn is the lowest patch release of the exposed version's minor that
	// fixes the CVE, or "".
	FixedIn    string   `json:"fixed_in"`
	Components []string `json:"components"`
	// Status is one of the Exposure* constants.
	Status string `json:"status"`
	// LaterFix is the lowest fix in a later minor when Status is
	// fixed-in-later-minor.
	LaterFix string  `json:"later_fix,omitempty"`
	Severity string  `json:"severity,omitempty"`
	Score    float64 `json:"score,omitempty"`
	URL      string  `json:"url,omitempty"`
	// MayBeBackported is set for managed distributions: the provider may carry
	// the fix in a build whose upstream core still looks affected.
	MayBeBackported bool `json:"may_be_backported,omitempty"`
	// AffectedVersions are the versions found affected: the control plane's
	// and, for node components, the oldest kubelet's or kube-proxy's.
	AffectedVersions []string `json:"affected_versions,omitempty"`
}

// CVEsAffecting lists the CVEs that affect version v on the given components
// (the cluster components that run v: kube-apiserver and the other
// control-plane components for the control plane; kubelet, kube-proxy for
// nodes). Matching uses v's upstream core (suffixes ignored); packages that
// are untracked or map to no component are skipped.
//
// A version is affected when it lies in any [Introduced, Fixed) range of a
// package for one of the components. A fix is a Fixed version above v that is
// not itself inside an affected range (a regression re-opening the CVE makes
// the earlier fix no fix). When several components are affected with
// different fixes, the exposure takes the highest fix and the worst status, so
// that moving every listed component to FixedIn (or LaterFix) clears it.
//
// Results are sorted by CVE id (year, then number).
func (c *Catalog) CVEsAffecting(v Version, components []string) []CVEExposure {
	out := []CVEExposure{}
	if v.IsZero() {
		return out
	}
	u := v.Upstream()
	backport := v.Distribution != "" && v.Distribution != DistVanilla
	for i := range c.cves {
		cv := &c.cves[i]
		var merged *CVEExposure
		for _, p := range cv.pkgs {
			// A package for the whole release (k8s.io/kubernetes) affects
			// whichever components run v; it is reported as "kubernetes"
			// because the record does not say which binary is at fault.
			if p.component != ComponentKubernetes && !slices.Contains(components, p.component) {
				continue
			}
			e, ok := p.exposure(u)
			if !ok {
				continue
			}
			e.ID = cv.cve.ID
			e.Components = []string{p.component}
			e.AffectedVersions = []string{v.String()}
			if merged == nil {
				merged = &e
			} else {
				*merged = mergeExposure(*merged, e)
			}
		}
		if merged == nil {
			continue
		}
		if cv.cve.CVSS != nil {
			merged.Severity, merged.Score = cv.cve.CVSS.Rating, cv.cve.CVSS.Score
		}
		merged.URL = cv.cve.URL
		merged.MayBeBackported = backport
		out = append(out, *merged)
	}
	slices.SortFunc(out, func(a, b CVEExposure) int { return compareCVEIDs(a.ID, b.ID) })
	return out
}

// affects reports whether upstream version u lies in one of p's ranges.
func (p *catPackage) affects(u Version) bool {
	for _, r := range p.ranges {
		if !r.intro.IsZero() && coreCmp(u, r.intro) < 0 {
			continue
		}
		if !r.fixed.IsZero() && coreCmp(u, r.fixed) >= 0 {
			continue
		}
		return true
	}
	return false
}

// exposure evaluates one package for upstream version u.
func (p *catPackage) exposure(u Version) (CVEExposure, bool) {
	if !p.affects(u) {
		return CVEExposure{}, false
	}
	e := CVEExposure{Status: ExposureNoFix}
	m := u.MinorVersion()
	for _, f := range p.fixes { // ascending: the first hit per kind is the lowest
		if coreCmp(f, u) <= 0 || p.affects(f) {
			continue
		}
		switch fm := f.MinorVersion(); {
		case fm == m && e.FixedIn == "":
			e.FixedIn = f.String()
			e.Status = ExposureFixedInMinor
		case fm.Compare(m) > 0 && e.LaterFix == "" && e.FixedIn == "":
			e.LaterFix = f.String()
			e.Status = ExposureFixedInLaterMinor
		}
	}
	if e.FixedIn != "" {
		e.LaterFix = ""
	}
	return e, true
}

var exposureRank = map[string]int{ExposureFixedInMinor: 0, ExposureFixedInLaterMinor: 1, ExposureNoFix: 2}

// mergeExposure combines two exposures of the same CVE (different components,
// or control plane and nodes at different versions): components are united,
// the status is the worse one and each fix the higher one, because every
// listed component has to reach it.
func mergeExposure(a, b CVEExposure) CVEExposure {
	out := a
	out.Components = slices.Clone(a.Components)
	for _, comp := range b.Components {
		if !slices.Contains(out.Components, comp) {
			out.Components = append(out.Components, comp)
		}
	}
	if exposureRank[b.Status] > exposureRank[a.Status] {
		out.Status = b.Status
	}
	out.AffectedVersions = slices.Clone(a.AffectedVersions)
	for _, v := range b.AffectedVersions {
		if !slices.Contains(out.AffectedVersions, v) {
			out.AffectedVersions = append(out.AffectedVersions, v)
		}
	}
	out.FixedIn = maxVersionString(a.FixedIn, b.FixedIn)
	out.LaterFix = maxVersionString(a.LaterFix, b.LaterFix)
	if out.Status == ExposureNoFix {
		// A fix for one component does not help while another has none.
		out.FixedIn, out.LaterFix = "", ""
	}
	out.MayBeBackported = a.MayBeBackported || b.MayBeBackported
	if out.URL == "" {
		out.URL = b.URL
	}
	if out.Severity == "" {
		out.Severity, out.Score = b.Severity, b.Score
	}
	return out
}

// mergeExposures merges two id-sorted lists per CVE id.
func mergeExposures(a, b []CVEExposure) []CVEExposure {
	out := slices.Clone(a)
	for _, e := range b {
		if i := slices.IndexFunc(out, func(x CVEExposure) bool { return x.ID == e.ID }); i >= 0 {
			out[i] = mergeExposure(out[i], e)
			continue
		}
		out = append(out, e)
	}
	slices.SortFunc(out, func(x, y CVEExposure) int { return compareCVEIDs(x.ID, y.ID) })
	if out == nil {
		out = []CVEExposure{}
	}
	return out
}

// maxVersionString returns the higher of two version strings; "" loses.
func maxVersionString(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	case CompareVersionStrings(b, a) > 0:
		return b
	}
	return a
}

// compareCVEIDs orders "CVE-YYYY-N" ids by year, then number, so that
// CVE-2022-3172 sorts before CVE-2022-25749; other ids sort as strings.
func compareCVEIDs(a, b string) int {
	ya, na, oka := splitCVEID(a)
	yb, nb, okb := splitCVEID(b)
	if !oka || !okb {
		return strings.Compare(a, b)
	}
	if c := cmp.Compare(ya, yb); c != 0 {
		return c
	}
	if c := cmp.Compare(na, nb); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

func splitCVEID(id string) (year, num int, ok bool) {
	parts := strings.Split(id, "-")
	if len(parts) != 3 || !strings.EqualFold(parts[0], "CVE") {
		return 0, 0, false
	}
	y, err1 := strconv.Atoi(parts[1])
	n, err2 := strconv.Atoi(parts[2])
	return y, n, err1 == nil && err2 == nil
}
