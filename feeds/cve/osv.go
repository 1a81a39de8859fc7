package cve

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/semver"

	"github.com/kubedrift/kubedrift/tracker"
)

// Sources recorded on a tracker.CVE, saying where its data came from.
const (
	// SourceOSV marks a CVE read from an OSV record: its ranges are known.
	SourceOSV = "osv"
	// SourceFeed marks a CVE listed in the official CVE feed. A CVE whose
	// Sources hold SourceFeed but not SourceOSV has no affected ranges.
	SourceFeed = "official-cve-feed"
)

// ErrNotOSV reports JSON that is not an OSV record.
var ErrNotOSV = errors.New("not an OSV record")

// osvRecord is the subset of the OSV schema (ossf.github.io/osv-schema) that
// kubedrift uses.
type osvRecord struct {
	ID               string          `json:"id"`
	Modified         string          `json:"modified"`
	Published        string          `json:"published"`
	Summary          string          `json:"summary"`
	Details          string          `json:"details"`
	Severity         []osvSeverity   `json:"severity"`
	Affected         []osvAffected   `json:"affected"`
	References       []osvReference  `json:"references"`
	DatabaseSpecific json.RawMessage `json:"database_specific"`
}

type osvSeverity struct {
	Type  string `json:"type"`
	Score string `json:"score"`
}

type osvAffected struct {
	Package struct {
		Ecosystem string `json:"ecosystem"`
		Name      string `json:"name"`
	} `json:"package"`
	Severity         []osvSeverity   `json:"severity"`
	Ranges           []osvRange      `json:"ranges"`
	DatabaseSpecific json.RawMessage `json:"database_specific"`
}

type osvRange struct {
	Type   string              `json:"type"`
	Events []map[string]string `json:"events"`
}

type osvReference struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

// dbSpecific holds the severity fields some OSV databases add; Kubernetes'
// records carry none today, but GHSA-style ones do.
type dbSpecific struct {
	Severity  string   `json:"severity"`
	CVSSScore *float64 `json:"cvss_score"`
}

// ParseOSV reads one OSV record. name identifies the input in errors (a file
// name or URL).
//
// A record without an id, or that is not valid JSON, yields a CVE with an
// empty ID and an error. Problems inside a valid record (a malformed CVSS
// vector, a range that is not SEMVER, a bad date) are reported in the error
// while the rest of the record is returned: check cve.ID, not err, to know
// whether there is something to keep.
func ParseOSV(name string, b []byte) (tracker.CVE, error) {
	var rec osvRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return tracker.CVE{}, fmt.Errorf("parse OSV %s: %w", name, jsonPosError(b, err))
	}
	rec.ID = strings.TrimSpace(rec.ID)
	if rec.ID == "" {
		return tracker.CVE{}, fmt.Errorf("parse OSV %s: %w: missing id", name, ErrNotOSV)
	}
	p := &problems{prefix: fmt.Sprintf("parse OSV %s (%s)", name, rec.ID)}
	c := tracker.CVE{
		ID:       rec.ID,
		Summary:  strings.TrimSpace(rec.Summary),
		Details:  rec.Details,
		URL:      advisoryURL(rec.References),
		Affected: []tracker.AffectedPackage{},
		Sources:  []string{SourceOSV},
	}
	c.Published = p.timestamp("published", rec.Published)
	c.Modified = p.timestamp("modified", rec.Modified)

	var ratings []tracker.CVSS
	ratings = append(ratings, p.severities("severity", rec.Severity)...)
	for i, a := range rec.Affected {
		where := fmt.Sprintf("affected[%d]", i)
		pkg := strings.TrimSpace(a.Package.Name)
		if pkg == "" {
			p.add("%s: package has no name, skipped", where)
			continue
		}
		where = fmt.Sprintf("%s (%s)", where, pkg)
		ratings = append(ratings, p.severities(where+": severity", a.Severity)...)
		ratings = append(ratings, p.dbSeverity(where+": database_specific", a.DatabaseSpecific)...)
		comp, tracked := ComponentOf(pkg)
		ap := tracker.AffectedPackage{Package: pkg, Component: comp, Tracked: tracked, Ranges: []tracker.Range{}}
		for j, r := range a.Ranges {
			ap.Ranges = append(ap.Ranges, p.ranges(fmt.Sprintf("%s: ranges[%d]", where, j), r)...)
		}
		slices.SortFunc(ap.Ranges, func(x, y tracker.Range) int {
			return cmp.Or(compareBound(x.Introduced, y.Introduced), compareBound(x.Fixed, y.Fixed))
		})
		c.Affected = append(c.Affected, ap)
	}
	ratings = append(ratings, p.dbSeverity("database_specific", rec.DatabaseSpecific)...)
	c.CVSS = strongest(ratings)
	return c, p.err()
}

// ParseOSVDir parses every *.json file directly in dir. A file that cannot be
// read or is not an OSV record yields an error naming it; the other files are
// still parsed. Records are returned sorted by ID.
func ParseOSVDir(fsys fs.FS, dir string) ([]tracker.CVE, []error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, []error{fmt.Errorf("read OSV directory %s: %w", dir, err)}
	}
	var (
		out  []tracker.CVE
		errs []error
	)
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		name := path.Join(dir, e.Name())
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			errs = append(errs, fmt.Errorf("read OSV %s: %w", name, err))
			continue
		}
		c, err := ParseOSV(name, b)
		if err != nil {
			errs = append(errs, err)
		}
		if c.ID != "" {
			out = append(out, c)
		}
	}
	slices.SortStableFunc(out, func(a, b tracker.CVE) int { return CompareIDs(a.ID, b.ID) })
	return out, errs
}

var cveIDRe = regexp.MustCompile(`^CVE-([0-9]{4})-([0-9]{4,})$`)

// CompareIDs orders CVE ids by year, then by number (CVE-2019-11243 before
// CVE-2019-1002100); other ids sort after CVE ids, by string.
func CompareIDs(a, b string) int {
	ma, mb := cveIDRe.FindStringSubmatch(a), cveIDRe.FindStringSubmatch(b)
	switch {
	case ma == nil && mb == nil:
		return strings.Compare(a, b)
	case ma == nil:
		return 1
	case mb == nil:
		return -1
	}
	if c := strings.Compare(ma[1], mb[1]); c != 0 {
		return c
	}
	// Numbers have no leading zeros beyond four digits, so length then text
	// orders them numerically without overflow.
	if c := cmp.Compare(len(ma[2]), len(mb[2])); c != 0 {
		return c
	}
	return strings.Compare(ma[2], mb[2])
}

// advisoryURL picks the advisory link: the kubernetes/kubernetes issue when
// there is one (it carries the fix details), else the first ADVISORY, else
// the first reference of any type.
func advisoryURL(refs []osvReference) string {
	first := ""
	for _, r := range refs {
		if !strings.EqualFold(r.Type, "ADVISORY") || r.URL == "" {
			continue
		}
		if strings.HasPrefix(r.URL, "https://github.com/kubernetes/kubernetes/issues/") {
			return r.URL
		}
		if first == "" {
			first = r.URL
		}
	}
	if first == "" && len(refs) > 0 {
		first = refs[0].URL
	}
	return first
}

// strongest keeps the highest-scored rating: when packages of one CVE carry
// different vectors, the worst case is the one to act on.
func strongest(rs []tracker.CVSS) *tracker.CVSS {
	var best *tracker.CVSS
	for i := range rs {
		if best == nil || rs[i].Score > best.Score || (best.Vector == "" && rs[i].Vector != "" && rs[i].Score == best.Score) {
			best = &rs[i]
		}
	}
	if best == nil {
		return nil
	}
	c := *best
	return &c
}

// problems collects non-fatal errors of one record.
type problems struct {
	prefix string
	errs   []error
}

func (p *problems) add(format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf("%s: "+format, append([]any{p.prefix}, args...)...))
}

func (p *problems) err() error { return errors.Join(p.errs...) }

func (p *problems) timestamp(field, s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		p.add("%s: %w", field, err)
		return time.Time{}
	}
	return t.UTC()
}

func (p *problems) severities(where string, sev []osvSeverity) []tracker.CVSS {
	var out []tracker.CVSS
	for i, s := range sev {
		switch s.Type {
		case "CVSS_V3":
			c, err := ScoreCVSS3(strings.TrimSpace(s.Score))
			if err != nil {
				p.add("%s[%d]: %w", where, i, err)
			}
			out = append(out, c)
		case "CVSS_V2", "CVSS_V4":
			// Kept as stated: kubedrift scores v3 only, and a vector is still
			// worth showing to a person.
			out = append(out, tracker.CVSS{Vector: strings.TrimSpace(s.Score)})
		default:
			p.add("%s[%d]: unknown severity type %q, skipped", where, i, s.Type)
		}
	}
	return out
}

func (p *problems) dbSeverity(where string, raw json.RawMessage) []tracker.CVSS {
	if len(bytes.TrimSpace(raw)) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil
	}
	var db dbSpecific
	if err := json.Unmarshal(raw, &db); err != nil {
		// database_specific is free-form; only our two fields matter.
		var probe map[string]json.RawMessage
		if json.Unmarshal(raw, &probe) != nil {
			p.add("%s: %w", where, err)
			return nil
		}
		if _, ok := probe["severity"]; ok {
			p.add("%s: %w", where, err)
		} else if _, ok := probe["cvss_score"]; ok {
			p.add("%s: %w", where, err)
		}
		return nil
	}
	if db.Severity == "" && db.CVSSScore == nil {
		return nil
	}
	c := tracker.CVSS{Rating: normalRating(db.Severity)}
	if db.CVSSScore != nil {
		if *db.CVSSScore < 0 || *db.CVSSScore > 10 {
			p.add("%s: cvss_score %v out of range 0-10, ignored", where, *db.CVSSScore)
		} else {
			c.Score = *db.CVSSScore
			if c.Rating == "" {
				c.Rating = Rating(c.Score)
			}
		}
	}
	if c.Rating == "" && c.Score == 0 {
		p.add("%s: unknown severity %q, ignored", where, db.Severity)
		return nil
	}
	return []tracker.CVSS{c}
}

// normalRating turns "HIGH", "moderate" and the like into CVSS v3 ratings.
func normalRating(s string) string {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "none":
		return "None"
	case "low":
		return "Low"
	case "medium", "moderate":
		return "Medium"
	case "high", "important":
		return "High"
	case "critical":
		return "Critical"
	}
	return ""
}

// ranges turns one OSV range into half-open tracker ranges. A range of another
// type (ECOSYSTEM, GIT) is kept when all its versions are semantic, since
// Kubernetes add-ons are versioned that way whatever the type says, and
// skipped with a note otherwise. Following the OSV
// evaluation rules, events are sorted by version and walked in order, so both
// upstream's "pairs per minor" layout and a flat sorted list give the same
// intervals.
func (p *problems) ranges(where string, r osvRange) []tracker.Range {
	type event struct {
		kind, version string // version normalised: "" for "0"
	}
	var evs []event
	for i, e := range r.Events {
		if len(e) != 1 {
			p.add("%s: events[%d]: want exactly one of introduced, fixed, last_affected, limit; got %d keys", where, i, len(e))
			continue
		}
		for k, v := range e {
			if k == "limit" {
				// limit only bounds GIT commit walks.
				continue
			}
			if k != "introduced" && k != "fixed" && k != "last_affected" {
				p.add("%s: events[%d]: unknown event %q", where, i, k)
				continue
			}
			nv, ok := normalVersion(v)
			if !ok || (nv == "" && k != "introduced") {
				if r.Type == "SEMVER" {
					p.add("%s: events[%d]: %s version %q is not semantic", where, i, k, v)
					continue
				}
				p.add("%s: %s range with non-semantic version %q, skipped", where, r.Type, v)
				return nil
			}
			evs = append(evs, event{k, nv})
		}
	}
	slices.SortStableFunc(evs, func(a, b event) int { return compareBound(a.version, b.version) })
	var (
		out  []tracker.Range
		open *tracker.Range
	)
	for _, e := range evs {
		switch e.kind {
		case "introduced":
			if open == nil {
				open = &tracker.Range{Introduced: e.version}
			}
		case "fixed":
			if open != nil {
				open.Fixed = e.version
				out = append(out, *open)
				open = nil
			}
		case "last_affected":
			if open != nil {
				// Kubernetes publishes no pre-releases of patch releases, so
				// the patch after the last affected one is the first fixed.
				open.Fixed = nextPatch(e.version)
				out = append(out, *open)
				open = nil
			}
		}
	}
	if open != nil {
		out = append(out, *open)
	}
	return out
}

// normalVersion turns OSV's "1.24.5" into "v1.24.5" and "0" into "".
func normalVersion(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "0" {
		return "", true
	}
	if !strings.HasPrefix(s, "v") {
		s = "v" + s
	}
	if !semver.IsValid(s) || semver.Canonical(s) != strings.SplitN(s, "+", 2)[0] {
		// Reject "v1.24" shorthands: a range bound must be a full version.
		return "", false
	}
	return s, true
}

// compareBound orders normalised versions; "" (from the beginning) is lowest.
func compareBound(a, b string) int {
	switch {
	case a == b:
		return 0
	case a == "":
		return -1
	case b == "":
		return 1
	}
	return semver.Compare(a, b)
}

func nextPatch(v string) string {
	core := strings.TrimPrefix(semver.Canonical(v), "v")
	core, _, _ = strings.Cut(core, "-")
	parts := strings.Split(core, ".")
	if len(parts) != 3 {
		return ""
	}
	n, err := strconv.Atoi(parts[2])
	if err != nil {
		return ""
	}
	return fmt.Sprintf("v%s.%s.%d", parts[0], parts[1], n+1)
}

// jsonPosError adds line and column to JSON decoding errors that carry an
// offset.
func jsonPosError(b []byte, err error) error {
	var off int64 = -1
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	if off < 0 || off > int64(len(b)) {
		return err
	}
	line := 1 + bytes.Count(b[:off], []byte("\n"))
	col := int(off) - bytes.LastIndexByte(b[:off], '\n')
	return fmt.Errorf("line %d, column %d: %w", line, col, err)
}
