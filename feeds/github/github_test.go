package github_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/kubedrift/kubedrift/feeds/fetch"
	"github.com/kubedrift/kubedrift/feeds/github"
	"github.com/kubedrift/kubedrift/feeds/github/githubtest"
	"github.com/kubedrift/kubedrift/tracker"
)

// memValidators stands in for the store's ValidatorSource.
type memValidators struct {
	mu sync.Mutex
	m  map[string]fetch.Validator
}

func (s *memValidators) Validator(_ context.Context, url string) (string, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.m[url]
	return v.ETag, v.LastModified, nil
}

func (s *memValidators) put(vs ...fetch.Validator) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]fetch.Validator{}
	}
	for _, v := range vs {
		s.m[v.URL] = v
	}
}

// rig is a Client wired to a fake GitHub as cmd wires it to the real one.
type rig struct {
	srv    *githubtest.Server
	client *github.Client
	tr     *fetch.Transport
	store  *memValidators
	logs   *bytes.Buffer

	mu     sync.Mutex
	sleeps []time.Duration
}

func (r *rig) waits() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Duration(nil), r.sleeps...)
}

func newRig(t *testing.T, opt githubtest.Options, fo fetch.Options, token string) *rig {
	t.Helper()
	r := &rig{srv: githubtest.New(t, opt), store: &memValidators{}, logs: &bytes.Buffer{}}
	fo.Validators = r.store
	fo.Logger = slog.New(slog.NewTextHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	fo.Sleep = func(ctx context.Context, d time.Duration) error {
		r.mu.Lock()
		r.sleeps = append(r.sleeps, d)
		r.mu.Unlock()
		return ctx.Err()
	}
	r.tr = fetch.NewTransport(fo)
	t.Cleanup(r.tr.CloseIdleConnections)
	c, err := github.New(github.Options{BaseURL: r.srv.URL, Token: token, HTTPClient: &http.Client{Transport: r.tr}})
	if err != nil {
		t.Fatal(err)
	}
	r.client = c
	return r
}

func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("no go.mod above the package directory; cannot locate ../shared/corpus")
		}
		dir = parent
	}
}

// corpusFile reads a file of ../shared/corpus, skipping when it is absent.
func corpusFile(t testing.TB, rel string) []byte {
	t.Helper()
	root := repoRoot(t)
	p := filepath.Join(root, "..", "shared", "corpus", filepath.FromSlash(rel))
	b, err := os.ReadFile(p)
	if err != nil {
		t.Skipf("upstream corpus file %s not available (only in the project's shared workspace): %v", p, err)
	}
	return b
}

func TestListReleasesCorpus(t *testing.T) {
	tsv := corpusFile(t, "kubernetes/releases.tsv")
	rels, err := githubtest.ReleasesFromTSV(tsv)
	if err != nil {
		t.Fatal(err)
	}
	r := newRig(t, githubtest.Options{Releases: rels}, fetch.Options{}, "")
	ctx := context.Background()

	first, err := r.client.ListReleases(ctx, "kubernetes", "kubernetes")
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Releases) != 210 || len(first.Pages) != 3 || first.NotModified {
		t.Fatalf("first listing: %d releases over %d pages, NotModified=%v; want 210 over 3", len(first.Releases), len(first.Pages), first.NotModified)
	}
	want := map[string]bool{}
	for _, rel := range rels {
		want[rel.Tag] = rel.Prerelease
	}
	for _, rel := range first.Releases {
		pre, ok := want[rel.Version]
		if !ok || pre != rel.Prerelease || rel.Component != tracker.ComponentKubernetes || rel.Tag != rel.Version {
			t.Errorf("release %+v does not match the TSV (known=%v prerelease=%v)", rel.Release, ok, pre)
		}
		delete(want, rel.Version)
	}
	if len(want) != 0 {
		t.Errorf("%d TSV versions missing from the listing", len(want))
	}
	if n := []int{first.Pages[0].Releases, first.Pages[1].Releases, first.Pages[2].Releases}; n[0] != 100 || n[1] != 100 || n[2] != 10 {
		t.Errorf("page sizes = %v, want 100 100 10", n)
	}
	if total, ok, nm := r.srv.Counts(); total != 3 || ok != 3 || nm != 0 {
		t.Errorf("first listing: %d requests, %d×200, %d×304", total, ok, nm)
	}

	r.store.put(first.Validators...)
	r.srv.ResetCounts()
	second, err := r.client.ListReleases(ctx, "kubernetes", "kubernetes")
	if err != nil {
		t.Fatal(err)
	}
	if !second.NotModified || len(second.Releases) != 0 || len(second.Pages) != 3 {
		t.Errorf("second listing: NotModified=%v, %d releases, %d pages; want all 3 pages unchanged", second.NotModified, len(second.Releases), len(second.Pages))
	}
	if total, ok, nm := r.srv.Counts(); total != 3 || ok != 0 || nm != 3 {
		t.Errorf("second listing: %d requests, %d×200, %d×304; want 3 requests, all 304", total, ok, nm)
	}
	for i, v := range second.Validators {
		if v != first.Validators[i] {
			t.Errorf("page %d validator changed on 304: %+v → %+v", i+1, first.Validators[i], v)
		}
	}
	if st := r.tr.Stats(); st.Status304 != 3 || st.Status200 != 3 {
		t.Errorf("transport stats = %+v", st)
	}
}

func TestListReleasesFixture(t *testing.T) {
	tsv, err := os.ReadFile(filepath.Join("githubtest", "testdata", "releases.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	rels, err := githubtest.ReleasesFromTSV(tsv)
	if err != nil {
		t.Fatal(err)
	}
	published := time.Date(2025, 4, 23, 17, 30, 0, 0, time.UTC)
	extra := []githubtest.Release{
		{Owner: "kubernetes", Repo: "kubernetes", Tag: "v1.31.0-rc.0", Draft: true},
		{Owner: "kubernetes-sigs", Repo: "kind", Tag: "v0.27.0", PublishedAt: published, Body: "Fixture body: kind release."},
		{Owner: "kubernetes-sigs", Repo: "kind", Tag: "0.28.0", Prerelease: true, PublishedAt: published.Add(time.Hour)},
		{Owner: "kubernetes-sigs", Repo: "kind", Tag: "v0.29.0-preview.1", PublishedAt: published.Add(2 * time.Hour)},
		{Owner: "kubernetes-sigs", Repo: "kind", Tag: "nightly", PublishedAt: published.Add(3 * time.Hour)},
	}
	r := newRig(t, githubtest.Options{Releases: append(rels, extra...)}, fetch.Options{}, "")
	ctx := context.Background()
	c, err := github.New(github.Options{BaseURL: r.srv.URL, HTTPClient: &http.Client{Transport: r.tr}, PerPage: 2})
	if err != nil {
		t.Fatal(err)
	}

	k8s, err := c.ListReleases(ctx, "kubernetes", "kubernetes")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, rel := range k8s.Releases {
		got = append(got, rel.Version)
	}
	if strings.Join(got, " ") != "v1.31.0-beta.0 v1.30.1 v1.30.0 v1.30.0-rc.0 v1.30.0-alpha.1" {
		t.Errorf("kubernetes releases = %v (the draft must be skipped)", got)
	}
	if len(k8s.Pages) != 3 {
		t.Errorf("pages = %d, want 3 of 2 (draft included on the server)", len(k8s.Pages))
	}

	kind, err := c.ListReleases(ctx, "kubernetes-sigs", "kind")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		tag, version string
		pre          bool
		date         time.Time
	}{
		{"v0.29.0-preview.1", "v0.29.0-preview.1", true, published.Add(2 * time.Hour)},
		{"0.28.0", "v0.28.0", true, published.Add(time.Hour)},
		{"v0.27.0", "v0.27.0", false, published},
	}
	if len(kind.Releases) != len(tests) {
		t.Fatalf("kind releases = %+v", kind.Releases)
	}
	for i, tc := range tests {
		t.Run(tc.tag, func(t *testing.T) {
			rel := kind.Releases[i]
			if rel.Tag != tc.tag || rel.Version != tc.version || rel.Prerelease != tc.pre || !rel.Date.Equal(tc.date) ||
				rel.Component != "kind" || rel.URL != "https://github.com/kubernetes-sigs/kind/releases/tag/"+tc.tag {
				t.Errorf("got %+v", rel)
			}
		})
	}
	if kind.Releases[2].Body != "Fixture body: kind release." {
		t.Errorf("body = %q", kind.Releases[2].Body)
	}
	if len(kind.Problems) != 1 || !strings.Contains(kind.Problems[0].Error(), "nightly") || !strings.Contains(kind.Problems[0].Error(), "/repos/kubernetes-sigs/kind/releases") {
		t.Errorf("problems = %v, want one naming the tag nightly and the URL", kind.Problems)
	}

	// A new release changes the first page; the listing is no longer "not modified".
	r.store.put(k8s.Validators...)
	r.srv.AddRelease(githubtest.Release{Owner: "kubernetes", Repo: "kubernetes", Tag: "v1.31.0"})
	again, err := c.ListReleases(ctx, "kubernetes", "kubernetes")
	if err != nil {
		t.Fatal(err)
	}
	if again.NotModified || again.Pages[0].NotModified || again.Releases[0].Version != "v1.31.0" {
		t.Errorf("after a new release: %+v", again.Pages)
	}
}

func TestGetReleaseByTag(t *testing.T) {
	published := time.Date(2025, 6, 17, 12, 0, 0, 0, time.UTC)
	r := newRig(t, githubtest.Options{Releases: []githubtest.Release{
		{Owner: "kubernetes", Repo: "kubernetes", Tag: "v1.33.2", PublishedAt: published, Body: "Fixture patch notes."},
	}}, fetch.Options{}, "")
	ctx := context.Background()

	rel, v, nm, err := r.client.GetReleaseByTag(ctx, "kubernetes", "kubernetes", "v1.33.2")
	if err != nil || nm {
		t.Fatalf("first: notModified=%v err=%v", nm, err)
	}
	if rel.Version != "v1.33.2" || rel.Body != "Fixture patch notes." || !rel.Date.Equal(published) || rel.Prerelease || v.ETag == "" {
		t.Errorf("release %+v validator %+v", rel, v)
	}
	r.store.put(v)
	_, v2, nm, err := r.client.GetReleaseByTag(ctx, "kubernetes", "kubernetes", "v1.33.2")
	if err != nil || !nm || v2.ETag != v.ETag {
		t.Errorf("repeat: notModified=%v err=%v validator=%+v", nm, err, v2)
	}
	rel, _, nm, err = r.client.GetReleaseByTag(fetch.WithForce(ctx), "kubernetes", "kubernetes", "v1.33.2")
	if err != nil || nm || rel.Version != "v1.33.2" {
		t.Errorf("forced: notModified=%v err=%v", nm, err)
	}
	_, _, _, err = r.client.GetReleaseByTag(ctx, "kubernetes", "kubernetes", "v9.9.9")
	var er *gh.ErrorResponse
	if !errors.As(err, &er) || er.Response.StatusCode != 404 || !strings.Contains(err.Error(), "v9.9.9") || !strings.Contains(err.Error(), r.srv.URL) {
		t.Errorf("missing tag: %v", err)
	}
	if _, limited := github.IsRateLimited(err); limited {
		t.Error("a 404 reported as rate limited")
	}
}

func TestRawFile(t *testing.T) {
	big := bytes.Repeat([]byte("- A generated fixture entry for a large changelog ([#1](https://example.test/1), [@dev](https://example.test/dev)) [SIG Node]\n"), 10000)
	small := []byte("# v1.30.0\n\n## Changes by Kind\n\n### Bug or Regression\n\n- Fixture entry. (#123, @someone)\n")
	files := map[string][]byte{
		"kubernetes/kubernetes/CHANGELOG/CHANGELOG-1.30.md": small,
		"kubernetes/kubernetes/CHANGELOG/CHANGELOG-1.99.md": big,
	}
	tests := []struct {
		name string
		path string
		ref  string
		want func(t *testing.T) []byte
	}{
		{"hand-written", github.ChangelogPath(tracker.Minor{Major: 1, Minor: 30}), "", func(*testing.T) []byte { return small }},
		{"generated over 1 MB", "CHANGELOG/CHANGELOG-1.99.md", "master", func(*testing.T) []byte { return big }},
		{"real 1.25 changelog", github.ChangelogPath(tracker.Minor{Major: 1, Minor: 25}), "v1.25.0", func(t *testing.T) []byte {
			return corpusFile(t, "kubernetes/CHANGELOG-1.25.md")
		}},
	}
	if len(big) <= 1<<20 {
		t.Fatalf("generated file is only %d bytes", len(big))
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.want(t)
			r := newRig(t, githubtest.Options{Files: files}, fetch.Options{}, "")
			r.srv.SetFile("kubernetes/kubernetes/CHANGELOG/CHANGELOG-1.25.md", want)
			ctx := context.Background()
			b, v, nm, err := r.client.RawFile(ctx, "kubernetes", "kubernetes", tc.path, tc.ref)
			if err != nil || nm {
				t.Fatalf("notModified=%v err=%v", nm, err)
			}
			if !bytes.Equal(b, want) {
				t.Fatalf("got %d bytes, want %d", len(b), len(want))
			}
			req := r.srv.Requests()[0]
			if req.Accept != "application/vnd.github.raw" || req.Path != "/api/v3/repos/kubernetes/kubernetes/contents/"+tc.path {
				t.Errorf("request %+v", req)
			}
			if tc.ref != "" && req.Query != "ref="+tc.ref {
				t.Errorf("query %q, want ref=%s", req.Query, tc.ref)
			}
			r.store.put(v)
			b, _, nm, err = r.client.RawFile(ctx, "kubernetes", "kubernetes", tc.path, tc.ref)
			if err != nil || !nm || b != nil {
				t.Errorf("repeat: notModified=%v body=%d bytes err=%v", nm, len(b), err)
			}
			if _, ok, n304 := r.srv.Counts(); ok != 1 || n304 != 1 {
				t.Errorf("counts: %d×200 %d×304", ok, n304)
			}
		})
	}
	t.Run("missing", func(t *testing.T) {
		r := newRig(t, githubtest.Options{}, fetch.Options{}, "")
		_, _, _, err := r.client.RawFile(context.Background(), "kubernetes", "website", "data/releases/schedule.yaml", "main")
		if err == nil || !strings.Contains(err.Error(), "data/releases/schedule.yaml") || !strings.Contains(err.Error(), "404") {
			t.Errorf("error = %v", err)
		}
	})
}

func TestPrimaryRateLimit(t *testing.T) {
	reset := time.Now().Add(40 * time.Minute).Truncate(time.Second)
	r := newRig(t, githubtest.Options{Releases: []githubtest.Release{{Owner: "kubernetes", Repo: "kubernetes", Tag: "v1.30.0"}},
		Files: map[string][]byte{"kubernetes/kubernetes/CHANGELOG/CHANGELOG-1.30.md": []byte("x")}}, fetch.Options{}, "")
	r.srv.Fail("/repos/", githubtest.PrimaryExhausted(reset))
	ctx := context.Background()

	_, err := r.client.ListReleases(ctx, "kubernetes", "kubernetes")
	at, ok := github.IsRateLimited(err)
	if !ok || !at.Equal(reset) {
		t.Fatalf("IsRateLimited(%v) = %v, %v; want reset %v", err, at, ok, reset)
	}
	if rs := r.client.Rate(); rs.Remaining != 0 || !rs.Reset.Equal(reset) || rs.Limit != 5000 {
		t.Errorf("Rate() = %+v", rs)
	}
	// Until the reset no request leaves the process: not the same listing,
	// not another endpoint of the core quota.
	_, err = r.client.ListReleases(ctx, "kubernetes", "kubernetes")
	if _, ok := github.IsRateLimited(err); !ok {
		t.Errorf("second call: %v, want rate limited", err)
	}
	_, _, _, err = r.client.RawFile(ctx, "kubernetes", "kubernetes", "CHANGELOG/CHANGELOG-1.30.md", "")
	if _, ok := github.IsRateLimited(err); !ok {
		t.Errorf("RawFile: %v, want rate limited", err)
	}
	if total, _, _ := r.srv.Counts(); total != 1 {
		t.Errorf("server saw %d requests, want 1", total)
	}
	if len(r.waits()) != 0 || r.tr.Stats().Retries != 0 {
		t.Errorf("waited %v / retried %d on an exhausted primary limit", r.waits(), r.tr.Stats().Retries)
	}
}

func TestTransientFailures(t *testing.T) {
	tests := []struct {
		name      string
		fail      []githubtest.Behaviour
		wantWaits []time.Duration // exact, when set
		wantHits  int
	}{
		{name: "secondary 403 retry-after", fail: []githubtest.Behaviour{githubtest.RetryAfter(403, 7)}, wantWaits: []time.Duration{7 * time.Second}, wantHits: 2},
		{name: "secondary 429 retry-after", fail: []githubtest.Behaviour{githubtest.RetryAfter(429, 11)}, wantWaits: []time.Duration{11 * time.Second}, wantHits: 2},
		{name: "500 then 200", fail: []githubtest.Behaviour{githubtest.Status(500)}, wantHits: 2},
		{name: "connection dropped", fail: []githubtest.Behaviour{githubtest.Disconnect()}, wantHits: 2},
		{name: "truncated once", fail: []githubtest.Behaviour{githubtest.TruncatedBody()}, wantHits: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, githubtest.Options{Releases: []githubtest.Release{{Owner: "kubernetes", Repo: "kubernetes", Tag: "v1.30.0"}}}, fetch.Options{}, "")
			r.srv.Fail("/repos/kubernetes/kubernetes/releases", tc.fail...)
			res, err := r.client.ListReleases(context.Background(), "kubernetes", "kubernetes")
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Releases) != 1 {
				t.Errorf("releases = %+v", res.Releases)
			}
			if total, _, _ := r.srv.Counts(); total != tc.wantHits {
				t.Errorf("server saw %d requests, want %d", total, tc.wantHits)
			}
			waits := r.waits()
			if len(waits) != tc.wantHits-1 {
				t.Errorf("waits = %v, want %d", waits, tc.wantHits-1)
			}
			for i, w := range tc.wantWaits {
				if i < len(waits) && waits[i] != w {
					t.Errorf("wait %d = %s, want %s", i, waits[i], w)
				}
			}
			if st := r.tr.Stats(); st.Retries != int64(tc.wantHits-1) {
				t.Errorf("retries = %d", st.Retries)
			}
		})
	}
}

func TestBadResponses(t *testing.T) {
	tests := []struct {
		name string
		fail []githubtest.Behaviour
		fo   fetch.Options
		want []string
		is   func(error) bool
	}{
		{name: "malformed JSON", fail: []githubtest.Behaviour{githubtest.MalformedJSON()}, want: []string{"list releases of kubernetes/kubernetes page 1", "/api/v3/repos/kubernetes/kubernetes/releases"}},
		{name: "truncated every attempt", fo: fetch.Options{MaxAttempts: 2},
			fail: []githubtest.Behaviour{githubtest.TruncatedBody(), githubtest.TruncatedBody()},
			want: []string{"/api/v3/repos/kubernetes/kubernetes/releases", "giving up after 2 attempts", "reading body"}},
		{name: "hanging server", fo: fetch.Options{MaxAttempts: 2, Timeout: 50 * time.Millisecond},
			fail: []githubtest.Behaviour{githubtest.Hang(), githubtest.Hang()},
			want: []string{"/api/v3/repos/kubernetes/kubernetes/releases", "timed out after 50ms"},
			is:   func(err error) bool { return errors.Is(err, context.DeadlineExceeded) }},
		{name: "retry-after beyond the limit", fo: fetch.Options{MaxRetryAfter: time.Minute},
			fail: []githubtest.Behaviour{githubtest.RetryAfter(429, 3600)},
			want: []string{"1h0m0s"},
			is: func(err error) bool {
				at, ok := github.IsRateLimited(err)
				return ok && time.Until(at) > 59*time.Minute
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, githubtest.Options{Releases: []githubtest.Release{{Owner: "kubernetes", Repo: "kubernetes", Tag: "v1.30.0"}}}, tc.fo, "")
			r.srv.Fail("/repos/kubernetes/kubernetes/releases", tc.fail...)
			_, err := r.client.ListReleases(context.Background(), "kubernetes", "kubernetes")
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if tc.is != nil && !tc.is(err) {
				t.Errorf("error %v has the wrong type", err)
			}
		})
	}
}

func TestTokenNeverLeaks(t *testing.T) {
	const token = "ghp_FixtureTokenValue0123456789"
	r := newRig(t, githubtest.Options{Releases: []githubtest.Release{{Owner: "kubernetes", Repo: "kubernetes", Tag: "v1.30.0"}}},
		fetch.Options{MaxAttempts: 2}, token)
	r.srv.Fail("/repos/kubernetes/kubernetes/releases", githubtest.Status(500), githubtest.Status(502))
	r.srv.Fail("/repos/kubernetes/kubernetes/releases/tags/", githubtest.MalformedJSON())
	ctx := context.Background()
	var errs []error
	_, err := r.client.ListReleases(ctx, "kubernetes", "kubernetes")
	errs = append(errs, err)
	_, _, _, err = r.client.GetReleaseByTag(ctx, "kubernetes", "kubernetes", "v1.30.0")
	errs = append(errs, err)
	_, _, _, err = r.client.RawFile(ctx, "kubernetes", "kubernetes", "missing.md", "")
	errs = append(errs, err)
	_, err = r.client.ListReleases(ctx, "kubernetes", "kubernetes")
	if err != nil {
		t.Fatalf("third listing: %v", err)
	}
	for i, e := range errs {
		if e == nil {
			t.Errorf("call %d: no error", i+1)
			continue
		}
		if strings.Contains(e.Error(), token) {
			t.Errorf("error leaks the token: %v", e)
		}
	}
	for _, req := range r.srv.Requests() {
		if !req.Authorization {
			t.Errorf("request %s %s carried no Authorization", req.Method, req.Path)
		}
	}
	if !strings.Contains(r.logs.String(), "retrying") {
		t.Errorf("expected a logged retry, got %q", r.logs.String())
	}
	if strings.Contains(r.logs.String(), token) {
		t.Errorf("logs leak the token:\n%s", r.logs.String())
	}
}

func TestEnterpriseBaseURL(t *testing.T) {
	srv := githubtest.New(t, githubtest.Options{Releases: []githubtest.Release{{Owner: "kubernetes", Repo: "kubernetes", Tag: "v1.30.0"}}})
	for _, base := range []string{srv.URL, srv.URL + "/", srv.URL + "/api/v3/"} {
		t.Run(base, func(t *testing.T) {
			srv.ResetCounts()
			c, err := github.New(github.Options{BaseURL: base})
			if err != nil {
				t.Fatal(err)
			}
			res, err := c.ListReleases(context.Background(), "kubernetes", "kubernetes")
			if err != nil || len(res.Releases) != 1 {
				t.Fatalf("%v %+v", err, res)
			}
			if p := srv.Requests()[0].Path; p != "/api/v3/repos/kubernetes/kubernetes/releases" {
				t.Errorf("path = %s", p)
			}
			if rs := c.Rate(); rs.Limit != 5000 || rs.Remaining <= 0 || rs.Reset.IsZero() {
				t.Errorf("Rate() = %+v", rs)
			}
		})
	}
	if _, err := github.New(github.Options{BaseURL: "http://[::1"}); err == nil {
		t.Error("invalid base URL accepted")
	}
}

func TestChangelogPath(t *testing.T) {
	tests := []struct {
		m    tracker.Minor
		want string
	}{
		{tracker.Minor{Major: 1, Minor: 25}, "CHANGELOG/CHANGELOG-1.25.md"},
		{tracker.Minor{Major: 1, Minor: 9}, "CHANGELOG/CHANGELOG-1.9.md"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			if got := github.ChangelogPath(tc.m); got != tc.want {
				t.Errorf("got %s", got)
			}
		})
	}
}

func TestIsRateLimited(t *testing.T) {
	reset := time.Unix(1900000000, 0)
	retry := 30 * time.Second
	hdr := http.Header{"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {"1900000000"}}
	tests := []struct {
		name   string
		err    error
		want   bool
		wantAt func(time.Time) bool
	}{
		{"primary", &gh.RateLimitError{Rate: gh.Rate{Reset: gh.Timestamp{Time: reset}}}, true, func(at time.Time) bool { return at.Equal(reset) }},
		{"secondary", &gh.AbuseRateLimitError{RetryAfter: &retry}, true, func(at time.Time) bool { return time.Until(at) > 20*time.Second }},
		{"429 with remaining 0", &gh.ErrorResponse{Response: &http.Response{StatusCode: 429, Header: hdr}}, true, func(at time.Time) bool { return at.Equal(reset) }},
		{"fetch retry-after", &fetch.RetryAfterError{At: reset}, true, func(at time.Time) bool { return at.Equal(reset) }},
		{"wrapped", errors.Join(errors.New("sync"), &gh.RateLimitError{Rate: gh.Rate{Reset: gh.Timestamp{Time: reset}}}), true, func(at time.Time) bool { return at.Equal(reset) }},
		{"429 retry-after", &gh.ErrorResponse{Response: &http.Response{StatusCode: 429, Header: http.Header{"Retry-After": {"120"}}}}, true,
			func(at time.Time) bool { return time.Until(at) > 100*time.Second }},
		{"plain 403", &gh.ErrorResponse{Response: &http.Response{StatusCode: 403, Header: http.Header{}}}, false, nil},
		{"404", &gh.ErrorResponse{Response: &http.Response{StatusCode: 404, Header: http.Header{}}}, false, nil},
		{"nil", nil, false, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			at, ok := github.IsRateLimited(tc.err)
			if ok != tc.want || (tc.wantAt != nil && !tc.wantAt(at)) {
				t.Errorf("got %v, %v", at, ok)
			}
		})
	}
}

func BenchmarkListReleases210(b *testing.B) {
	tsv := corpusFile(b, "kubernetes/releases.tsv")
	rels, err := githubtest.ReleasesFromTSV(tsv)
	if err != nil {
		b.Fatal(err)
	}
	srv := githubtest.New(b, githubtest.Options{Releases: rels, RateLimit: 1 << 30})
	for _, conditional := range []bool{false, true} {
		name := "full"
		if conditional {
			name = "all-304"
		}
		b.Run(name, func(b *testing.B) {
			store := &memValidators{}
			tr := fetch.NewTransport(fetch.Options{Validators: store})
			defer tr.CloseIdleConnections()
			c, err := github.New(github.Options{BaseURL: srv.URL, HTTPClient: &http.Client{Transport: tr}})
			if err != nil {
				b.Fatal(err)
			}
			if conditional {
				res, err := c.ListReleases(context.Background(), "kubernetes", "kubernetes")
				if err != nil {
					b.Fatal(err)
				}
				store.put(res.Validators...)
			}
			for b.Loop() {
				res, err := c.ListReleases(context.Background(), "kubernetes", "kubernetes")
				if err != nil || res.NotModified != conditional {
					b.Fatalf("%v NotModified=%v", err, res.NotModified)
				}
			}
		})
	}
}
