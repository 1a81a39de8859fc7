package tracker

// Severity ranks how urgently an advisory needs a person.
type Severity string

// Severities, most urgent first.
const (
	SeverityCritical Severity = "critical"
	SeverityHigh     Severity = "high"
	SeverityMedium   Severity = "medium"
	SeverityLow      Severity = "low"
	SeverityInfo     Severity = "info"
)

// Severities lists every severity, most urgent first.
var Severities = []Severity{SeverityCritical, SeverityHigh, SeverityMedium, SeverityLow, SeverityInfo}

// Rank orders severities: 0 is critical, 4 info, 5 unknown.
func (s Severity) Rank() int {
	for i, x := range Severities {
		if x == s {
			return i
		}
	}
	return len(Severities)
}

// AtLeast reports whether s is as urgent as min or more.
func (s Severity) AtLeast(min Severity) bool { return s.Rank() <= min.Rank() }

// AdvisoryKind says what an advisory is about.
type AdvisoryKind string

// Advisory kinds.
const (
	// AdvisorySecurityFix: a CVE affects the cluster and a fix is available.
	AdvisorySecurityFix AdvisoryKind = "security"
	// AdvisoryRemoval: the next upgrade step removes a feature or API.
	AdvisoryRemoval AdvisoryKind = "removal"
	// AdvisoryActionRequired: the next upgrade step has urgent upgrade notes.
	AdvisoryActionRequired AdvisoryKind = "action-required"
	// AdvisoryEOL: end of life is approaching (60/30/7 days) or has passed.
	AdvisoryEOL AdvisoryKind = "eol"
	// AdvisorySkew: a version-skew policy violation.
	AdvisorySkew AdvisoryKind = "skew"
	// AdvisoryNewRelease: a new patch for a minor in use, or a new minor.
	AdvisoryNewRelease AdvisoryKind = "new-release"
	// AdvisoryUnreachable: a cluster could not be read for longer than a threshold.
	AdvisoryUnreachable AdvisoryKind = "unreachable"
	// AdvisorySelf: kubedrift itself has been failing (sync, scan) for long.
	AdvisorySelf AdvisoryKind = "kubedrift"
)

// AdvisoryKinds lists every kind, for configuration validation.
var AdvisoryKinds = []AdvisoryKind{AdvisorySecurityFix, AdvisoryRemoval, AdvisoryActionRequired, AdvisoryEOL, AdvisorySkew, AdvisoryNewRelease, AdvisoryUnreachable, AdvisorySelf}

// Advisory is something a person should hear about once. ID is stable across
// runs and restarts (kind, cluster and subject); Fingerprint changes only when
// the advisory changes in substance (a new CVE, EOL 30 → 7 days), which is
// when it is posted again.
type Advisory struct {
	ID          string       `json:"id"`
	Fingerprint string       `json:"fingerprint"`
	Kind        AdvisoryKind `json:"kind"`
	Severity    Severity     `json:"severity"`
	// Cluster is "" for fleet-wide advisories (a new minor, kubedrift itself).
	Cluster      string            `json:"cluster,omitempty"`
	Labels       map[string]string `json:"labels,omitempty"`
	Distribution string            `json:"distribution,omitempty"`
	// Version is the cluster's version; Target the version that resolves it.
	Version string `json:"version,omitempty"`
	Target  string `json:"target,omitempty"`
	// Subject names what it is about: a CVE id, a minor, a skew kind, a release.
	Subject string `json:"subject"`
	// Title is one line written by kubedrift from facts.
	Title string `json:"title"`
	// Detail is more text written by kubedrift from facts (never upstream prose).
	Detail string `json:"detail,omitempty"`
	// CVEs lists CVE exposures (security advisories).
	CVEs []CVEExposure `json:"cves,omitempty"`
	// Notes are the upstream notes concerned. Their Text is untrusted upstream
	// markdown: every channel escapes it.
	Notes []Note   `json:"notes,omitempty"`
	Links []string `json:"links,omitempty"`
	// DueDate is an ISO date when the advisory has one (end of life).
	DueDate string `json:"due_date,omitempty"`
}
