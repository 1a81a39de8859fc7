package githubtest_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kubedrift/kubedrift/feeds/github/githubtest"
)

func fixtureReleases(t *testing.T) []githubtest.Release {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "releases.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	rels, err := githubtest.ReleasesFromTSV(b)
	if err != nil {
		t.Fatal(err)
	}
	return rels
}

// corpusDir finds ../shared/corpus next to the module root, or skips.
func corpusDir(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("no go.mod above the package directory; cannot locate ../shared/corpus")
		}
		dir = parent
	}
	c := filepath.Join(dir, "..", "shared", "corpus")
	if _, err := os.Stat(c); err != nil {
		t.Skipf("upstream corpus not present at %s (only in the project's shared workspace): %v", c, err)
	}
	return c
}

type reply struct {
	status int
	header http.Header
	body   []byte
	err    error
}

func get(t *testing.T, url string, hdr ...string) reply {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		return reply{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, header: resp.Header, body: b, err: err}
}

func TestReleasesFromTSV(t *testing.T) {
	rels := fixtureReleases(t)
	var tags []string
	for _, r := range rels {
		if r.Owner != "kubernetes" || r.Repo != "kubernetes" {
			t.Errorf("%s: repo %s/%s", r.Tag, r.Owner, r.Repo)
		}
		tags = append(tags, r.Tag+":"+strconv.FormatBool(r.Prerelease))
	}
	want := "v1.30.0-alpha.1:true v1.30.0-rc.0:true v1.30.0:false v1.30.1:false v1.31.0-beta.0:true"
	if got := strings.Join(tags, " "); got != want {
		t.Errorf("releases = %s, want %s", got, want)
	}

	bad := []struct {
		name, tsv string
		wantN     int
		wantErr   []string
	}{
		{name: "missing column", tsv: "version\tminor\nv1.2.3\t1.2\n", wantErr: []string{"line 1", `"prerelease"`}},
		{name: "bad rows are skipped", tsv: "version\tprerelease\nv1.30.0\tfalse\nnot-a-version\tfalse\nv1.30.1\tmaybe\nv1.30.2-rc.0\tfalse\nv1.30.0\tfalse\nv1.30.3\tfalse\n",
			wantN: 2, wantErr: []string{"line 3", "not-a-version", "line 4", `"maybe"`, "line 5", "prerelease=false", "line 6", "repeats line 2"}},
		{name: "empty", tsv: "", wantErr: []string{"no header"}},
		{name: "wrong minor", tsv: "version\tminor\tprerelease\nv1.30.0\t1.31\tfalse\nv1.31.0\t1.31\tfalse\n", wantN: 1, wantErr: []string{"line 2", `minor "1.31"`}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			got, err := githubtest.ReleasesFromTSV([]byte(tc.tsv))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if len(got) != tc.wantN {
				t.Errorf("kept %d releases, want %d", len(got), tc.wantN)
			}
		})
	}
}

func TestReleasesFromCorpusTSV(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(corpusDir(t), "kubernetes", "releases.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	rels, err := githubtest.ReleasesFromTSV(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(rels) != 210 {
		t.Errorf("got %d releases, want the 210 the corpus README lists", len(rels))
	}
}

type releaseJSON struct {
	ID          int64   `json:"id"`
	TagName     string  `json:"tag_name"`
	Name        string  `json:"name"`
	Prerelease  bool    `json:"prerelease"`
	Draft       bool    `json:"draft"`
	PublishedAt *string `json:"published_at"`
	HTMLURL     string  `json:"html_url"`
	Body        string  `json:"body"`
}

func TestListReleases(t *testing.T) {
	for _, prefix := range []string{"", "/api/v3"} {
		t.Run("prefix="+prefix, func(t *testing.T) {
			s := githubtest.New(t, githubtest.Options{Releases: fixtureReleases(t)})
			s.AddRelease(githubtest.Release{Owner: "kubernetes", Repo: "kubernetes", Tag: "v1.29.9", Body: "Fixture notes.",
				PublishedAt: time.Date(2024, 9, 11, 10, 0, 0, 0, time.UTC)})
			base := s.URL + prefix + "/repos/kubernetes/kubernetes/releases"
			var tags []string
			next := base + "?per_page=2"
			for pages := 0; next != ""; pages++ {
				if pages > 5 {
					t.Fatal("Link rel=next never ends")
				}
				r := get(t, next)
				if r.err != nil || r.status != 200 {
					t.Fatalf("GET %s: %d %v", next, r.status, r.err)
				}
				var page []releaseJSON
				if err := json.Unmarshal(r.body, &page); err != nil {
					t.Fatalf("page %d: %v", pages+1, err)
				}
				for _, rel := range page {
					tags = append(tags, rel.TagName)
				}
				next = linkRel(r.header.Get("Link"), "next")
				if next != "" && !strings.HasPrefix(next, base+"?") {
					t.Errorf("next link %s does not keep the base %s", next, base)
				}
				if pages == 0 && linkRel(r.header.Get("Link"), "last") != base+"?page=3&per_page=2" {
					t.Errorf("last link = %q", r.header.Get("Link"))
				}
			}
			// Dated release first (GitHub lists by date), then newest version first.
			want := "v1.29.9 v1.31.0-beta.0 v1.30.1 v1.30.0 v1.30.0-rc.0 v1.30.0-alpha.1"
			if got := strings.Join(tags, " "); got != want {
				t.Errorf("order = %s, want %s", got, want)
			}
			r := get(t, base+"?per_page=2&page=1")
			var page []releaseJSON
			json.Unmarshal(r.body, &page)
			if p := page[0]; p.PublishedAt == nil || *p.PublishedAt != "2024-09-11T10:00:00Z" || p.Body != "Fixture notes." ||
				p.HTMLURL != "https://github.com/kubernetes/kubernetes/releases/tag/v1.29.9" || p.ID == 0 || p.Name != "v1.29.9" {
				t.Errorf("release JSON = %+v", p)
			}
			if page[1].PublishedAt != nil || !page[1].Prerelease {
				t.Errorf("undated pre-release JSON = %+v", page[1])
			}
		})
	}
}

// linkRel extracts one relation from a Link header.
func linkRel(h, rel string) string {
	for _, part := range strings.Split(h, ",") {
		seg := strings.Split(strings.TrimSpace(part), ";")
		if len(seg) == 2 && strings.TrimSpace(seg[1]) == `rel="`+rel+`"` {
			return strings.Trim(seg[0], "<>")
		}
	}
	return ""
}

func TestConditional(t *testing.T) {
	s := githubtest.New(t, githubtest.Options{Releases: fixtureReleases(t), Files: map[string][]byte{"o/r/a.md": []byte("# a\n")}})
	tests := []struct{ name, url string }{
		{"releases page", s.URL + "/repos/kubernetes/kubernetes/releases?per_page=2&page=2"},
		{"release by tag", s.URL + "/api/v3/repos/kubernetes/kubernetes/releases/tags/v1.30.0"},
		{"contents", s.URL + "/repos/o/r/contents/a.md"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			first := get(t, tc.url)
			etag := first.header.Get("ETag")
			if first.status != 200 || !strings.HasPrefix(etag, `"`) {
				t.Fatalf("first: %d ETag %q", first.status, etag)
			}
			remaining := first.header.Get("X-RateLimit-Remaining")
			for _, inm := range []string{etag, "W/" + etag, `"other", ` + etag} {
				r := get(t, tc.url, "If-None-Match", inm)
				if r.status != 304 || len(r.body) != 0 {
					t.Errorf("If-None-Match %s: %d with %d bytes, want an empty 304", inm, r.status, len(r.body))
				}
				if r.header.Get("X-RateLimit-Remaining") != remaining {
					t.Errorf("a 304 used quota: remaining %s → %s", remaining, r.header.Get("X-RateLimit-Remaining"))
				}
				if r.header.Get("Link") != first.header.Get("Link") {
					t.Errorf("304 Link = %q, want %q", r.header.Get("Link"), first.header.Get("Link"))
				}
			}
			if r := get(t, tc.url, "If-Modified-Since", first.header.Get("Last-Modified")); r.status != 304 {
				t.Errorf("If-Modified-Since: %d, want 304", r.status)
			}
			if r := get(t, tc.url, "If-None-Match", `"stale"`); r.status != 200 {
				t.Errorf("stale ETag: %d, want 200", r.status)
			}
		})
	}
	// A change gives a new ETag.
	before := get(t, s.URL+"/repos/o/r/contents/a.md").header.Get("ETag")
	s.SetFile("o/r/a.md", []byte("# a, revised\n"))
	if r := get(t, s.URL+"/repos/o/r/contents/a.md", "If-None-Match", before); r.status != 200 {
		t.Errorf("after SetFile: %d, want 200", r.status)
	}
}

func TestContents(t *testing.T) {
	big := bytes.Repeat([]byte("- an entry of a large fixture changelog\n"), 30000) // > 1 MB
	s := githubtest.New(t, githubtest.Options{Files: map[string][]byte{
		"kubernetes/kubernetes/CHANGELOG/CHANGELOG-1.30.md": []byte("# v1.30.0\n"),
		"kubernetes/kubernetes/CHANGELOG/CHANGELOG-1.99.md": big,
	}})
	tests := []struct {
		name, path   string
		want         []byte
		wantEncoding string
	}{
		{"small", "CHANGELOG/CHANGELOG-1.30.md", []byte("# v1.30.0\n"), "base64"},
		{"over 1 MB", "CHANGELOG/CHANGELOG-1.99.md", big, "none"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := s.URL + "/api/v3/repos/kubernetes/kubernetes/contents/" + tc.path + "?ref=master"
			raw := get(t, u, "Accept", "application/vnd.github.raw")
			if raw.status != 200 || !bytes.Equal(raw.body, tc.want) {
				t.Errorf("raw: %d, %d bytes, want %d bytes", raw.status, len(raw.body), len(tc.want))
			}
			j := get(t, u)
			var c struct {
				Type, Encoding, Content, Path string
				Size                          int
			}
			if err := json.Unmarshal(j.body, &c); err != nil {
				t.Fatal(err)
			}
			if c.Type != "file" || c.Encoding != tc.wantEncoding || c.Size != len(tc.want) || c.Path != tc.path {
				t.Errorf("JSON form = %+v", c)
			}
			if c.Encoding == "base64" {
				dec, err := base64.StdEncoding.DecodeString(c.Content)
				if err != nil || !bytes.Equal(dec, tc.want) {
					t.Errorf("base64 content = %q, %v", dec, err)
				}
			}
		})
	}
}

func TestNotFound(t *testing.T) {
	s := githubtest.New(t, githubtest.Options{Releases: fixtureReleases(t)})
	for _, p := range []string{"/repos/o/r/contents/missing.md", "/repos/kubernetes/kubernetes/releases/tags/v9.9.9", "/nothing/here", "/api/v3/users/x"} {
		t.Run(p, func(t *testing.T) {
			r := get(t, s.URL+p)
			var e struct{ Message, DocumentationURL string }
			json.Unmarshal(r.body, &e)
			if r.status != 404 || e.Message != "Not Found" {
				t.Errorf("%s: %d %s", p, r.status, r.body)
			}
			if r.header.Get("X-RateLimit-Limit") != "5000" {
				t.Errorf("rate headers missing on 404: %v", r.header)
			}
		})
	}
	if r := get(t, s.URL+"/repos/nobody/none/releases"); r.status != 200 || string(r.body) != "[]" {
		t.Errorf("repository without releases: %d %s", r.status, r.body)
	}
}

func TestRateLimit(t *testing.T) {
	s := githubtest.New(t, githubtest.Options{RateLimit: 2, Releases: fixtureReleases(t)})
	u := s.URL + "/repos/kubernetes/kubernetes/releases"
	r1 := get(t, u)
	r2 := get(t, u, "If-None-Match", r1.header.Get("ETag"))
	r3 := get(t, u)
	r4 := get(t, u)
	got := []string{r1.header.Get("X-RateLimit-Remaining"), r2.header.Get("X-RateLimit-Remaining"), r3.header.Get("X-RateLimit-Remaining"), r4.header.Get("X-RateLimit-Remaining")}
	if strings.Join(got, ",") != "1,1,0,0" {
		t.Errorf("remaining = %v, want 1,1,0,0 (a 304 is free)", got)
	}
	if r4.status != 403 || !strings.Contains(string(r4.body), "rate limit exceeded") {
		t.Errorf("over quota: %d %s", r4.status, r4.body)
	}
	if r1.header.Get("X-RateLimit-Resource") != "core" || r3.header.Get("X-RateLimit-Used") != "2" {
		t.Errorf("headers = %v", r3.header)
	}
	reset, _ := strconv.ParseInt(r4.header.Get("X-RateLimit-Reset"), 10, 64)
	if time.Unix(reset, 0).Before(time.Now()) {
		t.Errorf("reset %d is not in the future", reset)
	}
}

func TestBehaviours(t *testing.T) {
	reset := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		b         githubtest.Behaviour
		check     func(t *testing.T, r reply)
		wantCount int // recorded status
	}{
		{name: "status", b: githubtest.Status(502), check: func(t *testing.T, r reply) {
			if r.status != 502 {
				t.Errorf("status %d", r.status)
			}
		}, wantCount: 502},
		{name: "retry-after 403", b: githubtest.RetryAfter(403, 9), check: func(t *testing.T, r reply) {
			if r.status != 403 || r.header.Get("Retry-After") != "9" || !strings.Contains(string(r.body), "secondary-rate-limits") {
				t.Errorf("%d %v %s", r.status, r.header, r.body)
			}
		}, wantCount: 403},
		{name: "retry-after 429", b: githubtest.RetryAfter(429, 1), check: func(t *testing.T, r reply) {
			if r.status != 429 || r.header.Get("Retry-After") != "1" {
				t.Errorf("%d %v", r.status, r.header)
			}
		}, wantCount: 429},
		{name: "primary exhausted", b: githubtest.PrimaryExhausted(reset), check: func(t *testing.T, r reply) {
			if r.status != 403 || r.header.Get("X-RateLimit-Remaining") != "0" || r.header.Get("X-RateLimit-Reset") != strconv.FormatInt(reset.Unix(), 10) || r.header.Get("Retry-After") != "" {
				t.Errorf("%d %v", r.status, r.header)
			}
		}, wantCount: 403},
		{name: "malformed JSON", b: githubtest.MalformedJSON(), check: func(t *testing.T, r reply) {
			var v any
			if r.status != 200 || json.Unmarshal(r.body, &v) == nil {
				t.Errorf("%d %s: want 200 with invalid JSON", r.status, r.body)
			}
		}, wantCount: 200},
		{name: "truncated", b: githubtest.TruncatedBody(), check: func(t *testing.T, r reply) {
			if r.err == nil {
				t.Errorf("read %d bytes without error", len(r.body))
			}
		}, wantCount: 200},
		{name: "disconnect", b: githubtest.Disconnect(), check: func(t *testing.T, r reply) {
			if r.err == nil {
				t.Error("no connection error")
			}
		}},
		{name: "body", b: githubtest.Body([]byte(`[{"tag_name":"v1.0.0"}]`)), check: func(t *testing.T, r reply) {
			if r.status != 200 || string(r.body) != `[{"tag_name":"v1.0.0"}]` {
				t.Errorf("%d %s", r.status, r.body)
			}
		}, wantCount: 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := githubtest.New(t, githubtest.Options{Releases: fixtureReleases(t)})
			s.Fail("/repos/kubernetes/kubernetes/releases", tc.b)
			u := s.URL + "/api/v3/repos/kubernetes/kubernetes/releases"
			tc.check(t, get(t, u))
			if r := get(t, u); r.status != 200 || r.err != nil {
				t.Errorf("after the queue: %d %v, want 200", r.status, r.err)
			}
			reqs := s.Requests()
			if len(reqs) != 2 || reqs[0].Status != tc.wantCount || reqs[0].Path != "/api/v3/repos/kubernetes/kubernetes/releases" {
				t.Errorf("recorded %+v", reqs)
			}
		})
	}
}

func TestHang(t *testing.T) {
	s := githubtest.New(t, githubtest.Options{})
	s.Fail("/repos/", githubtest.Hang())
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/repos/o/r/releases", nil)
	_, err := http.DefaultClient.Do(req)
	if err == nil || ctx.Err() == nil {
		t.Fatalf("err = %v: want the client's deadline to end the request", err)
	}
}

func TestFailPrefixAndRecording(t *testing.T) {
	s := githubtest.New(t, githubtest.Options{Files: map[string][]byte{"o/r/f": []byte("x")}})
	s.Fail("/repos/o/r/contents/", githubtest.Status(500), githubtest.Status(503))
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/repos/o/r/releases?per_page=100", nil)
	req.Header.Set("Authorization", "Bearer fixture-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var statuses []int
	for range 3 {
		statuses = append(statuses, get(t, s.URL+"/repos/o/r/contents/f").status)
	}
	if got := strconv.Itoa(statuses[0]) + strconv.Itoa(statuses[1]) + strconv.Itoa(statuses[2]); got != "500503200" {
		t.Errorf("statuses = %v, want 500 503 200", statuses)
	}
	reqs := s.Requests()
	if !reqs[0].Authorization || reqs[0].Query != "per_page=100" || reqs[1].Authorization {
		t.Errorf("recorded %+v", reqs[:2])
	}
	total, ok, nm := s.Counts()
	if total != 4 || ok != 2 || nm != 0 {
		t.Errorf("Counts = %d %d %d", total, ok, nm)
	}
	s.ResetCounts()
	if total, _, _ := s.Counts(); total != 0 {
		t.Errorf("after ResetCounts: %d", total)
	}
}
