package data

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/kubedrift/kubedrift/tracker"
)

// timeLayout is fixed-width UTC so that stored times sort as strings.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeLayout)
}

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("bad stored time %q: %w", s, err)
	}
	return t, nil
}

// toJSON encodes a column value. The types stored are plain data that always
// marshal, so an error here is a programming error and is still reported.
func toJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// fromJSON decodes a JSON column; "" leaves v unchanged.
func fromJSON(s string, v any) error {
	// Most list columns are empty; skipping the decoder for them is a cheap
	// win on note listings.
	if s == "" || s == "[]" || s == "{}" {
		return nil
	}
	return json.Unmarshal([]byte(s), v)
}

// minorOf returns "1.25" for a version, or "" when it does not parse.
func minorOf(version string) string {
	v, err := tracker.ParseVersion(version)
	if err != nil {
		return ""
	}
	return v.MinorVersion().String()
}

// NoteKey is the identity of a note within its (component, version): its PR
// when it has one, else the CVE id of a security entry, else a hash of its text.
func NoteKey(n tracker.Note) string {
	switch {
	case n.PR > 0:
		return "pr:" + strconv.Itoa(n.PR)
	case n.Security != nil && n.Security.ID != "":
		return "sec:" + n.Security.ID
	}
	sum := sha256.Sum256([]byte(n.Text))
	return "txt:" + hex.EncodeToString(sum[:])
}

var noteKeyRe = regexp.MustCompile(`^(pr:[1-9][0-9]*|sec:\S+|txt:[0-9a-f]{64})$`)

// maxListedProblems bounds how many invalid entries one error lists.
const maxListedProblems = 20

// problems collects validation errors, each naming the entry, so that a bad
// update or bundle is reported in full rather than one entry per attempt.
type problems struct {
	errs    []error
	dropped int
}

func (p *problems) addf(format string, args ...any) {
	if len(p.errs) == maxListedProblems {
		p.dropped++
		return
	}
	p.errs = append(p.errs, fmt.Errorf(format, args...))
}

func (p *problems) err() error {
	if p.dropped > 0 {
		p.errs = append(p.errs, fmt.Errorf("and %d more", p.dropped))
	}
	return errors.Join(p.errs...)
}

func checkVersion(p *problems, what, v string) {
	if _, err := tracker.ParseVersion(v); err != nil {
		p.addf("%s: %w", what, err)
	}
}

func checkRelease(p *problems, i int, r tracker.Release) {
	what := fmt.Sprintf("release %d (%s %s)", i, r.Component, r.Version)
	if strings.TrimSpace(r.Component) == "" {
		p.addf("%s: empty component", what)
	}
	checkVersion(p, what, r.Version)
}

func checkNote(p *problems, i int, n tracker.Note) {
	what := fmt.Sprintf("note %d (%s %s pr %d)", i, n.Component, n.Version, n.PR)
	if strings.TrimSpace(n.Component) == "" {
		p.addf("%s: empty component", what)
	}
	checkVersion(p, what, n.Version)
	if n.FirstSeen != "" {
		checkVersion(p, what+": first_seen", n.FirstSeen)
	}
	if n.PR < 0 {
		p.addf("%s: negative PR", what)
	}
	for _, k := range n.Kinds {
		if !tracker.ValidKind(k) {
			p.addf("%s: unknown kind %q", what, k)
		}
	}
}

func checkCVE(p *problems, i int, c tracker.CVE) {
	if strings.TrimSpace(c.ID) == "" {
		p.addf("cve %d: empty id", i)
	}
}

func checkWindow(p *problems, i int, w tracker.SupportWindow) {
	if _, err := tracker.ParseMinor(w.Minor); err != nil {
		p.addf("support window %d: %w", i, err)
	}
}

func validateUpdate(u Update) error {
	var p problems
	if strings.TrimSpace(u.Source) == "" {
		p.addf("empty source")
	}
	if u.At.IsZero() {
		p.addf("zero time")
	}
	for i, r := range u.Releases {
		checkRelease(&p, i, r)
	}
	for i, sc := range u.NoteScopes {
		if strings.TrimSpace(sc.Component) == "" {
			p.addf("note scope %d: empty component", i)
		}
		checkVersion(&p, fmt.Sprintf("note scope %d", i), sc.Version)
	}
	for i, n := range u.Notes {
		checkNote(&p, i, n)
	}
	for i, c := range u.CVEs {
		checkCVE(&p, i, c)
	}
	for i, w := range u.SupportWindows {
		checkWindow(&p, i, w)
	}
	for i, v := range u.Validators {
		if v.URL == "" {
			p.addf("validator %d: empty URL", i)
		}
	}
	return p.err()
}

// redactURL drops credentials and the query (where tokens travel) from a URL
// quoted in an error.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<unparseable URL>"
	}
	u.User = nil
	if u.RawQuery != "" {
		u.RawQuery = "REDACTED"
	}
	u.Fragment = ""
	return u.String()
}
