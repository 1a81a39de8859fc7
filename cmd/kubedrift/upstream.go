package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/kubedrift/kubedrift/data"
	"github.com/kubedrift/kubedrift/feeds/changelog"
	"github.com/kubedrift/kubedrift/feeds/cve"
	"github.com/kubedrift/kubedrift/feeds/fetch"
	"github.com/kubedrift/kubedrift/feeds/github"
	"github.com/kubedrift/kubedrift/feeds/schedule"
	"github.com/kubedrift/kubedrift/tracker"
)

// upstreamConfig says where upstream lives. Defaults point at the public
// sources; tests and GitHub Enterprise sites override them.
type upstreamConfig struct {
	GitHubAPIURL string
	Token        string
	// ExtraRepos are "owner/repo" projects whose release bodies are tracked
	// with the generic parser (etcd-io/etcd, containerd/containerd ...).
	ExtraRepos []string
	// OSVURLs serve OSV records: one record, a JSON array of records, or a
	// zip of records (the shape OSV publishes per ecosystem).
	OSVURLs []string
	// CVEFeedURL is the official Kubernetes CVE feed (JSON Feed).
	CVEFeedURL string
	// ChangelogMinors bounds how many of the newest minors get their
	// CHANGELOG fetched; older minors keep what the store has.
	ChangelogMinors int
	// ChangelogRef and WebsiteRef are the git refs read for files.
	ChangelogRef, WebsiteRef string
}

func defaultUpstream() upstreamConfig {
	return upstreamConfig{
		CVEFeedURL:      "https://kubernetes.io/docs/reference/issues-security/official-cve-feed/index.json",
		ChangelogMinors: 8,
		ChangelogRef:    "master",
		WebsiteRef:      "main",
	}
}

// recentRelease is how young a release must be for its notes to be fetched
// again every cycle: upstream edits notes for a while after publishing.
const recentRelease = 14 * 24 * time.Hour

// Source names recorded in the store.
const (
	sourceK8sReleases = "github:kubernetes/kubernetes/releases"
	sourceSchedule    = "schedule"
	sourceCVE         = "cve"
)

func sourceChangelog(m tracker.Minor) string { return "changelog:" + m.String() }

// syncer refreshes the store from upstream, one source per transaction, so a
// process killed mid-sync leaves every source either old or new.
type syncer struct {
	store     data.Store
	gh        *github.Client
	http      *http.Client
	transport *fetch.Transport
	cfg       upstreamConfig
	now       func() time.Time
	log       *slog.Logger
	progress  func(format string, args ...any)
}

func newSyncer(store data.Store, cfg upstreamConfig, log *slog.Logger) (*syncer, error) {
	tr := fetch.NewTransport(fetch.Options{Validators: hashedValidators{store}, UserAgent: "kubedrift/" + version, Logger: log})
	hc := &http.Client{Transport: tr}
	gh, err := github.New(github.Options{BaseURL: cfg.GitHubAPIURL, Token: cfg.Token, HTTPClient: hc})
	if err != nil {
		return nil, err
	}
	return &syncer{store: store, gh: gh, http: hc, transport: tr, cfg: cfg, now: time.Now, log: log, progress: func(string, ...any) {}}, nil
}

// sourceResult is one line of the sync summary.
type sourceResult struct {
	Source string `json:"source"`
	// Status is updated, unchanged, failed or skipped.
	Status string `json:"status"`
	Detail string `json:"detail,omitempty"`
	Err    error  `json:"-"`
}

type syncReport struct {
	Results []sourceResult
	// RateLimitedUntil is set when GitHub's primary limit stopped the cycle.
	RateLimitedUntil time.Time
}

func (r *syncReport) add(source, status, detail string, err error) {
	r.Results = append(r.Results, sourceResult{Source: source, Status: status, Detail: detail, Err: err})
}

// Counts returns how many sources ended in each state.
func (r *syncReport) count(status string) int {
	n := 0
	for _, s := range r.Results {
		if s.Status == status {
			n++
		}
	}
	return n
}

// errRateLimited stops a cycle: GitHub said no more requests until reset.
type errRateLimited struct{ reset time.Time }

func (e errRateLimited) Error() string {
	return fmt.Sprintf("GitHub API rate limit exhausted; it resets at %s", e.reset.UTC().Format(time.RFC3339))
}

// Sync refreshes every source once. A failing source is recorded and the others
// go on; GitHub's primary rate limit stops the GitHub sources for this cycle.
func (s *syncer) Sync(ctx context.Context) syncReport {
	var rep syncReport
	stopped := false
	step := func(name string, fn func() (status, detail string, err error)) {
		if stopped {
			rep.add(name, "skipped", "GitHub rate limit", nil)
			return
		}
		s.progress("syncing %s", name)
		status, detail, err := fn()
		if err != nil {
			var rl errRateLimited
			if errors.As(err, &rl) {
				stopped = true
				rep.RateLimitedUntil = rl.reset
			}
			status = "failed"
			if rerr := s.store.RecordFailure(ctx, name, s.now(), err); rerr != nil {
				err = errors.Join(err, rerr)
			}
			s.log.Warn("sync failed", "source", name, "err", err)
		}
		rep.add(name, status, detail, err)
	}

	step(sourceK8sReleases, func() (string, string, error) { return s.syncKubernetesReleases(ctx) })
	minors, err := s.changelogMinors(ctx)
	if err != nil {
		rep.add("changelogs", "failed", "", err)
	}
	for _, m := range minors {
		step(sourceChangelog(m), func() (string, string, error) { return s.syncChangelog(ctx, m) })
	}
	for _, file := range []string{"schedule.yaml", "eol.yaml"} {
		step(sourceSchedule+":"+file, func() (string, string, error) { return s.syncSchedule(ctx, file) })
	}
	for _, repo := range s.cfg.ExtraRepos {
		step("github:"+repo, func() (string, string, error) { return s.syncRepo(ctx, repo) })
	}
	// The CVE sources are not GitHub: the rate limit does not stop them.
	stopped = false
	if len(s.cfg.OSVURLs) > 0 || s.cfg.CVEFeedURL != "" {
		step(sourceCVE, func() (string, string, error) { return s.syncCVEs(ctx) })
	}
	return rep
}

// ghErr turns GitHub's primary rate limit into errRateLimited.
func ghErr(err error) error {
	if reset, ok := github.IsRateLimited(err); ok {
		return errors.Join(errRateLimited{reset: reset}, err)
	}
	return err
}

func validators(vs []fetch.Validator) []data.Validator {
	out := make([]data.Validator, 0, len(vs))
	for _, v := range vs {
		if v.URL != "" && (v.ETag != "" || v.LastModified != "") {
			out = append(out, data.Validator{URL: validatorKey(v.URL), ETag: v.ETag, LastModified: v.LastModified})
		}
	}
	return out
}

// validatorKey is how a URL's validators are stored: a CVE feed or OSV URL
// may carry credentials in its user info or query, which must not sit in
// the store in plain text.
func validatorKey(url string) string {
	sum := sha256.Sum256([]byte(url))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// hashedValidators looks validators up under validatorKey.
type hashedValidators struct{ store data.Store }

func (h hashedValidators) Validator(ctx context.Context, url string) (string, string, error) {
	return h.store.Validator(ctx, validatorKey(url))
}

func (s *syncer) syncKubernetesReleases(ctx context.Context) (string, string, error) {
	res, err := s.gh.ListReleases(ctx, "kubernetes", "kubernetes")
	if err != nil {
		return "", "", ghErr(err)
	}
	for _, p := range res.Problems {
		s.log.Warn("release skipped", "repo", "kubernetes/kubernetes", "err", p)
	}
	if res.NotModified {
		return "unchanged", "", nil
	}
	u := data.Update{Source: sourceK8sReleases, At: s.now(), Validators: validators(res.Validators)}
	for _, r := range res.Releases {
		r.Release.Component = tracker.ComponentKubernetes
		u.Releases = append(u.Releases, r.Release)
	}
	if err := s.store.Apply(ctx, u); err != nil {
		return "", "", err
	}
	return "updated", fmt.Sprintf("%d releases", len(u.Releases)), nil
}

// changelogMinors lists the newest minors that have releases, newest first.
func (s *syncer) changelogMinors(ctx context.Context) ([]tracker.Minor, error) {
	rels, err := s.store.Releases(ctx, data.ReleaseFilter{Component: tracker.ComponentKubernetes, IncludePrereleases: true})
	if err != nil {
		return nil, err
	}
	var minors []tracker.Minor
	for _, r := range rels {
		v, err := tracker.ParseVersion(r.Version)
		if err != nil {
			continue
		}
		if m := v.MinorVersion(); !slices.Contains(minors, m) {
			minors = append(minors, m)
		}
	}
	slices.SortFunc(minors, func(a, b tracker.Minor) int { return b.Compare(a) })
	if n := s.cfg.ChangelogMinors; n > 0 && len(minors) > n {
		minors = minors[:n]
	}
	return minors, nil
}

// hasRecentRelease reports whether a release of the minor (or of a component)
// was published within recentRelease of now.
func (s *syncer) hasRecentRelease(ctx context.Context, component string, minor string) bool {
	rels, err := s.store.Releases(ctx, data.ReleaseFilter{Component: component, Minor: minor, IncludePrereleases: true})
	if err != nil {
		return false
	}
	for _, r := range rels {
		if !r.Date.IsZero() && s.now().Sub(r.Date) < recentRelease {
			return true
		}
	}
	return false
}

func (s *syncer) syncChangelog(ctx context.Context, m tracker.Minor) (string, string, error) {
	if s.hasRecentRelease(ctx, tracker.ComponentKubernetes, m.String()) {
		ctx = fetch.WithForce(ctx)
	}
	p := github.ChangelogPath(m)
	body, v, notModified, err := s.gh.RawFile(ctx, "kubernetes", "kubernetes", p, s.cfg.ChangelogRef)
	if err != nil {
		return "", "", ghErr(err)
	}
	if notModified {
		return "unchanged", "", nil
	}
	res, err := changelog.ParseKubernetes(v.URL, body)
	if err != nil {
		return "", "", err
	}
	for _, pr := range res.Problems {
		s.log.Debug("changelog oddity", "url", v.URL, "line", pr.Line, "problem", pr.Msg)
	}
	u := data.Update{Source: sourceChangelog(m), At: s.now(), Notes: res.Notes, Validators: validators([]fetch.Validator{v})}
	u.Releases = res.Releases
	for _, r := range res.Releases {
		if !r.Prerelease {
			u.NoteScopes = append(u.NoteScopes, data.NoteScope{Component: r.Component, Version: r.Version})
		}
	}
	if err := s.store.Apply(ctx, u); err != nil {
		return "", "", err
	}
	return "updated", fmt.Sprintf("%d releases, %d notes", len(res.Releases), len(res.Notes)), nil
}

func (s *syncer) syncSchedule(ctx context.Context, file string) (string, string, error) {
	body, v, notModified, err := s.gh.RawFile(ctx, "kubernetes", "website", "data/releases/"+file, s.cfg.WebsiteRef)
	if err != nil {
		return "", "", ghErr(err)
	}
	if notModified {
		return "unchanged", "", nil
	}
	u := data.Update{Source: sourceSchedule + ":" + file, At: s.now(), Validators: validators([]fetch.Validator{v})}
	switch file {
	case "eol.yaml":
		var sc schedule.Schedule
		sc, err = schedule.ParseEOLSchedule(v.URL, body)
		u.SupportWindows, u.Releases = sc.Windows, sc.Patches
	default:
		var sc schedule.Schedule
		sc, err = schedule.ParseSchedule(v.URL, body)
		u.SupportWindows, u.Releases = sc.Windows, sc.Patches
	}
	if err != nil && len(u.SupportWindows) == 0 {
		return "", "", err
	}
	// The schedule's patch dates are targets; GitHub's publication dates are
	// what happened, so the schedule only fills releases GitHub did not date.
	var uerr error
	if u.Releases, uerr = s.undatedOnly(ctx, u.Releases); uerr != nil {
		return "", "", uerr
	}
	if err := s.store.Apply(ctx, u); err != nil {
		return "", "", err
	}
	detail := fmt.Sprintf("%d minors", len(u.SupportWindows))
	if err != nil {
		// Entries that did not parse are reported; the good ones landed.
		s.log.Warn("schedule entries skipped", "url", v.URL, "err", err)
		detail += " (some entries skipped)"
	}
	return "updated", detail, nil
}

func (s *syncer) syncRepo(ctx context.Context, repo string) (string, string, error) {
	owner, name, ok := strings.Cut(repo, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return "", "", fmt.Errorf("extra repository %q: want owner/repo", repo)
	}
	res, err := s.gh.ListReleases(ctx, owner, name)
	if err != nil {
		return "", "", ghErr(err)
	}
	u := data.Update{Source: "github:" + repo, At: s.now(), Validators: validators(res.Validators)}
	releases := res.Releases
	// Recently published releases are fetched again even when the listing did
	// not change, because upstream edits notes after publishing.
	if known, err := s.store.Releases(ctx, data.ReleaseFilter{Component: name, IncludePrereleases: true}); err == nil {
		for _, r := range known {
			if r.Date.IsZero() || s.now().Sub(r.Date) >= recentRelease || slices.ContainsFunc(releases, func(x github.ReleaseInfo) bool { return x.Version == r.Version }) {
				continue
			}
			ri, v, notModified, err := s.gh.GetReleaseByTag(fetch.WithForce(ctx), owner, name, tagOf(r))
			if err != nil {
				return "", "", ghErr(err)
			}
			if !notModified {
				releases = append(releases, ri)
				u.Validators = append(u.Validators, validators([]fetch.Validator{v})...)
			}
		}
	}
	if res.NotModified && len(releases) == 0 {
		return "unchanged", "", nil
	}
	notes := 0
	for _, r := range releases {
		u.Releases = append(u.Releases, r.Release)
		u.NoteScopes = append(u.NoteScopes, data.NoteScope{Component: r.Component, Version: r.Version})
		parsed, err := changelog.ParseGitHubRelease(r.Component, r.Version, r.URL, []byte(r.Body))
		if err != nil {
			s.log.Debug("release body has no notes", "repo", repo, "tag", r.Tag, "err", err)
			continue
		}
		u.Notes = append(u.Notes, parsed.Notes...)
		notes += len(parsed.Notes)
	}
	if err := s.store.Apply(ctx, u); err != nil {
		return "", "", err
	}
	return "updated", fmt.Sprintf("%d releases, %d notes", len(u.Releases), notes), nil
}

// undatedOnly drops the releases the store already knows with a date.
func (s *syncer) undatedOnly(ctx context.Context, rels []tracker.Release) ([]tracker.Release, error) {
	if len(rels) == 0 {
		return rels, nil
	}
	known, err := s.store.Releases(ctx, data.ReleaseFilter{Component: tracker.ComponentKubernetes, IncludePrereleases: true})
	if err != nil {
		return nil, err
	}
	dated := map[string]bool{}
	for _, r := range known {
		dated[r.Version] = !r.Date.IsZero()
	}
	out := rels[:0:0]
	for _, r := range rels {
		if !dated[r.Version] {
			out = append(out, r)
		}
	}
	return out, nil
}

// tagOf recovers a release's git tag from its page URL (".../releases/tag/<tag>");
// the version is the fallback, as tags are normally the version.
func tagOf(r tracker.Release) string {
	if _, tag, ok := strings.Cut(r.URL, "/releases/tag/"); ok && tag != "" {
		if t, err := url.PathUnescape(tag); err == nil {
			return t
		}
	}
	return r.Version
}

// syncCVEs reads every CVE source. They are merged into one picture, so when
// one changed, the unchanged ones are read again in full.
func (s *syncer) syncCVEs(ctx context.Context) (string, string, error) {
	urls := slices.Clone(s.cfg.OSVURLs)
	if s.cfg.CVEFeedURL != "" {
		urls = append(urls, s.cfg.CVEFeedURL)
	}
	results := make([]*fetch.Result, len(urls))
	changed := false
	for i, u := range urls {
		r, err := fetch.Get(ctx, s.http, u)
		if err != nil {
			return "", "", err
		}
		results[i] = r
		changed = changed || !r.NotModified
	}
	if !changed {
		return "unchanged", "", nil
	}
	for i, r := range results {
		if r.NotModified {
			full, err := fetch.Get(fetch.WithForce(ctx), s.http, urls[i])
			if err != nil {
				return "", "", err
			}
			results[i] = full
		}
	}
	var osv []tracker.CVE
	var feed []cve.FeedItem
	var problems []error
	var vals []fetch.Validator
	for i, r := range results {
		vals = append(vals, r.Validator)
		if i < len(s.cfg.OSVURLs) {
			recs, errs := cve.ParseOSVDocument(fetch.RedactString(r.URL), r.Body)
			osv = append(osv, recs...)
			problems = append(problems, errs...)
			continue
		}
		items, err := cve.ParseFeed(fetch.RedactString(r.URL), r.Body)
		if err != nil {
			return "", "", err
		}
		feed = items
	}
	for _, p := range problems {
		s.log.Warn("CVE record skipped", "err", p)
	}
	merged := cve.Merge(osv, feed)
	if len(merged) == 0 {
		if len(problems) == 0 {
			return "", "", errors.New("CVE sources yielded no records")
		}
		return "", "", fmt.Errorf("CVE sources yielded no records: %w", errors.Join(problems...))
	}
	u := data.Update{Source: sourceCVE, At: s.now(), CVEs: merged, Validators: validators(vals)}
	if err := s.store.Apply(ctx, u); err != nil {
		return "", "", err
	}
	detail := fmt.Sprintf("%d CVEs", len(merged))
	if len(problems) > 0 {
		detail += fmt.Sprintf(", %d records skipped", len(problems))
	}
	return "updated", detail, nil
}
