package cve

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kubedrift/kubedrift/tracker"
)

// ErrNotFeed reports JSON that is not a JSON Feed.
var ErrNotFeed = errors.New("not a JSON Feed")

// FeedItem is one CVE listed in the official Kubernetes CVE feed.
type FeedItem struct {
	// ID is a single CVE id. Upstream sometimes lists several CVEs fixed by
	// one issue in one item ("CVE-2023-2727, CVE-2023-2728"); ParseFeed
	// returns one FeedItem per id.
	ID string
	// URL is the kubernetes/kubernetes issue announcing the CVE.
	URL string
	// ExternalURL is the CVE record (cve.org).
	ExternalURL string
	// Summary is upstream's one-line title: untrusted prose.
	Summary     string
	Published   time.Time
	IssueNumber int
}

type jsonFeed struct {
	Version string            `json:"version"`
	Items   []json.RawMessage `json:"items"`
}

type jsonFeedItem struct {
	ID            string `json:"id"`
	URL           string `json:"url"`
	ExternalURL   string `json:"external_url"`
	Summary       string `json:"summary"`
	DatePublished string `json:"date_published"`
	Kubernetes    struct {
		// Upstream writes a number; accept a quoted one too.
		IssueNumber json.RawMessage `json:"issue_number"`
	} `json:"_kubernetes_io"`
}

var (
	feedIDRe  = regexp.MustCompile(`^CVE-[0-9]{4}-[0-9]{4,}$`)
	issueNoRe = regexp.MustCompile(`/issues/([0-9]+)/?$`)
)

// ParseFeed reads the official Kubernetes CVE feed (JSON Feed 1.1). name
// identifies the input in errors. A JSON error or a document that is not a
// JSON Feed fails as a whole; a bad item (no or malformed id, bad date) is
// reported in the error and skipped while the other items are returned.
// Items keep the feed's order.
func ParseFeed(name string, b []byte) ([]FeedItem, error) {
	var f jsonFeed
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("parse CVE feed %s: %w", name, jsonPosError(b, err))
	}
	if !strings.HasPrefix(f.Version, "https://jsonfeed.org/version/1") {
		return nil, fmt.Errorf("parse CVE feed %s: %w: version %q, want https://jsonfeed.org/version/1.1", name, ErrNotFeed, f.Version)
	}
	var (
		out  []FeedItem
		errs []error
	)
	for i, raw := range f.Items {
		items, err := parseFeedItem(raw)
		if err != nil {
			errs = append(errs, fmt.Errorf("parse CVE feed %s%s: items[%d]: %w", name, lineOf(b, raw), i, err))
		}
		out = append(out, items...)
	}
	return out, errors.Join(errs...)
}

// lineOf locates an item's text in the document as ":LINE", or "" when it
// cannot be found (json.RawMessage keeps the bytes, not their offset).
func lineOf(doc, item []byte) string {
	i := bytes.Index(doc, item)
	if i < 0 || len(item) == 0 {
		return ""
	}
	return fmt.Sprintf(":%d", 1+bytes.Count(doc[:i], []byte("\n")))
}

func parseFeedItem(raw json.RawMessage) ([]FeedItem, error) {
	var it jsonFeedItem
	if err := json.Unmarshal(raw, &it); err != nil {
		return nil, err
	}
	base := FeedItem{
		URL:         strings.TrimSpace(it.URL),
		ExternalURL: strings.TrimSpace(it.ExternalURL),
		Summary:     strings.TrimSpace(it.Summary),
	}
	var errs []error
	label := strings.TrimSpace(it.ID)
	if label == "" {
		return nil, errors.New("no id")
	}
	if s := strings.TrimSpace(it.DatePublished); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return nil, fmt.Errorf("%s: date_published: %w", label, err)
		}
		base.Published = t.UTC()
	}
	n, err := issueNumber(it.Kubernetes.IssueNumber, base.URL)
	if err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", label, err))
	}
	base.IssueNumber = n

	var ids []string
	for _, id := range strings.Split(label, ",") {
		id = strings.TrimSpace(id)
		if !feedIDRe.MatchString(id) {
			errs = append(errs, fmt.Errorf("id %q: %q is not a CVE id, skipped", label, id))
			continue
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	out := make([]FeedItem, 0, len(ids))
	for _, id := range ids {
		item := base
		item.ID = id
		if len(ids) > 1 || strings.Contains(label, ",") {
			// The feed builds external_url from the whole id field, which
			// yields a broken link for combined items; point at each CVE's
			// own record instead.
			if strings.HasSuffix(item.ExternalURL, label) {
				item.ExternalURL = strings.TrimSuffix(item.ExternalURL, label) + id
			}
		}
		out = append(out, item)
	}
	return out, errors.Join(errs...)
}

func issueNumber(raw json.RawMessage, url string) (int, error) {
	s := strings.Trim(string(bytes.TrimSpace(raw)), `"`)
	if s == "" || s == "null" {
		if m := issueNoRe.FindStringSubmatch(url); m != nil {
			if n, err := strconv.Atoi(m[1]); err == nil {
				return n, nil
			}
		}
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("issue_number %s is not an issue number", raw)
	}
	return n, nil
}

// Merge combines OSV records with feed items into one list sorted by ID.
// OSV data wins; the feed fills an empty URL, publication date or summary.
// A CVE listed in the feed without an OSV record is kept with no affected
// ranges (Affected is empty) and Sources holding only SourceFeed, so callers
// can say "affected versions unknown" rather than "not affected". Duplicate
// OSV records of one ID keep the first record's fields and gather the
// affected packages of both. The inputs are not modified.
func Merge(osv []tracker.CVE, feed []FeedItem) []tracker.CVE {
	byID := make(map[string]int, len(osv)+len(feed))
	out := make([]tracker.CVE, 0, len(osv)+len(feed))
	for _, c := range osv {
		if i, ok := byID[c.ID]; ok {
			out[i].Affected = append(out[i].Affected, c.Affected...)
			out[i].Sources = addSources(out[i].Sources, c.Sources...)
			continue
		}
		c.Affected = slices.Clone(c.Affected)
		if c.Affected == nil {
			c.Affected = []tracker.AffectedPackage{}
		}
		c.Sources = slices.Clone(c.Sources)
		if c.CVSS != nil {
			v := *c.CVSS
			c.CVSS = &v
		}
		byID[c.ID] = len(out)
		out = append(out, c)
	}
	for _, f := range feed {
		i, ok := byID[f.ID]
		if !ok {
			byID[f.ID] = len(out)
			out = append(out, tracker.CVE{ID: f.ID, Affected: []tracker.AffectedPackage{}})
			i = len(out) - 1
		}
		c := &out[i]
		if c.URL == "" {
			c.URL = cmp.Or(f.URL, f.ExternalURL)
		}
		if c.Published.IsZero() {
			c.Published = f.Published
		}
		if c.Summary == "" {
			c.Summary = f.Summary
		}
		c.Sources = addSources(c.Sources, SourceFeed)
	}
	slices.SortStableFunc(out, func(a, b tracker.CVE) int { return CompareIDs(a.ID, b.ID) })
	return out
}

func addSources(have []string, add ...string) []string {
	for _, s := range add {
		if !slices.Contains(have, s) {
			have = append(have, s)
		}
	}
	return have
}
