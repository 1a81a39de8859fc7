package tracker

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// AdvisoryOptions tunes Advisories.
type AdvisoryOptions struct {
	// Now is the moment of the evaluation (unreachable thresholds); support
	// windows are already judged in the drifts.
	Now time.Time
	// EOLWarnDays are the days-left thresholds at which an end-of-life
	// advisory is posted (again); default {60, 30, 7}.
	EOLWarnDays []int
	// UnreachableAfter: a cluster whose last good observation is older than
	// this (and whose latest read failed) gets an advisory; default 1h.
	UnreachableAfter time.Duration
	// PreviouslyKnown holds the release versions ("v1.29.4") known at the
	// previous evaluation, so that only releases not seen before are "new".
	// Nil means no previous evaluation: no new-release advisories at all
	// (a first run would otherwise announce every release ever made).
	PreviouslyKnown map[string]bool
}

// DefaultEOLWarnDays are the end-of-life warning thresholds.
var DefaultEOLWarnDays = []int{60, 30, 7}

// DefaultUnreachableAfter is how long a cluster may stay unreadable before it
// gets an advisory.
const DefaultUnreachableAfter = time.Hour

// Advisories derives what people should hear about from the catalog, the
// clusters' latest observations and their drifts (matched by name):
//   - security: one per CVE exposure that has a fix (in the minor or later);
//   - removal and action-required: one per note of each cluster's next
//     upgrade step;
//   - eol: one per cluster once its minor is within a warning threshold, or
//     past its end of life;
//   - skew: one per violated skew rule;
//   - new-release: the newest patch of a cluster's minor not known before,
//     and (fleet-wide) a minor whose first release was not known before;
//   - unreachable: a cluster whose reads have failed for UnreachableAfter.
//
// IDs are "<kind>/<cluster>/<subject>" and stable across runs; Fingerprints
// hash only facts of substance (never times), so an unchanged advisory keeps
// its fingerprint and a changed one (a new fix, EOL 30 → 7 days) gets a new
// one. Titles and details are written from facts; upstream note text only
// travels in Notes. The result is sorted by severity, cluster and id.
func Advisories(cat *Catalog, clusters []Cluster, drifts []ClusterDrift, opt AdvisoryOptions) []Advisory {
	if len(opt.EOLWarnDays) == 0 {
		opt.EOLWarnDays = DefaultEOLWarnDays
	}
	if opt.UnreachableAfter <= 0 {
		opt.UnreachableAfter = DefaultUnreachableAfter
	}
	// Compare releases on their canonical core, however the caller spelled
	// them ("1.29.4" or "v1.29.4").
	if opt.PreviouslyKnown != nil {
		known := make(map[string]bool, len(opt.PreviouslyKnown))
		for s, ok := range opt.PreviouslyKnown {
			if v, err := ParseVersion(s); err == nil && ok {
				known[v.Core()] = true
			}
		}
		opt.PreviouslyKnown = known
	}
	var out []Advisory
	for _, d := range drifts {
		out = append(out, securityAdvisories(d)...)
		out = append(out, stepAdvisories(d)...)
		if a, ok := eolAdvisory(d, opt.EOLWarnDays); ok {
			out = append(out, a)
		}
		out = append(out, skewAdvisories(d)...)
		if cat != nil && opt.PreviouslyKnown != nil {
			if a, ok := newPatchAdvisory(cat, d, opt.PreviouslyKnown); ok {
				out = append(out, a)
			}
		}
	}
	if cat != nil && opt.PreviouslyKnown != nil {
		out = append(out, newMinorAdvisories(cat, opt.PreviouslyKnown)...)
	}
	for _, cl := range clusters {
		if a, ok := unreachableAdvisory(cl, opt); ok {
			out = append(out, a)
		}
	}
	// The same id twice (a cluster listed twice) would be posted twice; keep
	// the first.
	seen := map[string]bool{}
	out = slices.DeleteFunc(out, func(a Advisory) bool {
		dup := seen[a.ID]
		seen[a.ID] = true
		return dup
	})
	slices.SortFunc(out, func(a, b Advisory) int {
		return cmp.Or(
			cmp.Compare(a.Severity.Rank(), b.Severity.Rank()),
			strings.Compare(a.Cluster, b.Cluster),
			strings.Compare(a.ID, b.ID),
		)
	})
	return out
}

// base fills the fields every advisory of cluster d shares.
func base(kind AdvisoryKind, d ClusterDrift, subject string) Advisory {
	return Advisory{
		ID:           advisoryID(kind, d.Name, subject),
		Kind:         kind,
		Cluster:      d.Name,
		Labels:       d.Labels,
		Distribution: d.Distribution,
		Version:      d.Version,
		Subject:      subject,
	}
}

func advisoryID(kind AdvisoryKind, cluster, subject string) string {
	return string(kind) + "/" + cluster + "/" + subject
}

// fingerprint hashes the advisory's identity and the given facts; each part
// is length-prefixed so that no two different lists hash alike.
func fingerprint(a Advisory, facts ...string) string {
	h := sha256.New()
	for _, s := range append([]string{string(a.Kind), a.Cluster, a.Subject, string(a.Severity)}, facts...) {
		fmt.Fprintf(h, "%d:%s;", len(s), s)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// cvssSeverity maps a CVSS v3 base score to a severity (the CVSS v3
// qualitative scale); without a score the rating upstream gave is used, and
// without either the exposure counts as medium.
func cvssSeverity(score float64, rating string) Severity {
	switch {
	case score >= 9:
		return SeverityCritical
	case score >= 7:
		return SeverityHigh
	case score >= 4:
		return SeverityMedium
	case score > 0:
		return SeverityLow
	}
	switch s := Severity(strings.ToLower(strings.TrimSpace(rating))); s {
	case SeverityCritical, SeverityHigh, SeverityMedium, SeverityLow:
		return s
	}
	return SeverityMedium
}

func securityAdvisories(d ClusterDrift) []Advisory {
	var out []Advisory
	for _, e := range d.CVEs {
		fix := e.FixedIn
		where := ""
		switch e.Status {
		case ExposureFixedInMinor:
		case ExposureFixedInLaterMinor:
			fix, where = e.LaterFix, " (a later minor)"
		default:
			continue // nothing to act on until a fix exists
		}
		if fix == "" {
			continue
		}
		a := base(AdvisorySecurityFix, d, e.ID)
		a.Severity = cvssSeverity(e.Score, e.Severity)
		a.Target = fix
		rating := string(a.Severity)
		if e.Score > 0 {
			rating += " " + strconv.FormatFloat(e.Score, 'f', 1, 64)
		}
		affected := d.Version
		if len(e.AffectedVersions) > 0 {
			affected = strings.Join(e.AffectedVersions, ", ")
		}
		a.Title = fmt.Sprintf("%s: %s (%s) affects %s (%s); fixed in %s%s", d.Name, e.ID, rating, affected, strings.Join(e.Components, ", "), fix, where)
		a.Detail = fmt.Sprintf("Affected components: %s.", strings.Join(e.Components, ", "))
		if e.MayBeBackported {
			a.Detail += " The provider may already ship a backported fix in its own build."
		}
		a.CVEs = []CVEExposure{e}
		if e.URL != "" {
			a.Links = []string{e.URL}
		}
		a.Fingerprint = fingerprint(a, e.Status, e.FixedIn, e.LaterFix)
		out = append(out, a)
	}
	return out
}

// noteSubject names a note without its text: its PR, its CVE, or a short hash.
func noteSubject(n Note) string {
	switch {
	case n.PR > 0:
		return "pr-" + strconv.Itoa(n.PR)
	case n.Security != nil && n.Security.ID != "":
		return n.Security.ID
	}
	sum := sha256.Sum256([]byte(n.Text))
	return "note-" + hex.EncodeToString(sum[:6])
}

// stepAdvisories covers the steps up to and including the next minor
// upgrade (a patch step of the current minor usually comes first): that is
// what a team prepares now; later steps are announced when they become next.
func stepAdvisories(d ClusterDrift) []Advisory {
	cur, err := ParseVersion(d.Version)
	if err != nil {
		return nil
	}
	var out []Advisory
	for _, st := range d.Path {
		to, err := ParseVersion(st.To)
		if err != nil {
			continue
		}
		// The fingerprint uses the target minor, not the patch: a new patch
		// release does not change what the step removes.
		targetMinor := to.MinorVersion().String()
		verdicts := stepVerdicts(d, st.To)
		matched := map[int]bool{}
		add := func(kind AdvisoryKind, sev Severity, n Note, what string) {
			a := base(kind, d, noteSubject(n))
			a.Severity = sev
			a.Target = st.To
			a.Title = fmt.Sprintf("%s: upgrading %s → %s %s (%s, in %s)", d.Name, st.From, st.To, what, subjectLabel(n), n.Version)
			a.Detail = fmt.Sprintf("Kinds: %s.", joinKinds(n.Kinds))
			facts := []string{targetMinor, n.Version}
			// With evidence from the cluster, say what it means here: "3
			// PodSecurityPolicies still exist; migrate before 1.25".
			if v, ok := verdictFor(verdicts, n.PR); ok && kind == AdvisoryRemoval {
				matched[n.PR] = true
				a.Title, a.Severity, a.Detail = impactTitle(d, st, v, subjectLabel(n), a.Severity)
				facts = append(facts, v.Status, v.Detail)
			}
			a.Notes = []Note{n}
			if n.URL != "" {
				a.Links = append(a.Links, n.URL)
			}
			a.Links = append(a.Links, st.Links...)
			a.Fingerprint = fingerprint(a, facts...)
			out = append(out, a)
		}
		for _, n := range st.Removals {
			add(AdvisoryRemoval, SeverityMedium, n, "removes a feature or API")
		}
		for _, n := range st.ActionRequired {
			add(AdvisoryActionRequired, SeverityHigh, n, "has an urgent upgrade note")
		}
		// Blockers the step's notes do not carry (curated removals such as
		// dockershim) still need saying.
		for _, v := range verdicts {
			if v.Status != StatusBlocker || (v.SourcePR > 0 && matched[v.SourcePR]) {
				continue
			}
			a := base(AdvisoryRemoval, d, "removal-"+slug(v.Subject))
			a.Target = st.To
			a.Title, a.Severity, a.Detail = impactTitle(d, st, v, v.Subject, SeverityHigh)
			a.Links = append(a.Links, st.Links...)
			a.Fingerprint = fingerprint(a, targetMinor, v.Status, v.Detail)
			out = append(out, a)
		}
		if to.MinorVersion() != cur.MinorVersion() {
			break
		}
	}
	return out
}

// stepVerdicts returns the impact verdicts of the step to version to.
func stepVerdicts(d ClusterDrift, to string) []Verdict {
	for _, sv := range d.Impact {
		if sv.To == to {
			return sv.Verdicts
		}
	}
	return nil
}

// verdictFor picks the verdict of a removal note's PR, the most pressing
// first when the note removes several things (blocker, unknown, clear).
func verdictFor(vs []Verdict, pr int) (Verdict, bool) {
	if pr == 0 {
		return Verdict{}, false
	}
	best, found := Verdict{}, false
	for _, v := range vs {
		if v.SourcePR == pr && (!found || statusRank(v.Status) < statusRank(best.Status)) {
			best, found = v, true
		}
	}
	return best, found
}

// impactTitle words a removal advisory from the cluster's evidence.
func impactTitle(d ClusterDrift, st Step, v Verdict, label string, sev Severity) (string, Severity, string) {
	switch v.Status {
	case StatusBlocker:
		detail := "Blocks the upgrade to " + st.To + "."
		if len(v.Examples) > 0 {
			detail += " For example: " + strings.Join(v.Examples, ", ") + "."
		}
		return fmt.Sprintf("%s: %s (%s)", d.Name, v.Detail, label), SeverityHigh, detail
	case StatusClear:
		return fmt.Sprintf("%s: upgrading %s → %s removes %s, not in use here (%s)", d.Name, st.From, st.To, v.Subject, label), SeverityLow, "Checked: " + v.Detail + "."
	}
	reason := v.Reason
	if reason == "" {
		reason = v.Detail
	}
	return fmt.Sprintf("%s: upgrading %s → %s removes %s; could not check whether it is in use (%s)", d.Name, st.From, st.To, v.Subject, label), sev, "Not checked: " + reason + "."
}

// slug makes an advisory subject from free text: lower case, [a-z0-9.-].
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

func subjectLabel(n Note) string {
	if n.PR > 0 {
		return "PR #" + strconv.Itoa(n.PR)
	}
	return noteSubject(n)
}

func joinKinds(ks []Kind) string {
	s := make([]string, len(ks))
	for i, k := range ks {
		s[i] = string(k)
	}
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// eolBucket returns the smallest threshold days fits under (its index in the
// descending thresholds), or passed when the end of life is today or gone.
func eolBucket(days int, desc []int) (idx int, passed, ok bool) {
	if days <= 0 {
		return len(desc), true, true
	}
	idx = -1
	for i, t := range desc {
		if days <= t {
			idx = i
		}
	}
	return idx, false, idx >= 0
}

func eolAdvisory(d ClusterDrift, warn []int) (Advisory, bool) {
	if d.Support.DaysLeft == nil || d.Support.EndOfLife == "" {
		return Advisory{}, false
	}
	v, err := ParseVersion(d.Version)
	if err != nil {
		return Advisory{}, false
	}
	desc := slices.Clone(warn)
	slices.Sort(desc)
	slices.Reverse(desc)
	desc = slices.Compact(desc)
	days := *d.Support.DaysLeft
	idx, passed, ok := eolBucket(days, desc)
	if !ok {
		return Advisory{}, false
	}
	minor := v.MinorVersion().String()
	a := base(AdvisoryEOL, d, minor)
	a.DueDate = d.Support.EndOfLife
	bucket := "passed"
	switch {
	case passed:
		a.Severity = SeverityCritical
		ago := -days
		a.Title = fmt.Sprintf("%s: Kubernetes %s reached end of life on %s (%d days ago); no more patches", d.Name, minor, d.Support.EndOfLife, ago)
	default:
		// The last threshold is the most urgent; with the default {60, 30, 7}
		// that is low, medium, high.
		switch len(desc) - 1 - idx {
		case 0:
			a.Severity = SeverityHigh
		case 1:
			a.Severity = SeverityMedium
		default:
			a.Severity = SeverityLow
		}
		bucket = strconv.Itoa(desc[idx])
		a.Title = fmt.Sprintf("%s: Kubernetes %s reaches end of life on %s (%d days left)", d.Name, minor, d.Support.EndOfLife, days)
	}
	if d.Latest != "" {
		a.Target = d.Latest
		a.Detail = fmt.Sprintf("Latest release: %s; %d minors behind.", d.Latest, d.MinorsBehind)
	}
	a.Fingerprint = fingerprint(a, bucket, d.Support.EndOfLife)
	return a, true
}

func skewAdvisories(d ClusterDrift) []Advisory {
	var out []Advisory
	for _, s := range d.Skew {
		a := base(AdvisorySkew, d, s.Kind)
		a.Severity = SeverityHigh
		a.Title = fmt.Sprintf("%s: version skew policy violated by %s (%s)", d.Name, plural(len(s.Nodes), "node"), s.Kind)
		a.Detail = s.Detail
		a.Links = []string{"https://kubernetes.io/releases/version-skew-policy/"}
		a.Fingerprint = fingerprint(a, strconv.Itoa(len(s.Nodes)))
		out = append(out, a)
	}
	return out
}

// newPatchAdvisory announces the newest patch of d's minor that was not known
// before and is newer than what d runs; other new patches of the same minor
// are only counted, one message per cluster being enough.
func newPatchAdvisory(cat *Catalog, d ClusterDrift, known map[string]bool) (Advisory, bool) {
	if d.Error != "" && d.Version == "" {
		return Advisory{}, false
	}
	v, err := ParseVersion(d.Version)
	if err != nil {
		return Advisory{}, false
	}
	var fresh []catRelease
	for _, r := range cat.finals[v.MinorVersion()] {
		if coreCmp(r.v, v) > 0 && !known[r.v.Core()] {
			fresh = append(fresh, r)
		}
	}
	if len(fresh) == 0 {
		return Advisory{}, false
	}
	r := fresh[len(fresh)-1]
	a := base(AdvisoryNewRelease, d, r.v.String())
	a.Severity = SeverityInfo
	a.Target = r.v.String()
	var fixes []string
	for _, e := range d.CVEs {
		if e.Status == ExposureFixedInMinor && e.FixedIn != "" && CompareVersionStrings(e.FixedIn, r.v.String()) <= 0 {
			fixes = append(fixes, e.ID)
		}
	}
	a.Title = fmt.Sprintf("%s: Kubernetes %s is out (cluster runs %s)", d.Name, r.v, d.Version)
	if len(fixes) > 0 {
		a.Severity = SeverityLow
		a.Title += fmt.Sprintf("; it fixes %s", strings.Join(fixes, ", "))
	}
	if len(fresh) > 1 {
		a.Detail = fmt.Sprintf("%d new patch releases of %s since the last check.", len(fresh), v.MinorVersion())
	}
	if r.url != "" {
		a.Links = []string{r.url}
	}
	a.Fingerprint = fingerprint(a, strings.Join(fixes, ","))
	return a, true
}

// newMinorAdvisories announces, fleet-wide, every minor none of whose final
// releases was known before.
func newMinorAdvisories(cat *Catalog, known map[string]bool) []Advisory {
	var out []Advisory
	for _, m := range cat.minors {
		rs := cat.finals[m]
		if slices.ContainsFunc(rs, func(r catRelease) bool { return known[r.v.Core()] }) {
			continue
		}
		first := rs[0]
		a := Advisory{
			ID:       advisoryID(AdvisoryNewRelease, "", m.String()),
			Kind:     AdvisoryNewRelease,
			Severity: SeverityInfo,
			Subject:  m.String(),
			Target:   rs[len(rs)-1].v.String(),
			Title:    fmt.Sprintf("Kubernetes %s is out (%s)", m, first.v),
		}
		if first.url != "" {
			a.Links = []string{first.url}
		}
		a.Fingerprint = fingerprint(a)
		out = append(out, a)
	}
	return out
}

// maxErrorInDetail bounds how much of a cluster's read error an advisory
// repeats.
const maxErrorInDetail = 300

func unreachableAdvisory(cl Cluster, opt AdvisoryOptions) (Advisory, bool) {
	if cl.Error == "" {
		return Advisory{}, false
	}
	neverRead := cl.Version == ""
	if !neverRead && !cl.ObservedAt.IsZero() && opt.Now.Sub(cl.ObservedAt) < opt.UnreachableAfter {
		return Advisory{}, false
	}
	if neverRead && !cl.ObservedAt.IsZero() {
		// Without a good observation ObservedAt is the failed read itself, so
		// it says nothing about how long the cluster has been unreachable.
		return Advisory{}, false
	}
	a := Advisory{
		ID:           advisoryID(AdvisoryUnreachable, cl.Name, cl.Name),
		Kind:         AdvisoryUnreachable,
		Severity:     SeverityHigh,
		Cluster:      cl.Name,
		Labels:       cl.Labels,
		Distribution: cl.Distribution,
		Version:      cl.Version,
		Subject:      cl.Name,
	}
	since := "never read successfully"
	// The last good observation identifies the outage: a later outage, after
	// a recovery, is a new advisory.
	outage := ""
	if !cl.ObservedAt.IsZero() {
		outage = cl.ObservedAt.UTC().Format(time.RFC3339)
		since = "last read " + cl.ObservedAt.UTC().Format("2006-01-02 15:04 UTC")
	}
	a.Title = fmt.Sprintf("%s: cluster unreachable (%s)", cl.Name, since)
	e := cl.Error
	if len(e) > maxErrorInDetail {
		e = strings.ToValidUTF8(e[:maxErrorInDetail], "") + "…"
	}
	a.Detail = "Error: " + e
	if cl.Source != "" {
		a.Detail = "Source: " + cl.Source + ". " + a.Detail
	}
	a.Fingerprint = fingerprint(a, outage)
	return a, true
}
