package cve

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kubedrift/kubedrift/tracker"
)

func TestParseFeed(t *testing.T) {
	items, err := ParseFeed("testdata/feed.json", readFixture(t, "feed.json"))
	checkErr(t, err, []string{
		"parse CVE feed testdata/feed.json:23: items[2]: CVE-2099-0012: date_published",
		`feed.json:30: items[3]: id "GHSA-xxxx-yyyy": "GHSA-xxxx-yyyy" is not a CVE id, skipped`,
	})
	want := []FeedItem{
		{ID: "CVE-2099-0001", URL: "https://github.com/kubernetes/kubernetes/issues/999001", ExternalURL: "https://www.cve.org/cverecord?id=CVE-2099-0001",
			Summary: "Invented: node proxy subresource skips an authorization check", Published: time.Date(2099, 3, 1, 15, 0, 0, 0, time.UTC), IssueNumber: 999001},
		{ID: "CVE-2099-0010", URL: "https://github.com/kubernetes/kubernetes/issues/999010", ExternalURL: "https://www.cve.org/cverecord?id=CVE-2099-0010",
			Summary: "Invented: two mount bypasses fixed together", Published: time.Date(2099, 5, 2, 8, 0, 0, 0, time.UTC), IssueNumber: 999010},
		{ID: "CVE-2099-0011", URL: "https://github.com/kubernetes/kubernetes/issues/999010", ExternalURL: "https://www.cve.org/cverecord?id=CVE-2099-0011",
			Summary: "Invented: two mount bypasses fixed together", Published: time.Date(2099, 5, 2, 8, 0, 0, 0, time.UTC), IssueNumber: 999010},
		{ID: "CVE-2099-0014", URL: "https://github.com/kubernetes/kubernetes/issues/999014",
			Summary: "Invented: issue number only in the URL", Published: time.Date(2099, 6, 1, 0, 0, 0, 0, time.UTC), IssueNumber: 999014},
	}
	if !reflect.DeepEqual(items, want) {
		t.Errorf("items =\n%+v\nwant\n%+v", items, want)
	}
}

func TestParseFeedErrors(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		wantN   int
		wantErr []string
		notFeed bool
	}{
		{"not json", "{\n\"version\": oops}", 0, []string{"parse CVE feed in.json: line 2, column", "invalid character"}, false},
		{"not a feed", string(readFixture(t, "not-a-feed.json")), 0, []string{`version ""`}, true},
		{"items not a list", `{"version":"https://jsonfeed.org/version/1.1","items":{}}`, 0, []string{"cannot unmarshal object"}, false},
		{"item not an object", `{"version":"https://jsonfeed.org/version/1.1","items":[3,{"id":"CVE-2099-0001"}]}`, 1, []string{"in.json:1: items[0]", "cannot unmarshal number"}, false},
		{"item without id", `{"version":"https://jsonfeed.org/version/1.1","items":[{"url":"x"}]}`, 0, []string{"items[0]: no id"}, false},
		{"bad issue number", `{"version":"https://jsonfeed.org/version/1.1","items":[{"id":"CVE-2099-0001","_kubernetes_io":{"issue_number":"#12"}}]}`, 1, []string{`CVE-2099-0001: issue_number "#12"`}, false},
		{"empty feed", `{"version":"https://jsonfeed.org/version/1.1","items":[]}`, 0, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items, err := ParseFeed("in.json", []byte(tt.input))
			if len(items) != tt.wantN {
				t.Errorf("got %d items, want %d", len(items), tt.wantN)
			}
			checkErr(t, err, tt.wantErr)
			if tt.notFeed != errors.Is(err, ErrNotFeed) {
				t.Errorf("errors.Is(err, ErrNotFeed) = %v, want %v", !tt.notFeed, tt.notFeed)
			}
		})
	}
}

func TestMerge(t *testing.T) {
	osv, errs := ParseOSVDir(os.DirFS("testdata"), "osv")
	if len(osv) != 3 {
		t.Fatalf("fixtures: %d records, %v", len(osv), errs)
	}
	osv[2].URL = "" // CVE-2099-0003 has no reference: the feed must not be needed for it
	dup := tracker.CVE{ID: "CVE-2099-0001", Sources: []string{SourceOSV}, Affected: []tracker.AffectedPackage{{Package: "k8s.io/kubectl", Component: "kubectl", Tracked: true}}}
	feed, _ := ParseFeed("feed.json", readFixture(t, "feed.json"))
	osvBefore := slices.Clone(osv[0].Affected)

	got := Merge(append(osv, dup), feed)

	var ids []string
	for _, c := range got {
		ids = append(ids, c.ID)
	}
	wantIDs := []string{"CVE-2099-0001", "CVE-2099-0002", "CVE-2099-0003", "CVE-2099-0010", "CVE-2099-0011", "CVE-2099-0014"}
	if !reflect.DeepEqual(ids, wantIDs) {
		t.Fatalf("ids = %v, want %v", ids, wantIDs)
	}
	tests := []struct {
		id        string
		sources   []string
		url       string
		published time.Time
		affected  int
	}{
		// OSV's own date wins over the feed's later one; the duplicate adds kubectl.
		{"CVE-2099-0001", []string{SourceOSV, SourceFeed}, "https://github.com/kubernetes/kubernetes/issues/999001", time.Date(2099, 3, 1, 9, 30, 0, 0, time.UTC), 3},
		{"CVE-2099-0002", []string{SourceOSV}, "https://example.invalid/issues/12", time.Date(2099, 4, 10, 12, 0, 0, 0, time.UTC), 2},
		{"CVE-2099-0003", []string{SourceOSV}, "", time.Time{}, 1},
		{"CVE-2099-0010", []string{SourceFeed}, "https://github.com/kubernetes/kubernetes/issues/999010", time.Date(2099, 5, 2, 8, 0, 0, 0, time.UTC), 0},
		{"CVE-2099-0014", []string{SourceFeed}, "https://github.com/kubernetes/kubernetes/issues/999014", time.Date(2099, 6, 1, 0, 0, 0, 0, time.UTC), 0},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			i := slices.IndexFunc(got, func(c tracker.CVE) bool { return c.ID == tt.id })
			c := got[i]
			if !reflect.DeepEqual(c.Sources, tt.sources) || c.URL != tt.url || !c.Published.Equal(tt.published) || len(c.Affected) != tt.affected {
				t.Errorf("got sources %v url %q published %v affected %d; want %v %q %v %d",
					c.Sources, c.URL, c.Published, len(c.Affected), tt.sources, tt.url, tt.published, tt.affected)
			}
			if c.Affected == nil {
				t.Error("Affected is nil; want an empty list so JSON says []")
			}
			if tt.affected == 0 && c.Summary == "" {
				t.Error("feed-only CVE lost its summary")
			}
		})
	}
	if !reflect.DeepEqual(osv[0].Affected, osvBefore) {
		t.Error("Merge modified its input")
	}
}

func TestCorpusFeed(t *testing.T) {
	dir := corpusDir(t, "")
	b, err := os.ReadFile(filepath.Join(dir, "cve-feed", "official-cve-feed.json"))
	if err != nil {
		t.Skipf("corpus feed unavailable: %v", err)
	}
	items, err := ParseFeed("official-cve-feed.json", b)
	if err != nil {
		t.Fatalf("ParseFeed: %v", err)
	}
	// 7 items upstream; one of them lists CVE-2023-2727 and CVE-2023-2728.
	if len(items) != 8 {
		t.Fatalf("got %d items, want 8", len(items))
	}
	for _, it := range items {
		if it.IssueNumber == 0 || it.Published.IsZero() || !strings.HasSuffix(it.ExternalURL, "id="+it.ID) ||
			!strings.HasSuffix(it.URL, "/issues/"+strconv.Itoa(it.IssueNumber)) {
			t.Errorf("item %+v incomplete", it)
		}
	}
	if items[0].ID != "CVE-2023-2431" || items[0].IssueNumber != 118690 || !items[0].Published.Equal(time.Date(2023, 6, 15, 14, 42, 32, 0, time.UTC)) {
		t.Errorf("first item = %+v", items[0])
	}

	osv, errs := ParseOSVDir(os.DirFS(filepath.Join(dir, "osv")), ".")
	if len(errs) > 0 {
		t.Fatalf("corpus OSV: %v", errs)
	}
	merged := Merge(osv, items)
	// CVE-2021-3121 and CVE-2020-8554 are in the feed but have no OSV record.
	if len(merged) != 49 {
		t.Errorf("merged %d CVEs, want 49", len(merged))
	}
	for _, c := range merged {
		feedOnly := !slices.Contains(c.Sources, SourceOSV)
		if feedOnly != (c.ID == "CVE-2021-3121" || c.ID == "CVE-2020-8554") {
			t.Errorf("%s: sources %v", c.ID, c.Sources)
		}
		if feedOnly && len(c.Affected) != 0 {
			t.Errorf("%s: feed-only CVE has ranges", c.ID)
		}
	}
	if !slices.IsSortedFunc(merged, func(a, b tracker.CVE) int { return CompareIDs(a.ID, b.ID) }) {
		t.Error("merged list not sorted by id")
	}
}
