package tracker

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/semver"
)

// Distributions kubedrift recognises from the suffix a cluster reports.
const (
	DistVanilla   = "vanilla"
	DistEKS       = "eks"
	DistGKE       = "gke"
	DistAKS       = "aks"
	DistK3s       = "k3s"
	DistRKE2      = "rke2"
	DistOpenShift = "openshift"
	// DistOther marks a suffix kubedrift does not know; the core is still compared.
	DistOther = "other"
)

// Version is a Kubernetes version as a cluster or upstream reports it. Comparisons
// use the upstream core only, because managed distributions add suffixes that say
// nothing about which upstream fixes are in.
type Version struct {
	// Raw is the string exactly as it was read.
	Raw string
	// Major, Minor and Patch are the numeric upstream core.
	Major, Minor, Patch int
	// Pre is an upstream pre-release tag ("alpha.1", "beta.0", "rc.2"), or "".
	Pre string
	// Suffix is everything after the upstream version, as reported
	// ("-eks-a5565ad", "+k3s1", "-gke.1090000"), or "".
	Suffix string
	// Distribution is derived from Suffix: one of the Dist* constants.
	Distribution string
}

// ParseVersion reads a version string such as "v1.25.4", "1.25.4",
// "v1.25.0-rc.1", "v1.27.3-eks-a5565ad", "v1.27.4+k3s1" or "v1.28.6-1+openshift".
// Surrounding white space is ignored. The error quotes the input.
//
// It is a hand-written scanner rather than a regular expression because it
// runs for every node of every cluster on every report.
func ParseVersion(s string) (Version, error) {
	raw := s
	s = strings.TrimSpace(s)
	v := Version{Raw: raw}
	rest := strings.TrimPrefix(s, "v")
	var ok bool
	if v.Major, rest, ok = number(rest); ok && strings.HasPrefix(rest, ".") {
		if v.Minor, rest, ok = number(rest[1:]); ok && strings.HasPrefix(rest, ".") {
			v.Patch, rest, ok = number(rest[1:])
		} else {
			ok = false
		}
	} else {
		ok = false
	}
	if !ok {
		return Version{}, fmt.Errorf("invalid Kubernetes version %q: want vMAJOR.MINOR.PATCH", raw)
	}
	core := s[:len(s)-len(rest)]
	if pre, next, found := upstreamPre(rest); found {
		v.Pre, rest = pre, next
	}
	if !validSuffix(rest) {
		return Version{}, fmt.Errorf("invalid Kubernetes version %q: unexpected %q after %s", raw, rest, core)
	}
	v.Suffix = rest
	v.Distribution = distributionOf(rest)
	return v, nil
}

// number reads a semver numeric identifier (no leading zeros, at most nine
// digits so it fits an int everywhere) from the start of s.
func number(s string) (int, string, bool) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 || i > 9 || (i > 1 && s[0] == '0') {
		return 0, s, false
	}
	n, _ := strconv.Atoi(s[:i])
	return n, s[i:], true
}

// upstreamPre reads an upstream pre-release tag ("-rc.1") from the start of
// rest. The tag must end the version or be followed by a suffix ('-' or '+');
// "-rc.1x" is not upstream's and stays in the suffix.
func upstreamPre(rest string) (pre, next string, ok bool) {
	if !strings.HasPrefix(rest, "-") {
		return "", rest, false
	}
	for _, tag := range []string{"alpha.", "beta.", "rc."} {
		if !strings.HasPrefix(rest[1:], tag) {
			continue
		}
		after := rest[1+len(tag):]
		_, tail, ok := number(after)
		if !ok || (tail != "" && tail[0] != '+' && tail[0] != '-') {
			return "", rest, false
		}
		return rest[1 : len(rest)-len(tail)], tail, true
	}
	return "", rest, false
}

// validSuffix accepts what semver allows after the version core: an optional
// "-" part and an optional "+" part, each of [0-9A-Za-z.-] ending in an
// alphanumeric, so that String() always produces something parseable.
func validSuffix(s string) bool {
	if s == "" {
		return true
	}
	pre, build, hasBuild := s, "", false
	if i := strings.IndexByte(s, '+'); i >= 0 {
		pre, build, hasBuild = s[:i], s[i+1:], true
	}
	if pre != "" && (pre[0] != '-' || !validIdentifiers(pre[1:])) {
		return false
	}
	return !hasBuild || validIdentifiers(build)
}

func validIdentifiers(s string) bool {
	if s == "" || !isAlnum(s[len(s)-1]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isAlnum(s[i]) && s[i] != '.' && s[i] != '-' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// MustParseVersion is ParseVersion for constants in tests and tables; it panics
// on invalid input.
func MustParseVersion(s string) Version {
	v, err := ParseVersion(s)
	if err != nil {
		panic(err)
	}
	return v
}

func distributionOf(suffix string) string {
	if suffix == "" {
		return DistVanilla
	}
	l := strings.ToLower(suffix)
	// Order matters: "rke2" contains no other key, but check the longer, more
	// specific names first anyway.
	for _, d := range []string{DistOpenShift, DistRKE2, DistK3s, DistEKS, DistGKE, DistAKS} {
		if strings.Contains(l, d) {
			return d
		}
	}
	return DistOther
}

// Core is the upstream version in canonical semver form: "v1.27.3" or
// "v1.25.0-rc.1". It never carries a distribution suffix.
func (v Version) Core() string {
	s := fmt.Sprintf("v%d.%d.%d", v.Major, v.Minor, v.Patch)
	if v.Pre != "" {
		s += "-" + v.Pre
	}
	return s
}

// String formats the version canonically ("v" prefix, suffix kept), so that
// ParseVersion(v.String()) yields v again (with Raw set to the canonical form).
func (v Version) String() string { return v.Core() + v.Suffix }

// IsZero reports whether v is the zero Version (not parsed).
func (v Version) IsZero() bool {
	return v.Raw == "" && v.Major == 0 && v.Minor == 0 && v.Patch == 0 && v.Pre == "" && v.Suffix == ""
}

// IsPrerelease reports whether v is an upstream alpha, beta or release candidate.
func (v Version) IsPrerelease() bool { return v.Pre != "" }

// MinorVersion is the minor line v belongs to ("1.25").
func (v Version) MinorVersion() Minor { return Minor{Major: v.Major, Minor: v.Minor} }

// Final is the release a pre-release leads to: v1.25.0-rc.1 → v1.25.0. For a
// final release it returns the upstream core.
func (v Version) Final() Version {
	return Version{Raw: fmt.Sprintf("v%d.%d.%d", v.Major, v.Minor, v.Patch), Major: v.Major, Minor: v.Minor, Patch: v.Patch, Distribution: DistVanilla}
}

// Upstream drops the distribution suffix, keeping the upstream core.
func (v Version) Upstream() Version {
	u := Version{Major: v.Major, Minor: v.Minor, Patch: v.Patch, Pre: v.Pre, Distribution: DistVanilla}
	u.Raw = u.Core()
	return u
}

// Compare orders versions by their upstream core (semver precedence): -1, 0, +1.
// Distribution suffixes are ignored.
func (v Version) Compare(w Version) int { return semver.Compare(v.Core(), w.Core()) }

// Less reports whether v sorts before w by upstream core.
func (v Version) Less(w Version) bool { return v.Compare(w) < 0 }

// Equal reports whether v and w parse to the same version, suffix included.
// Raw is not compared: "1.25.4" and "v1.25.4" are equal.
func (v Version) Equal(w Version) bool {
	return v.Major == w.Major && v.Minor == w.Minor && v.Patch == w.Patch && v.Pre == w.Pre && v.Suffix == w.Suffix
}

// CompareVersionStrings compares two version strings by upstream core; a string
// that does not parse sorts before every valid one (and equal to other invalid ones).
func CompareVersionStrings(a, b string) int {
	va, ea := ParseVersion(a)
	vb, eb := ParseVersion(b)
	switch {
	case ea != nil && eb != nil:
		return strings.Compare(a, b)
	case ea != nil:
		return -1
	case eb != nil:
		return 1
	}
	return va.Compare(vb)
}

// Minor is a Kubernetes minor line such as 1.25.
type Minor struct {
	Major, Minor int
}

// ParseMinor reads "1.25" or "v1.25". A full version ("v1.25.3") is accepted too
// and reduced to its minor.
func ParseMinor(s string) (Minor, error) {
	t := strings.TrimSpace(s)
	if maj, rest, ok := number(strings.TrimPrefix(t, "v")); ok && strings.HasPrefix(rest, ".") {
		if min, rest, ok := number(rest[1:]); ok && rest == "" {
			return Minor{maj, min}, nil
		}
	}
	if v, err := ParseVersion(t); err == nil {
		return v.MinorVersion(), nil
	}
	return Minor{}, fmt.Errorf("invalid Kubernetes minor version %q: want MAJOR.MINOR such as 1.25", s)
}

// String formats the minor as "1.25".
func (m Minor) String() string { return fmt.Sprintf("%d.%d", m.Major, m.Minor) }

// Next is the following minor (1.24 → 1.25). Kubernetes has stayed on major 1.
func (m Minor) Next() Minor { return Minor{m.Major, m.Minor + 1} }

// Prev is the preceding minor (1.25 → 1.24); 1.0 has none and returns itself.
func (m Minor) Prev() Minor {
	if m.Minor == 0 {
		return m
	}
	return Minor{m.Major, m.Minor - 1}
}

// Compare orders minors: -1, 0, +1.
func (m Minor) Compare(o Minor) int {
	switch {
	case m.Major != o.Major:
		return cmpInt(m.Major, o.Major)
	default:
		return cmpInt(m.Minor, o.Minor)
	}
}

// Sub is the number of minors from o to m (1.25 - 1.22 = 3) on the same major;
// across majors it is not meaningful and returns the raw minor difference.
func (m Minor) Sub(o Minor) int { return m.Minor - o.Minor }

// Version is the final release minor.patch of the line (patch 0 is the x.y.0 release).
func (m Minor) Version(patch int) Version {
	v := Version{Major: m.Major, Minor: m.Minor, Patch: patch, Distribution: DistVanilla}
	v.Raw = v.Core()
	return v
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
