package main

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kubedrift/kubedrift/data"
	"github.com/kubedrift/kubedrift/feeds/github/githubtest"
	"github.com/kubedrift/kubedrift/tracker"
)

// cveServer serves OSV records (as a zip) and the CVE feed with ETags, like a
// static file host.
type cveServer struct {
	*httptest.Server
	mu     sync.Mutex
	files  map[string][]byte
	ok200  atomic.Int64
	n304   atomic.Int64
	failed atomic.Int64
}

func newCVEServer(t testing.TB, files map[string][]byte) *cveServer {
	s := &cveServer{files: files}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		b, ok := s.files[r.URL.Path]
		s.mu.Unlock()
		if !ok {
			s.failed.Add(1)
			http.NotFound(w, r)
			return
		}
		sum := sha256.Sum256(b)
		etag := `"` + hex.EncodeToString(sum[:8]) + `"`
		w.Header().Set("ETag", etag)
		if r.Header.Get("If-None-Match") == etag {
			s.n304.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		s.ok200.Add(1)
		w.Write(b)
	}))
	t.Cleanup(s.Close)
	return s
}

func zipDir(t testing.TB, dir string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		w, err := zw.Create(e.Name())
		if err != nil {
			t.Fatal(err)
		}
		w.Write(readFile(t, filepath.Join(dir, e.Name())))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// generatedChangelog writes a small changelog for a minor the corpus has no
// file for: one release heading per version with one note each.
func generatedChangelog(versions []string) []byte {
	var b strings.Builder
	for i, v := range versions {
		fmt.Fprintf(&b, "# %s\n\n## Changes by Kind\n\n### Bug or Regression\n\n- kubedrift fixture note %d for %s. ([#%d](https://github.com/kubernetes/kubernetes/pull/%d), [@tester](https://github.com/tester)) [SIG Testing]\n\n", v, i, v, 900000+i, 900000+i)
	}
	return []byte(b.String())
}

type upstreamFake struct {
	gh      *githubtest.Server
	cve     *cveServer
	minors  int
	args    []string
	release int
}

// newUpstreamFake serves the real corpus: releases from releases.tsv, the real
// 1.25 changelog (generated ones for other minors), the schedule, OSV records
// and the CVE feed.
func newUpstreamFake(t testing.TB) *upstreamFake {
	corpus := corpusDir(t)
	rels, err := githubtest.ReleasesFromTSV(readFile(t, filepath.Join(corpus, "kubernetes", "releases.tsv")))
	if err != nil {
		t.Fatal(err)
	}
	byMinor := map[string][]string{}
	for _, r := range rels {
		v := tracker.MustParseVersion(r.Tag)
		byMinor[v.MinorVersion().String()] = append([]string{r.Tag}, byMinor[v.MinorVersion().String()]...)
	}
	files := map[string][]byte{
		"kubernetes/website/data/releases/schedule.yaml": readFile(t, filepath.Join(corpus, "schedule", "schedule.yaml")),
		"kubernetes/website/data/releases/eol.yaml":      readFile(t, "testdata/eol.yaml"),
	}
	for m, vs := range byMinor {
		key := "kubernetes/kubernetes/CHANGELOG/CHANGELOG-" + m + ".md"
		if m == "1.25" {
			files[key] = readFile(t, filepath.Join(corpus, "kubernetes", "CHANGELOG-1.25.md"))
		} else {
			files[key] = generatedChangelog(vs)
		}
	}
	gh := githubtest.New(t, githubtest.Options{Releases: rels, Files: files})
	cs := newCVEServer(t, map[string][]byte{
		"/osv/all.zip":   zipDir(t, filepath.Join(corpus, "osv")),
		"/feed/cve.json": readFile(t, filepath.Join(corpus, "cve-feed", "official-cve-feed.json")),
	})
	f := &upstreamFake{gh: gh, cve: cs, minors: len(byMinor), release: len(rels)}
	f.args = []string{"--github-api-url", gh.URL + "/", "--osv-url", cs.URL + "/osv/all.zip",
		"--cve-feed-url", cs.URL + "/feed/cve.json", "--changelog-minors", "100", "-o", "json", "--log-level", "error"}
	return f
}

type syncSummary struct {
	Sources []struct {
		Source, Status, Detail, Error string
	} `json:"sources"`
	Requests         int    `json:"requests"`
	NotModified      int    `json:"not_modified"`
	RateLimitedUntil string `json:"rate_limited_until"`
}

func (f *upstreamFake) sync(t testing.TB, store string, extra ...string) (syncSummary, string, int) {
	t.Helper()
	args := append([]string{"sync", "--store", store}, f.args...)
	out, errOut, code := runCLI(t, append(args, extra...)...)
	var s syncSummary
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("sync output is not JSON: %v\nstdout: %s\nstderr: %s", err, out, errOut)
	}
	return s, errOut, code
}

func statusOf(s syncSummary, source string) string {
	for _, r := range s.Sources {
		if r.Source == source {
			return r.Status
		}
	}
	return "absent"
}

func TestSyncConditionalRequests(t *testing.T) {
	f := newUpstreamFake(t)
	store := filepath.Join(t.TempDir(), "kd.db")

	first, stderr, code := f.sync(t, store)
	if code != 0 {
		t.Fatalf("first sync exit %d: %s", code, stderr)
	}
	for _, r := range first.Sources {
		if r.Status != "updated" {
			t.Errorf("first sync: source %s is %s (%s)", r.Source, r.Status, r.Error)
		}
	}
	total, ok200, _ := f.gh.Counts()
	cveReqs := int(f.cve.ok200.Load() + f.cve.n304.Load())
	// Bound from the issue: ceil(releases/100) + minors + schedule files + CVE sources.
	bound := int(math.Ceil(float64(f.release)/100)) + f.minors + 2 + 2
	t.Logf("first sync: %d GitHub requests (%d 200s), %d CVE requests; bound %d", total, ok200, cveReqs, bound)
	if total+cveReqs > bound {
		t.Errorf("first sync made %d requests, want ≤ %d", total+cveReqs, bound)
	}

	st, err := data.Open(context.Background(), store, data.Options{})
	if err != nil {
		t.Fatal(err)
	}
	notes, err := st.Notes(context.Background(), data.NoteFilter{Component: "kubernetes", Versions: []string{"v1.25.0"}})
	if err != nil {
		t.Fatal(err)
	}
	withText := 0
	for _, n := range notes {
		if n.Text != "" {
			withText++
		}
	}
	if len(notes) < 200 || withText != len(notes) {
		t.Errorf("v1.25.0 has %d notes, %d with text; want > 200, all with text after sync", len(notes), withText)
	}
	cves, _ := st.CVEs(context.Background())
	if len(cves) < 47 {
		t.Errorf("store has %d CVEs, want ≥ 47", len(cves))
	}
	windows, _ := st.SupportWindows(context.Background())
	if len(windows) < 6 {
		t.Errorf("store has %d support windows, want ≥ 6 (schedule 1.24–1.27 + eol 1.22, 1.23)", len(windows))
	}
	st.Close()

	f.gh.ResetCounts()
	cve200 := f.cve.ok200.Load()
	second, stderr, code := f.sync(t, store)
	if code != 0 {
		t.Fatalf("second sync exit %d: %s", code, stderr)
	}
	total, ok200, n304 := f.gh.Counts()
	t.Logf("second sync: %d GitHub requests, %d 200s, %d 304s; CVE 200s %d", total, ok200, n304, f.cve.ok200.Load()-cve200)
	if ok200 != 0 || f.cve.ok200.Load() != cve200 {
		t.Errorf("second sync with nothing changed got %d GitHub and %d CVE responses with status 200, want 0", ok200, f.cve.ok200.Load()-cve200)
	}
	for _, r := range second.Sources {
		if r.Status != "unchanged" {
			t.Errorf("second sync: %s is %s, want unchanged", r.Source, r.Status)
		}
	}
	if second.NotModified != second.Requests {
		t.Errorf("second sync: %d requests but %d not modified", second.Requests, second.NotModified)
	}
}

func TestSyncPrimaryRateLimitStopsCycle(t *testing.T) {
	f := newUpstreamFake(t)
	store := filepath.Join(t.TempDir(), "kd.db")
	reset := time.Now().Add(42 * time.Minute).Truncate(time.Second)
	f.gh.Fail("/repos/kubernetes/kubernetes/releases", githubtest.PrimaryExhausted(reset))
	sum, _, code := f.sync(t, store)
	if code != 0 {
		t.Fatalf("exit %d: a seeded store is not empty, so a failed sync is not fatal", code)
	}
	total, _, _ := f.gh.Counts()
	if total != 1 {
		t.Errorf("GitHub saw %d requests after the primary limit was exhausted, want exactly 1", total)
	}
	if got := statusOf(sum, sourceK8sReleases); got != "failed" {
		t.Errorf("releases source %s, want failed", got)
	}
	if got := statusOf(sum, "changelog:1.25"); got != "skipped" {
		t.Errorf("changelog source %s, want skipped", got)
	}
	if got := statusOf(sum, sourceCVE); got != "updated" {
		t.Errorf("CVE source (not GitHub) %s, want updated", got)
	}
	if sum.RateLimitedUntil != reset.UTC().Format("2006-01-02T15:04:05Z") {
		t.Errorf("rate_limited_until %q, want %s", sum.RateLimitedUntil, reset.UTC())
	}
}

func TestSyncFailuresAreIsolated(t *testing.T) {
	f := newUpstreamFake(t)
	store := filepath.Join(t.TempDir(), "kd.db")
	// A 500 then success is retried; a malformed listing, a changelog with
	// no releases and a truncated schedule each fail alone.
	f.gh.Fail("/repos/kubernetes/kubernetes/contents/CHANGELOG/CHANGELOG-1.30.md", githubtest.Status(500))
	f.gh.SetFile("kubernetes/kubernetes/CHANGELOG/CHANGELOG-1.24.md", []byte("# Not a release\n\nnothing here\n"))
	f.gh.Fail("/repos/kubernetes/website/contents/data/releases/eol.yaml", githubtest.MalformedJSON(), githubtest.MalformedJSON(), githubtest.MalformedJSON(), githubtest.MalformedJSON())
	sum, stderr, code := f.sync(t, store)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if got := statusOf(sum, "changelog:1.30"); got != "updated" {
		t.Errorf("changelog 1.30 after one 500: %s, want updated (retried)", got)
	}
	var failedErr string
	for _, r := range sum.Sources {
		if r.Source == "changelog:1.24" {
			failedErr = r.Error
		}
	}
	if statusOf(sum, "changelog:1.24") != "failed" || !strings.Contains(failedErr, "CHANGELOG-1.24.md") {
		t.Errorf("changelog with no releases: status %s, error %q; want failed naming the file", statusOf(sum, "changelog:1.24"), failedErr)
	}
	if statusOf(sum, "changelog:1.25") != "updated" || statusOf(sum, sourceCVE) != "updated" || statusOf(sum, "schedule:schedule.yaml") != "updated" {
		t.Errorf("other sources must still refresh: %+v", sum.Sources)
	}
	st, err := data.Open(context.Background(), store, data.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srcs, _ := st.Sources(context.Background())
	found := false
	for _, s := range srcs {
		if s.Source == "changelog:1.24" && s.LastError != "" {
			found = true
		}
	}
	if !found {
		t.Error("the failed source's error is not recorded in the store")
	}
}

// TestSyncKilledMidway kills a sync child process with SIGKILL while it is
// fetching changelogs, then checks the store opens and the next sync completes.
func TestSyncKilledMidway(t *testing.T) {
	if os.Getenv("KUBEDRIFT_SYNC_CHILD") != "" {
		t.Skip("child")
	}
	f := newUpstreamFake(t)
	store := filepath.Join(t.TempDir(), "kd.db")
	// Slow every changelog down so the kill lands mid-cycle.
	for i := 0; i < 40; i++ {
		f.gh.Fail("/repos/kubernetes/kubernetes/contents/CHANGELOG/", githubtest.Delay(100*time.Millisecond))
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestSyncChild$")
	cmd.Env = append(os.Environ(), "KUBEDRIFT_SYNC_CHILD="+strings.Join(append([]string{"sync", "--store", store}, f.args...), "\x1f"))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		n := 0
		for _, r := range f.gh.Requests() {
			if strings.Contains(r.Path, "CHANGELOG") {
				n++
			}
		}
		if n >= 5 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()

	st, err := data.Open(context.Background(), store, data.Options{})
	if err != nil {
		t.Fatalf("store after kill: %v", err)
	}
	if _, err := st.Notes(context.Background(), data.NoteFilter{}); err != nil {
		t.Fatalf("store unreadable after kill: %v", err)
	}
	st.Close()
	sum, stderr, code := f.sync(t, store)
	if code != 0 {
		t.Fatalf("sync after kill: exit %d: %s", code, stderr)
	}
	for _, r := range sum.Sources {
		if r.Status == "failed" {
			t.Errorf("after kill, source %s failed: %s", r.Source, r.Error)
		}
	}
}

// TestSyncChild is the child half of TestSyncKilledMidway.
func TestSyncChild(t *testing.T) {
	args := os.Getenv("KUBEDRIFT_SYNC_CHILD")
	if args == "" {
		t.Skip("only runs as TestSyncKilledMidway's child")
	}
	var out, errb bytes.Buffer
	run(context.Background(), strings.Split(args, "\x1f"), &out, &errb)
}

// TestSyncRecentReleasesAndExtraRepos checks that a release published in the
// last 14 days has its notes fetched again on every sync (upstream edits
// them), and that an extra repository's release bodies become notes.
func TestSyncRecentReleasesAndExtraRepos(t *testing.T) {
	f := newUpstreamFake(t)
	store := filepath.Join(t.TempDir(), "kd.db")
	recent := time.Now().Add(-3 * 24 * time.Hour)
	f.gh.AddRelease(githubtest.Release{Owner: "kubernetes", Repo: "kubernetes", Tag: "v1.25.1", PublishedAt: recent})
	f.gh.AddRelease(githubtest.Release{Owner: "etcd-io", Repo: "etcd", Tag: "v3.5.9", PublishedAt: recent.Add(-30 * 24 * time.Hour),
		Body: "## Security\n\n- Fix a made-up auth bypass for kubedrift's tests (#16001).\n\n## Bug Fixes\n\n- Fix a made-up leak (#16002).\n"})
	f.gh.AddRelease(githubtest.Release{Owner: "etcd-io", Repo: "etcd", Tag: "v3.5.10", PublishedAt: recent,
		Body: "## Deprecations\n\n- The made-up --legacy flag is deprecated (#16003).\n"})
	if _, stderr, code := f.sync(t, store, "--repo", "etcd-io/etcd"); code != 0 {
		t.Fatalf("first sync: %s", stderr)
	}
	f.gh.ResetCounts()
	sum, stderr, code := f.sync(t, store, "--repo", "etcd-io/etcd")
	if code != 0 {
		t.Fatalf("second sync: %s", stderr)
	}
	forced := map[string]bool{}
	for _, r := range f.gh.Requests() {
		if r.Status == 200 {
			forced[strings.TrimPrefix(r.Path, "/api/v3")] = true
		}
	}
	if !forced["/repos/kubernetes/kubernetes/contents/CHANGELOG/CHANGELOG-1.25.md"] || !forced["/repos/etcd-io/etcd/releases/tags/v3.5.10"] {
		t.Errorf("recent releases not re-fetched; 200s on %v", forced)
	}
	if forced["/repos/kubernetes/kubernetes/contents/CHANGELOG/CHANGELOG-1.30.md"] || forced["/repos/etcd-io/etcd/releases/tags/v3.5.9"] {
		t.Errorf("old releases fetched again: %v", forced)
	}
	if statusOf(sum, "github:etcd-io/etcd") != "updated" {
		t.Errorf("etcd source %s after a forced re-fetch, want updated", statusOf(sum, "github:etcd-io/etcd"))
	}
	notes := notesJSON(t, "--store", store, "--component", "etcd")
	byPR := map[int]tracker.Note{}
	for _, n := range notes {
		byPR[n.PR] = n
	}
	if !byPR[16001].HasKind(tracker.KindSecurity) || !byPR[16003].HasKind(tracker.KindDeprecation) || byPR[16002].Version != "v3.5.9" {
		t.Errorf("etcd notes %+v", notes)
	}
}

// TestSyncKeepsFeedCredentialsOutOfTheStore: a CVE source URL may carry a
// token; it must not be stored (validators are keyed by a hash) nor shown.
func TestSyncKeepsFeedCredentialsOutOfTheStore(t *testing.T) {
	f := newUpstreamFake(t)
	dir := t.TempDir()
	store := filepath.Join(dir, "kd.db")
	const secret = "feedTokenS3cret"
	feed := f.cve.URL + "/feed/cve.json?token=" + secret
	args := append([]string{"sync", "--store", store}, f.args...)
	out, stderr, _ := runCLI(t, append(args, "--cve-feed-url", feed)...)
	// A failing source: its error names the URL without the token.
	out2, stderr2, _ := runCLI(t, append(args, "--cve-feed-url", feed, "--osv-url", f.cve.URL+"/osv/missing.json?token="+secret)...)
	if strings.Contains(out+stderr+out2+stderr2, secret) {
		t.Errorf("the feed token appears in the output:\n%s\n%s", out2, stderr2)
	}
	if !strings.Contains(out2, "missing.json") {
		t.Errorf("the failing source is not named: %s", out2)
	}
	for _, p := range []string{store, store + "-wal"} {
		if b, err := os.ReadFile(p); err == nil && bytes.Contains(b, []byte(secret)) {
			t.Errorf("the feed token is stored in %s", filepath.Base(p))
		}
	}
	st, err := data.Open(context.Background(), store, data.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if etag, _, _ := st.Validator(context.Background(), validatorKey(feed)); etag == "" {
		t.Error("validators are not kept under the hashed key")
	}
}
