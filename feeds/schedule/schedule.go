package schedule

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	yamlv2 "go.yaml.in/yaml/v2"
	"sigs.k8s.io/yaml"

	"github.com/kubedrift/kubedrift/tracker"
)

// Schedule is what schedule.yaml says about the supported minors.
type Schedule struct {
	// Windows holds one support window per minor, sorted by minor.
	Windows []tracker.SupportWindow
	// Patches are the patch releases listed as already made
	// (previousPatches), component "kubernetes", Date the target date,
	// sorted by version.
	Patches []tracker.Release
	// Upcoming are the announced next patches (next), one per minor at most,
	// sorted by version. The file is a snapshot: compare Date with the clock
	// before calling one late.
	Upcoming []tracker.Release
}

// scalar accepts a YAML scalar whether it was written as a string or a
// number (release: 1.27 and release: "1.27" both occur upstream).
type scalar string

func (s *scalar) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*s = ""
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = scalar(v)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		// A type error lets encoding/json name the field.
		return &json.UnmarshalTypeError{Value: jsonKind(b), Type: reflect.TypeFor[string]()}
	}
	*s = scalar(n)
	return nil
}

func jsonKind(b []byte) string {
	if len(b) == 0 {
		return "nothing"
	}
	switch b[0] {
	case '[':
		return "array"
	case '{':
		return "object"
	case 't', 'f':
		return "bool"
	}
	return string(b)
}

type scheduleEntry struct {
	Release                  scalar       `json:"release"`
	ReleaseDate              scalar       `json:"releaseDate"`
	MaintenanceModeStartDate scalar       `json:"maintenanceModeStartDate"`
	EndOfLifeDate            scalar       `json:"endOfLifeDate"`
	Next                     *patchEntry  `json:"next"`
	PreviousPatches          []patchEntry `json:"previousPatches"`
}

type patchEntry struct {
	Release    scalar `json:"release"`
	TargetDate scalar `json:"targetDate"`
}

type eolEntry struct {
	Release           scalar `json:"release"`
	FinalPatchRelease scalar `json:"finalPatchRelease"`
	EndOfLifeDate     scalar `json:"endOfLifeDate"`
}

// rawReleases recovers release fields exactly as written. sigs.k8s.io/yaml
// goes through JSON, where an unquoted "release: 1.30" becomes the float 1.3;
// yaml.v2 keeps a scalar's source text when the target is a string.
type rawReleases struct {
	Schedules []struct {
		Release string `yaml:"release"`
		Next    struct {
			Release string `yaml:"release"`
		} `yaml:"next"`
		PreviousPatches []struct {
			Release string `yaml:"release"`
		} `yaml:"previousPatches"`
	} `yaml:"schedules"`
	Branches []struct {
		Release           string `yaml:"release"`
		FinalPatchRelease string `yaml:"finalPatchRelease"`
	} `yaml:"branches"`
}

// rawDecode fills raw; a type error in one entry still leaves the others
// filled, so only a failure to read the YAML at all makes raw unusable.
func rawDecode(b []byte, raw *rawReleases) bool {
	err := yamlv2.Unmarshal(b, raw)
	var te *yamlv2.TypeError
	return err == nil || errors.As(err, &te)
}

// ParseSchedule reads data/releases/schedule.yaml. name identifies the input
// in errors. See the package documentation for how problems are reported: on
// a non-nil error the Schedule still holds every entry that was valid.
//
// An entry whose release is not a minor ("1.x") is left out whole; a window
// with a bad or inconsistent date is left out but its valid patches are kept;
// a patch with a bad version, a version of another minor, or a bad date is
// left out.
func ParseSchedule(name string, b []byte) (Schedule, error) {
	var doc struct {
		Schedules []json.RawMessage `json:"schedules"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return Schedule{}, fmt.Errorf("parse schedule %s: %w", name, err)
	}
	if doc.Schedules == nil {
		return Schedule{}, fmt.Errorf("parse schedule %s: no schedules list", name)
	}
	var raw rawReleases
	rawOK := rawDecode(b, &raw) && len(raw.Schedules) == len(doc.Schedules)
	lines := newLineIndex(b, "schedules", len(doc.Schedules))

	var (
		s    Schedule
		errs []error
		seen = map[tracker.Minor]bool{}
		have = map[string]bool{}
	)
	for i, rawEntry := range doc.Schedules {
		start, end := lines.entry(i)
		var e scheduleEntry
		if err := json.Unmarshal(rawEntry, &e); err != nil {
			errs = append(errs, entryErr(name, start, "schedules", i, "", err))
			continue
		}
		release := string(e.Release)
		if rawOK && raw.Schedules[i].Release != "" {
			release = raw.Schedules[i].Release
		}
		fail := func(line int, format string, args ...any) {
			errs = append(errs, entryErr(name, line, "schedules", i, release, fmt.Errorf(format, args...)))
		}
		m, err := parseMinor(release)
		if err != nil {
			fail(start, "%w", err)
			continue
		}
		if seen[m] {
			fail(start, "minor %s listed twice, later entry skipped", m)
			continue
		}
		seen[m] = true

		w, err := window(m, e)
		if err != nil {
			fail(start, "%w", err)
		} else {
			s.Windows = append(s.Windows, w)
		}

		if e.Next != nil && (e.Next.Release != "" || e.Next.TargetDate != "") {
			text := string(e.Next.Release)
			if rawOK && raw.Schedules[i].Next.Release != "" {
				text = raw.Schedules[i].Next.Release
			}
			r, err := patch(m, text, string(e.Next.TargetDate))
			if err != nil {
				fail(lines.find(start, end, "release", text), "next: %w", err)
			} else {
				s.Upcoming = append(s.Upcoming, r)
			}
		}
		for j, p := range e.PreviousPatches {
			text := string(p.Release)
			if rawOK && j < len(raw.Schedules[i].PreviousPatches) && raw.Schedules[i].PreviousPatches[j].Release != "" {
				text = raw.Schedules[i].PreviousPatches[j].Release
			}
			r, err := patch(m, text, string(p.TargetDate))
			if err == nil && have[r.Version] {
				err = fmt.Errorf("%s listed twice", r.Version)
			}
			if err != nil {
				fail(lines.find(start, end, "release", text), "previousPatches[%d]: %w", j, err)
				continue
			}
			have[r.Version] = true
			s.Patches = append(s.Patches, r)
		}
	}
	sortWindows(s.Windows)
	sortReleases(s.Patches)
	sortReleases(s.Upcoming)
	return s, errors.Join(errs...)
}

// ParseEOL reads data/releases/eol.yaml: minors that reached end of life,
// each with its final patch and end-of-life date. The windows carry Minor and
// EndOfLife only, sorted by minor. An entry with a bad release, a final patch
// of another minor, or a missing or bad date is left out and reported.
func ParseEOL(name string, b []byte) ([]tracker.SupportWindow, error) {
	s, err := ParseEOLSchedule(name, b)
	return s.Windows, err
}

// ParseEOLSchedule is ParseEOL that also returns each ended minor's final
// patch release as a Patch (without a date: eol.yaml gives none), so that a
// minor's last release is known even when no release listing reached back
// that far.
func ParseEOLSchedule(name string, b []byte) (Schedule, error) {
	var doc struct {
		Branches []json.RawMessage `json:"branches"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return Schedule{}, fmt.Errorf("parse end-of-life list %s: %w", name, err)
	}
	if doc.Branches == nil {
		return Schedule{}, fmt.Errorf("parse end-of-life list %s: no branches list", name)
	}
	var raw rawReleases
	rawOK := rawDecode(b, &raw) && len(raw.Branches) == len(doc.Branches)
	lines := newLineIndex(b, "branches", len(doc.Branches))

	var (
		out    []tracker.SupportWindow
		finals []tracker.Release
		errs   []error
		seen   = map[tracker.Minor]bool{}
	)
	for i, rawEntry := range doc.Branches {
		start, _ := lines.entry(i)
		var e eolEntry
		if err := json.Unmarshal(rawEntry, &e); err != nil {
			errs = append(errs, entryErr(name, start, "branches", i, "", err))
			continue
		}
		release, final := string(e.Release), string(e.FinalPatchRelease)
		if rawOK {
			release = cmp.Or(raw.Branches[i].Release, release)
			final = cmp.Or(raw.Branches[i].FinalPatchRelease, final)
		}
		fail := func(err error) {
			errs = append(errs, entryErr(name, start, "branches", i, release, err))
		}
		m, err := parseMinor(release)
		if err != nil {
			fail(err)
			continue
		}
		var finalRel tracker.Release
		if final != "" {
			if finalRel, err = patch(m, final, ""); err != nil {
				fail(fmt.Errorf("finalPatchRelease: %w", err))
				continue
			}
		}
		eol, err := parseDate("endOfLifeDate", string(e.EndOfLifeDate))
		if err == nil && eol.IsZero() {
			err = errors.New("endOfLifeDate missing")
		}
		if err != nil {
			fail(err)
			continue
		}
		if seen[m] {
			fail(fmt.Errorf("minor %s listed twice, later entry skipped", m))
			continue
		}
		seen[m] = true
		out = append(out, tracker.SupportWindow{Minor: m.String(), EndOfLife: eol})
		if finalRel.Version != "" {
			finals = append(finals, finalRel)
		}
	}
	sortWindows(out)
	sortReleases(finals)
	return Schedule{Windows: out, Patches: finals}, errors.Join(errs...)
}

// MergeWindows combines windows from several sources (schedule.yaml and
// eol.yaml) into one per minor, sorted by minor. For each date the first
// non-zero value wins in argument order: a's, then b's fill the gaps. Minors
// are written canonically ("v1.25" becomes "1.25"); a window whose minor does
// not parse is kept as is and sorted after the valid ones.
func MergeWindows(a, b []tracker.SupportWindow) []tracker.SupportWindow {
	var out []tracker.SupportWindow
	index := map[string]int{}
	for _, w := range slices.Concat(a, b) {
		if m, err := tracker.ParseMinor(w.Minor); err == nil {
			w.Minor = m.String()
		}
		i, ok := index[w.Minor]
		if !ok {
			index[w.Minor] = len(out)
			out = append(out, w)
			continue
		}
		o := &out[i]
		fill(&o.Released, w.Released)
		fill(&o.MaintenanceStart, w.MaintenanceStart)
		fill(&o.EndOfLife, w.EndOfLife)
	}
	sortWindows(out)
	return out
}

func fill(dst *time.Time, src time.Time) {
	if dst.IsZero() {
		*dst = src
	}
}

func window(m tracker.Minor, e scheduleEntry) (tracker.SupportWindow, error) {
	w := tracker.SupportWindow{Minor: m.String()}
	var errs []error
	for _, f := range []struct {
		field string
		text  scalar
		dst   *time.Time
	}{
		{"releaseDate", e.ReleaseDate, &w.Released},
		{"maintenanceModeStartDate", e.MaintenanceModeStartDate, &w.MaintenanceStart},
		{"endOfLifeDate", e.EndOfLifeDate, &w.EndOfLife},
	} {
		t, err := parseDate(f.field, string(f.text))
		if err != nil {
			errs = append(errs, err)
		}
		*f.dst = t
	}
	if len(errs) > 0 {
		return w, errors.Join(errs...)
	}
	if !w.Released.IsZero() && !w.EndOfLife.IsZero() && w.EndOfLife.Before(w.Released) {
		return w, fmt.Errorf("endOfLifeDate %s is before releaseDate %s", day(w.EndOfLife), day(w.Released))
	}
	if !w.MaintenanceStart.IsZero() && !w.EndOfLife.IsZero() && w.EndOfLife.Before(w.MaintenanceStart) {
		return w, fmt.Errorf("endOfLifeDate %s is before maintenanceModeStartDate %s", day(w.EndOfLife), day(w.MaintenanceStart))
	}
	return w, nil
}

func patch(m tracker.Minor, version, date string) (tracker.Release, error) {
	v, err := tracker.ParseVersion(version)
	if err != nil {
		return tracker.Release{}, err
	}
	if v.IsPrerelease() || v.Suffix != "" {
		return tracker.Release{}, fmt.Errorf("release %q is not a final patch version", version)
	}
	if v.MinorVersion() != m {
		return tracker.Release{}, fmt.Errorf("release %s does not belong to minor %s", v.Core(), m)
	}
	t, err := parseDate("targetDate", date)
	if err != nil {
		return tracker.Release{}, fmt.Errorf("%s: %w", v.Core(), err)
	}
	return tracker.Release{Component: tracker.ComponentKubernetes, Version: v.Core(), Date: t}, nil
}

func parseMinor(s string) (tracker.Minor, error) {
	m, err := tracker.ParseMinor(s)
	if err != nil {
		return m, fmt.Errorf("release: %w", err)
	}
	// ParseMinor also reduces full versions; a schedule entry must name a minor.
	if strings.TrimPrefix(strings.TrimSpace(s), "v") != m.String() {
		return m, fmt.Errorf("release %q: want a minor such as 1.27", s)
	}
	return m, nil
}

// parseDate reads "2023-07-19"; "" is no date. sigs.k8s.io/yaml may also
// hand over an RFC 3339 time when the YAML carried one.
func parseDate(field, s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	_, err := time.Parse(time.DateOnly, s)
	return time.Time{}, fmt.Errorf("%s %q: want YYYY-MM-DD: %w", field, s, err)
}

func day(t time.Time) string { return t.Format(time.DateOnly) }

func entryErr(name string, line int, list string, i int, release string, err error) error {
	where := name
	if line > 0 {
		where = fmt.Sprintf("%s:%d", name, line)
	}
	if release != "" {
		return fmt.Errorf("parse %s: %s[%d] (release %s): %w", where, list, i, release, err)
	}
	return fmt.Errorf("parse %s: %s[%d]: %w", where, list, i, err)
}

func sortWindows(ws []tracker.SupportWindow) {
	slices.SortStableFunc(ws, func(a, b tracker.SupportWindow) int {
		ma, ea := tracker.ParseMinor(a.Minor)
		mb, eb := tracker.ParseMinor(b.Minor)
		switch {
		case ea != nil && eb != nil:
			return strings.Compare(a.Minor, b.Minor)
		case ea != nil:
			return 1
		case eb != nil:
			return -1
		}
		return ma.Compare(mb)
	})
}

func sortReleases(rs []tracker.Release) {
	slices.SortStableFunc(rs, func(a, b tracker.Release) int {
		return tracker.CompareVersionStrings(a.Version, b.Version)
	})
}
