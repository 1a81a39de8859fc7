package tracker

import (
	"slices"
	"time"
)

// Kind classifies a note. Upstream's own kinds come first; security and removal
// are derived by kubedrift.
type Kind string

// Note kinds.
const (
	KindDeprecation   Kind = "deprecation"
	KindAPIChange     Kind = "api-change"
	KindFeature       Kind = "feature"
	KindDesign        Kind = "design"
	KindDocumentation Kind = "documentation"
	KindFailingTest   Kind = "failing-test"
	KindBug           Kind = "bug"
	KindRegression    Kind = "regression"
	KindCleanup       Kind = "cleanup"
	KindFlake         Kind = "flake"
	KindDependency    Kind = "dependency"
	KindOther         Kind = "other"
	// KindSecurity marks a note that mentions a CVE or is a security fix.
	KindSecurity Kind = "security"
	// KindRemoval marks a feature, API version, flag or plugin that stops existing
	// or being served.
	KindRemoval Kind = "removal"
)

// AllKinds lists every kind in a stable order, for validation and help text.
var AllKinds = []Kind{
	KindDeprecation, KindAPIChange, KindFeature, KindDesign, KindDocumentation,
	KindFailingTest, KindBug, KindRegression, KindCleanup, KindFlake,
	KindDependency, KindOther, KindSecurity, KindRemoval,
}

// ValidKind reports whether k is one of AllKinds.
func ValidKind(k Kind) bool { return slices.Contains(AllKinds, k) }

// ComponentKubernetes is the component name of kubernetes/kubernetes releases.
const ComponentKubernetes = "kubernetes"

// Release is one upstream version of a component.
type Release struct {
	Component  string    `json:"component"`
	Version    string    `json:"version"`
	Date       time.Time `json:"date,omitzero"`
	Prerelease bool      `json:"prerelease"`
	URL        string    `json:"url,omitempty"`
}

// Note is one entry of a release's notes. The JSON field names are a contract
// (DESIGN.md): add fields, never rename.
type Note struct {
	Component string `json:"component"`
	// Version is the final release the note belongs to; a note listed under a
	// pre-release belongs to the final it leads to.
	Version string `json:"version"`
	// FirstSeen is the earliest release (possibly a pre-release) that listed it.
	FirstSeen      string   `json:"first_seen"`
	Kinds          []Kind   `json:"kinds"`
	ActionRequired bool     `json:"action_required"`
	CVEs           []string `json:"cves"`
	// PR is the note's own pull request number, 0 when it has none (security
	// entries, generic release bodies).
	PR   int      `json:"pr"`
	SIGs []string `json:"sigs,omitempty"`
	// Text is the entry as markdown. It is upstream prose: untrusted, and never
	// committed to the project's own data.
	Text string `json:"text"`
	// URL links to the note's source (its PR, or the release).
	URL string `json:"url,omitempty"`
	// Security carries the structured part of an "Important Security
	// Information" entry.
	Security *SecurityInfo `json:"security,omitempty"`
}

// HasKind reports whether the note carries kind k.
func (n Note) HasKind(k Kind) bool { return slices.Contains(n.Kinds, k) }

// AddKind adds k unless present, keeping Kinds in AllKinds order.
func (n *Note) AddKind(k Kind) {
	if n.HasKind(k) {
		return
	}
	n.Kinds = append(n.Kinds, k)
	slices.SortStableFunc(n.Kinds, func(a, b Kind) int { return kindRank(a) - kindRank(b) })
}

func kindRank(k Kind) int {
	if i := slices.Index(AllKinds, k); i >= 0 {
		return i
	}
	return len(AllKinds)
}

// SecurityInfo is the structured content of one CVE entry in a changelog's
// "Important Security Information" section.
type SecurityInfo struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	// Affected lists affected ranges per component as upstream wrote them.
	Affected []ComponentRange `json:"affected,omitempty"`
	// Fixed lists fixed versions per component.
	Fixed []ComponentVersion `json:"fixed,omitempty"`
	CVSS  *CVSS              `json:"cvss,omitempty"`
}

// ComponentRange is an affected range of one component. From is "" for
// "<= vX" (and older) ranges.
type ComponentRange struct {
	Component string `json:"component"`
	From      string `json:"from,omitempty"`
	To        string `json:"to"`
}

// ComponentVersion names a version of one component.
type ComponentVersion struct {
	Component string `json:"component"`
	Version   string `json:"version"`
}

// CVSS is a rating as upstream states it: "Medium", 6.5, "CVSS:3.1/AV:N/...".
type CVSS struct {
	Rating string  `json:"rating,omitempty"`
	Score  float64 `json:"score,omitempty"`
	Vector string  `json:"vector,omitempty"`
}
