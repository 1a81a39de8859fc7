package tracker

import (
	"cmp"
	"fmt"
	"slices"
	"sync"
)

// Catalog is upstream knowledge (releases, notes, CVEs, support windows),
// indexed once by NewCatalog. It is read-only afterwards and therefore safe for
// concurrent use.
type Catalog struct {
	// finals holds the final Kubernetes releases of each minor, ascending.
	finals map[Minor][]catRelease
	// minors lists the minors that have at least one final, ascending.
	minors []Minor
	// notes are the Kubernetes notes sorted by the final they belong to, input
	// order kept within one version.
	notes    []catNote
	cves     []catCVE
	windows  map[Minor]SupportWindow
	problems []error
	// steps memoises upgrade steps by from→to: a fleet has many clusters on
	// the same versions, and a step depends on nothing else.
	steps sync.Map
}

type catRelease struct {
	v   Version
	url string
}

type catNote struct {
	v Version
	n Note
}

// catCVE is a CVE with its ranges parsed once.
type catCVE struct {
	cve  CVE
	pkgs []catPackage
}

type catPackage struct {
	component string
	ranges    []catRange
	fixes     []Version // every Fixed of the package, ascending
}

// catRange is [intro, fixed); a zero intro means from the beginning, a zero
// fixed means no fix.
type catRange struct {
	intro, fixed Version
}

// NewCatalog indexes upstream data. Releases and notes of components other than
// "kubernetes" (an empty component counts as kubernetes) are ignored. Entries
// that do not parse are skipped and reported by Problems, so one bad record
// never hides the rest; duplicates keep the first occurrence and are reported
// too.
func NewCatalog(releases []Release, notes []Note, cves []CVE, windows []SupportWindow) *Catalog {
	c := &Catalog{
		finals:  map[Minor][]catRelease{},
		windows: map[Minor]SupportWindow{},
	}
	seen := map[string]bool{}
	for i, r := range releases {
		if !isKubernetes(r.Component) {
			continue
		}
		v, err := ParseVersion(r.Version)
		if err != nil {
			c.problems = append(c.problems, fmt.Errorf("catalog: release #%d: %w", i, err))
			continue
		}
		if v.IsPrerelease() || v.Suffix != "" {
			// Pre-releases are never upgrade targets; a suffixed version is not
			// an upstream release.
			continue
		}
		if seen[v.Core()] {
			continue // the same release from two sources is not a conflict
		}
		seen[v.Core()] = true
		c.finals[v.MinorVersion()] = append(c.finals[v.MinorVersion()], catRelease{v: v.Upstream(), url: r.URL})
	}
	for m, rs := range c.finals {
		slices.SortFunc(rs, func(a, b catRelease) int { return coreCmp(a.v, b.v) })
		c.minors = append(c.minors, m)
	}
	slices.SortFunc(c.minors, Minor.Compare)

	for i, n := range notes {
		if !isKubernetes(n.Component) {
			continue
		}
		v, err := ParseVersion(n.Version)
		if err != nil {
			c.problems = append(c.problems, fmt.Errorf("catalog: note #%d (PR %d): %w", i, n.PR, err))
			continue
		}
		// Notes are handed out in steps whose JSON lists must be [], not null.
		if n.Kinds == nil {
			n.Kinds = []Kind{}
		}
		if n.CVEs == nil {
			n.CVEs = []string{}
		}
		c.notes = append(c.notes, catNote{v: v.Upstream(), n: n})
	}
	slices.SortStableFunc(c.notes, func(a, b catNote) int { return coreCmp(a.v, b.v) })

	for i, cv := range cves {
		cc, errs := indexCVE(cv)
		for _, err := range errs {
			c.problems = append(c.problems, fmt.Errorf("catalog: CVE #%d %q: %w", i, cv.ID, err))
		}
		c.cves = append(c.cves, cc)
	}

	for i, w := range windows {
		m, err := ParseMinor(w.Minor)
		if err != nil {
			c.problems = append(c.problems, fmt.Errorf("catalog: support window #%d: %w", i, err))
			continue
		}
		if _, dup := c.windows[m]; dup {
			c.problems = append(c.problems, fmt.Errorf("catalog: support window #%d: duplicate entry for minor %s, keeping the first", i, m))
			continue
		}
		c.windows[m] = w
	}
	return c
}

func isKubernetes(component string) bool {
	return component == "" || component == ComponentKubernetes
}

func indexCVE(cv CVE) (catCVE, []error) {
	cc := catCVE{cve: cv}
	var errs []error
	for _, p := range cv.Affected {
		if !p.Tracked || p.Component == "" {
			continue // kubedrift cannot see this package's version on a cluster
		}
		cp := catPackage{component: p.Component}
		for _, r := range p.Ranges {
			var cr catRange
			if r.Introduced != "" && r.Introduced != "0" {
				v, err := ParseVersion(r.Introduced)
				if err != nil {
					errs = append(errs, fmt.Errorf("package %s: introduced: %w", p.Package, err))
					continue
				}
				cr.intro = v.Upstream()
			}
			if r.Fixed != "" {
				v, err := ParseVersion(r.Fixed)
				if err != nil {
					errs = append(errs, fmt.Errorf("package %s: fixed: %w", p.Package, err))
					continue
				}
				cr.fixed = v.Upstream()
				cp.fixes = append(cp.fixes, cr.fixed)
			}
			cp.ranges = append(cp.ranges, cr)
		}
		slices.SortFunc(cp.fixes, coreCmp)
		cc.pkgs = append(cc.pkgs, cp)
	}
	return cc, errs
}

// Problems lists the input entries NewCatalog skipped or de-duplicated, each
// naming the entry and why.
func (c *Catalog) Problems() []error { return slices.Clone(c.problems) }

// Minors lists the minors that have at least one final release, ascending.
func (c *Catalog) Minors() []Minor { return slices.Clone(c.minors) }

// LatestPatch is the newest final release of minor m.
func (c *Catalog) LatestPatch(m Minor) (Version, bool) {
	rs := c.finals[m]
	if len(rs) == 0 {
		return Version{}, false
	}
	return rs[len(rs)-1].v, true
}

// LatestStable is the newest final release overall.
func (c *Catalog) LatestStable() (Version, bool) {
	if len(c.minors) == 0 {
		return Version{}, false
	}
	return c.LatestPatch(c.minors[len(c.minors)-1])
}

// HasRelease reports whether v's upstream core is a known final release.
func (c *Catalog) HasRelease(v Version) bool {
	_, ok := c.release(v)
	return ok
}

func (c *Catalog) release(v Version) (catRelease, bool) {
	rs := c.finals[v.MinorVersion()]
	i, ok := slices.BinarySearchFunc(rs, v, func(r catRelease, t Version) int { return coreCmp(r.v, t) })
	if !ok {
		return catRelease{}, false
	}
	return rs[i], true
}

// patchesAfter counts the final releases of v's minor newer than v.
func (c *Catalog) patchesAfter(v Version) int {
	rs := c.finals[v.MinorVersion()]
	i, found := slices.BinarySearchFunc(rs, v, func(r catRelease, t Version) int { return coreCmp(r.v, t) })
	if found {
		i++
	}
	return len(rs) - i
}

// notesCrossed returns the notes of finals after from up to and including to.
// It selects exactly what Crossing(notes, from, to, false) selects, using the
// sorted index instead of re-parsing every note, in version order.
func (c *Catalog) notesCrossed(from, to Version) []Note {
	var out []Note
	for _, n := range c.notesBetween(from, to) {
		if !n.v.IsPrerelease() {
			out = append(out, n.n)
		}
	}
	return out
}

// notesBetween is the index slice of notes with from < version <= to,
// pre-releases included; it shares the catalog's array and must not be
// modified.
func (c *Catalog) notesBetween(from, to Version) []catNote {
	after := func(t Version) int {
		i, _ := slices.BinarySearchFunc(c.notes, t, func(n catNote, t Version) int {
			if coreCmp(n.v, t) <= 0 {
				return -1
			}
			return 1
		})
		return i
	}
	lo, hi := after(from), after(to)
	if hi <= lo {
		return nil // to is not after from
	}
	return c.notes[lo:hi]
}

// coreCmp orders versions by upstream core like Version.Compare, without
// formatting strings for the common final-release case (this runs in the
// per-cluster hot path).
func coreCmp(a, b Version) int {
	if c := cmp.Compare(a.Major, b.Major); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Minor, b.Minor); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Patch, b.Patch); c != 0 {
		return c
	}
	switch {
	case a.Pre == b.Pre:
		return 0
	case a.Pre == "":
		return 1 // a final sorts after its pre-releases
	case b.Pre == "":
		return -1
	}
	return a.Compare(b)
}
