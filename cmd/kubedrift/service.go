package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kubedrift/kubedrift/cmd/kubedrift/internal/config"
	"github.com/kubedrift/kubedrift/cmd/kubedrift/internal/server"
	"github.com/kubedrift/kubedrift/data"
	"github.com/kubedrift/kubedrift/notify"
	"github.com/kubedrift/kubedrift/notify/email"
	"github.com/kubedrift/kubedrift/notify/slack"
	"github.com/kubedrift/kubedrift/notify/stdout"
	"github.com/kubedrift/kubedrift/notify/webhook"
	"github.com/kubedrift/kubedrift/tracker"
)

// metaKnownReleases remembers the releases known at the last evaluation, so
// that a restart never announces old releases as new.
const metaKnownReleases = "advisories.known_releases"

// service is kubedrift serve: the jobs (sync, scan, evaluate and deliver,
// digest) over one store, and the state the HTTP endpoints read.
type service struct {
	cfg      *config.Config
	secrets  config.Secrets
	store    *data.SQLite
	syncer   *syncer
	sources  clusterSources
	outbox   *notify.Outbox
	digests  map[string]*email.Notifier
	metrics  *server.Metrics
	log      *slog.Logger
	now      func() time.Time
	stdout   io.Writer
	evalLock sync.Mutex // one evaluation at a time: scan and sync both trigger it

	mu          sync.Mutex
	last        pendingReport
	lastSyncOK  time.Time
	lastScanOK  time.Time
	failingFrom map[string]time.Time // job → first failure of the current run of failures
	removals    []tracker.Removal
	evidence    map[string]impactEvidence // cluster → what the last scan showed about removals
	// scanned names the clusters the configured sources returned at the
	// last scan; clusters the store remembers beyond them were removed from
	// the configuration and are no longer reported. Nil before a scan.
	scanned map[string]bool
}

// impactEvidence is one cluster's evidence from a scan, with the warning a
// failed check left.
type impactEvidence struct {
	ev      *tracker.Evidence
	warning string
}

func newService(cfg *config.Config, sec config.Secrets, st *data.SQLite, log *slog.Logger, out io.Writer) (*service, error) {
	up := defaultUpstream()
	if cfg.Upstream.GitHubAPIURL != "" {
		up.GitHubAPIURL = cfg.Upstream.GitHubAPIURL
	}
	up.Token = sec.GitHubToken
	up.ExtraRepos = cfg.Upstream.ExtraRepos
	if len(cfg.Upstream.OSVURLs) > 0 {
		up.OSVURLs = cfg.Upstream.OSVURLs
	}
	if cfg.Upstream.CVEFeedURL != "" {
		up.CVEFeedURL = cfg.Upstream.CVEFeedURL
	}
	if cfg.Upstream.ChangelogMinors > 0 {
		up.ChangelogMinors = cfg.Upstream.ChangelogMinors
	}
	sy, err := newSyncer(st, up, log)
	if err != nil {
		return nil, err
	}
	rs, err := loadRemovals()
	if err != nil {
		return nil, err
	}
	s := &service{
		cfg: cfg, secrets: sec, store: st, syncer: sy, log: log, now: time.Now, stdout: out,
		removals: rs, evidence: map[string]impactEvidence{},
		metrics: server.NewMetrics(), digests: map[string]*email.Notifier{}, failingFrom: map[string]time.Time{},
		sources: clusterSources{
			kubeconfigs: cfg.Clusters.Kubeconfig, contexts: cfg.Clusters.Contexts, allContexts: cfg.Clusters.AllContexts,
			inventories: cfg.Clusters.Inventory, concurrency: cfg.Clusters.Concurrency, timeout: cfg.Clusters.Timeout.Duration,
		},
	}
	channels := map[string]notify.Notifier{}
	for _, ch := range cfg.Channels {
		n, em, err := s.notifier(ch)
		if err != nil {
			return nil, fmt.Errorf("channel %q: %w", ch.Name, err)
		}
		channels[ch.Name] = n
		if em != nil && ch.Digest {
			s.digests[ch.Name] = em
		}
	}
	s.outbox = &notify.Outbox{Store: st, Channels: channels, Logger: log}
	return s, nil
}

// notifier builds a channel's notifier from its configuration and secrets.
func (s *service) notifier(ch config.Channel) (notify.Notifier, *email.Notifier, error) {
	sec := s.secrets.Channel[ch.Name]
	switch ch.Type {
	case "slack":
		n, err := slack.New(slack.Config{WebhookURL: sec.SlackWebhookURL, Token: sec.SlackToken, Channel: ch.Slack.Channel,
			APIURL: ch.Slack.APIURL, Username: ch.Slack.Username, IconEmoji: ch.Slack.IconEmoji})
		return n, nil, err
	case "email":
		e := ch.Email
		n, err := email.New(email.Config{Host: e.Host, Port: e.Port, TLS: e.TLS, Username: e.Username, Password: sec.SMTPPassword,
			From: e.From, To: e.To, SubjectPrefix: e.SubjectPrefix})
		return n, n, err
	case "webhook":
		n, err := webhook.New(webhook.Config{URL: sec.WebhookURL, Secret: sec.WebhookSecret})
		return n, nil, err
	case "stdout":
		return stdout.New(s.stdout), nil, nil
	}
	return nil, nil, fmt.Errorf("unknown channel type %q", ch.Type)
}

// checkTarget refuses an upgrade target the upstream data does not hold: it
// would silently turn off every upgrade-path advisory.
func (s *service) checkTarget(ctx context.Context) error {
	if s.cfg.Advisories.Target == "" {
		return nil
	}
	rels, err := s.store.Releases(ctx, data.ReleaseFilter{Component: tracker.ComponentKubernetes})
	if err != nil {
		return err
	}
	if _, err := tracker.NewCatalog(rels, nil, nil, nil).ResolveTarget(s.cfg.Advisories.Target); err != nil {
		return fmt.Errorf("%s: advisories.target: %w", s.cfg.File, err)
	}
	return nil
}

// track records a job's outcome for /readyz and for the advisory kubedrift
// raises about itself when a job keeps failing.
func (s *service) track(job string, err error, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil {
		delete(s.failingFrom, job)
		switch job {
		case "sync":
			s.lastSyncOK = at
		case "scan":
			s.lastScanOK = at
		}
		return
	}
	if _, ok := s.failingFrom[job]; !ok {
		s.failingFrom[job] = at
	}
}

// syncJob refreshes upstream data (unless the service is offline).
func (s *service) syncJob(ctx context.Context) error {
	start := s.now()
	if s.cfg.Upstream.Offline {
		s.track("sync", nil, start)
		return nil
	}
	rep := s.syncer.Sync(ctx)
	s.metrics.SetGitHubRateRemaining(s.syncer.gh.Rate().Remaining)
	var err error
	if n := rep.count("failed"); n > 0 && rep.count("updated")+rep.count("unchanged") == 0 {
		err = fmt.Errorf("every upstream source failed (%d)", n)
	}
	for _, r := range rep.Results {
		if r.Err != nil {
			s.log.Warn("upstream source failed", "source", r.Source, "err", r.Err)
		}
	}
	s.metrics.ObserveSync(s.now().Sub(start), err == nil, s.now())
	s.track("sync", err, s.now())
	return err
}

// scanJob reads every configured cluster and records what it saw.
func (s *service) scanJob(ctx context.Context) error {
	start := s.now()
	if !s.sources.any() {
		s.track("scan", nil, start)
		return nil
	}
	cs, problems, err := s.sources.collect(ctx, io.Discard, start)
	if err == nil {
		for _, c := range cs {
			if c.Error != "" {
				s.log.Warn("cluster unreadable", "cluster", c.Name, "err", c.Error)
			}
		}
		if problems > 0 {
			s.log.Warn("inventory problems", "count", problems)
		}
		err = s.store.RecordClusters(ctx, cs)
		evs, warnings := s.sources.gatherEvidence(ctx, cs, s.removals, true)
		s.mu.Lock()
		s.scanned = map[string]bool{}
		for i, c := range cs {
			s.evidence[c.Name] = impactEvidence{ev: evs[i], warning: warnings[i]}
			s.scanned[c.Name] = true
		}
		s.mu.Unlock()
	}
	s.metrics.ObserveScan(s.now().Sub(start), err == nil, s.now())
	s.track("scan", err, s.now())
	return err
}

// evaluate turns the store's state into drift, metrics and advisories, and
// delivers what is new to every channel that wants it.
func (s *service) evaluate(ctx context.Context) (notify.DeliveryReport, error) {
	s.evalLock.Lock()
	defer s.evalLock.Unlock()
	now := s.now()
	cat, clusters, rep, err := s.assess(ctx, now)
	if err != nil {
		return notify.DeliveryReport{}, err
	}

	known, err := s.knownReleases(ctx)
	if err != nil {
		return notify.DeliveryReport{}, err
	}
	advs := tracker.Advisories(cat, clusters, rep.Clusters, tracker.AdvisoryOptions{
		Now: now, EOLWarnDays: s.cfg.Advisories.EOLWarnDays, UnreachableAfter: s.cfg.Advisories.UnreachableAfter.Duration, PreviouslyKnown: known,
	})
	advs = append(advs, s.selfAdvisories(now)...)
	for _, ch := range s.cfg.Channels {
		var mine []tracker.Advisory
		for _, a := range advs {
			if ch.Wants(a) {
				mine = append(mine, a)
			}
		}
		if _, err := s.outbox.Enqueue(ctx, ch.Name, mine); err != nil {
			return notify.DeliveryReport{}, fmt.Errorf("enqueue for %s: %w", ch.Name, err)
		}
	}
	if err := s.rememberReleases(ctx); err != nil {
		return notify.DeliveryReport{}, err
	}
	dr, err := s.outbox.Deliver(ctx)
	for _, p := range dr.Problems {
		s.log.Warn("delivery problem", "detail", p)
	}
	s.countDeliveries(dr)
	return dr, err
}

// assess computes every cluster's drift from the store, publishes it to
// metrics and /api/v1/pending, and returns what it used.
func (s *service) assess(ctx context.Context, now time.Time) (*tracker.Catalog, []tracker.Cluster, pendingReport, error) {
	cat, err := loadCatalog(ctx, s.store)
	if err != nil {
		return nil, nil, pendingReport{}, err
	}
	clusters, err := s.store.Clusters(ctx)
	if err != nil {
		return nil, nil, pendingReport{}, err
	}
	s.mu.Lock()
	if s.scanned != nil {
		clusters = slices.DeleteFunc(clusters, func(c tracker.Cluster) bool { return !s.scanned[c.Name] })
	}
	s.mu.Unlock()
	rep := pendingReport{GeneratedAt: now.UTC().Format(time.RFC3339), Clusters: make([]tracker.ClusterDrift, 0, len(clusters))}
	evs := make([]*tracker.Evidence, len(clusters))
	warnings := make([]string, len(clusters))
	s.mu.Lock()
	for i, c := range clusters {
		rep.Clusters = append(rep.Clusters, cat.Drift(c, tracker.DriftOptions{Target: s.cfg.Advisories.Target, Now: now}))
		if e, ok := s.evidence[c.Name]; ok {
			evs[i], warnings[i] = e.ev, e.warning
		} else if c.Error == "" {
			// Known from the store only (a restart before the first scan):
			// judge on what the stored nodes show.
			ev := tracker.StaticEvidence(c)
			evs[i] = &ev
		}
	}
	s.mu.Unlock()
	addImpact(rep.Clusters, evs, warnings, s.removals)
	s.metrics.ObserveFleet(rep.Clusters)
	s.mu.Lock()
	s.last = rep
	s.mu.Unlock()
	return cat, clusters, rep, nil
}

// refreshReport assesses the fleet without delivering anything.
func (s *service) refreshReport(ctx context.Context) error {
	s.evalLock.Lock()
	defer s.evalLock.Unlock()
	_, _, _, err := s.assess(ctx, s.now())
	return err
}

func (s *service) countDeliveries(dr notify.DeliveryReport) {
	for ch, c := range dr.Channels {
		for range c.Delivered {
			s.metrics.CountDelivery(ch, "delivered")
		}
		for range c.Retries {
			s.metrics.CountDelivery(ch, "retried")
		}
		for range c.Failed {
			s.metrics.CountDelivery(ch, "failed")
		}
	}
}

// selfAdvisories speaks about kubedrift itself: a job failing for longer than
// advisories.failing_after.
func (s *service) selfAdvisories(now time.Time) []tracker.Advisory {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []tracker.Advisory
	for job, since := range s.failingFrom {
		if now.Sub(since) < s.cfg.Advisories.FailingAfter.Duration {
			continue
		}
		out = append(out, tracker.Advisory{
			ID: "kubedrift/" + job, Fingerprint: "failing-since-" + since.UTC().Format(time.RFC3339),
			Kind: tracker.AdvisorySelf, Severity: tracker.SeverityHigh, Subject: job,
			Title:  fmt.Sprintf("kubedrift: the %s job has been failing since %s", job, since.UTC().Format(time.RFC3339)),
			Detail: "Check kubedrift's logs and /readyz; reports are based on the last successful run.",
		})
	}
	slices.SortFunc(out, func(a, b tracker.Advisory) int { return strings.Compare(a.ID, b.ID) })
	return out
}

func (s *service) knownReleases(ctx context.Context) (map[string]bool, error) {
	raw, err := s.store.Meta(ctx, metaKnownReleases)
	if err != nil || raw == "" {
		return nil, err
	}
	var vs []string
	if err := json.Unmarshal([]byte(raw), &vs); err != nil {
		s.log.Warn("forgetting unreadable list of known releases", "err", err)
		return nil, nil
	}
	m := make(map[string]bool, len(vs))
	for _, v := range vs {
		m[v] = true
	}
	return m, nil
}

func (s *service) rememberReleases(ctx context.Context) error {
	rels, err := s.store.Releases(ctx, data.ReleaseFilter{Component: tracker.ComponentKubernetes})
	if err != nil {
		return err
	}
	vs := make([]string, 0, len(rels))
	for _, r := range rels {
		vs = append(vs, r.Version)
	}
	b, _ := json.Marshal(vs)
	return s.store.SetMeta(ctx, metaKnownReleases, string(b))
}

// digest assembles the weekly digest from the last evaluation.
func (s *service) digest(ctx context.Context) (notify.Digest, error) {
	now := s.now()
	s.mu.Lock()
	last := s.last
	s.mu.Unlock()
	d := notify.Digest{GeneratedAt: now, PeriodStart: now.AddDate(0, 0, -7), Clusters: last.Clusters}
	cves, err := s.store.CVEs(ctx)
	if err != nil {
		return d, err
	}
	affecting := map[string]bool{}
	for _, c := range last.Clusters {
		for _, e := range c.CVEs {
			affecting[e.ID] = true
		}
	}
	for _, c := range cves {
		if !c.Published.Before(d.PeriodStart) || (affecting[c.ID] && !c.Modified.Before(d.PeriodStart)) {
			d.NewCVEs = append(d.NewCVEs, c)
		}
	}
	cat, err := loadCatalog(ctx, s.store)
	if err != nil {
		return d, err
	}
	clusters, err := s.store.Clusters(ctx)
	if err != nil {
		return d, err
	}
	d.Advisories = tracker.Advisories(cat, clusters, last.Clusters, tracker.AdvisoryOptions{Now: now,
		EOLWarnDays: s.cfg.Advisories.EOLWarnDays, UnreachableAfter: s.cfg.Advisories.UnreachableAfter.Duration})
	st, err := s.outbox.Status(ctx)
	if err != nil {
		return d, err
	}
	for _, x := range st {
		if x.State == string(data.DeliveryFailed) || x.Attempts > 1 && x.State == string(data.DeliveryPending) {
			d.DeliveryProblems = append(d.DeliveryProblems, fmt.Sprintf("%s: batch %s %s after %d attempts: %s", x.Channel, x.BatchID, x.State, x.Attempts, x.LastError))
		}
	}
	return d, nil
}

// digestJob sends the weekly digest to each digest channel once per ISO week,
// remembered in the store so a restart does not send it twice.
func (s *service) digestJob(ctx context.Context) error {
	_, err := s.sendDigest(ctx)
	return err
}

// sendDigest sends the digest where it was not sent this week and returns
// the channels it went to.
func (s *service) sendDigest(ctx context.Context) ([]string, error) {
	if len(s.digests) == 0 {
		return nil, nil
	}
	d, err := s.digest(ctx)
	if err != nil {
		return nil, err
	}
	year, week := s.now().ISOWeek()
	stamp := fmt.Sprintf("%d-W%02d", year, week)
	var errs []error
	var sent []string
	for name, n := range s.digests {
		key := "digest.sent." + name
		if done, _ := s.store.Meta(ctx, key); done == stamp {
			continue
		}
		if _, err := n.SendDigest(ctx, d); err != nil {
			errs = append(errs, fmt.Errorf("digest to %s: %w", name, err))
			continue
		}
		sent = append(sent, name)
		if err := s.store.SetMeta(ctx, key, stamp); err != nil {
			errs = append(errs, err)
		}
	}
	return sent, errors.Join(errs...)
}

// writeDigestPreview renders the digest as HTML into path.
func (s *service) writeDigestPreview(ctx context.Context, path string) error {
	d, err := s.digest(ctx)
	if err != nil {
		return err
	}
	_, _, html, err := email.RenderDigest(d)
	if err != nil {
		return err
	}
	return writeFileAtomic(path, nil, func(w io.Writer) error {
		_, err := io.Copy(w, bytes.NewReader([]byte(html)))
		return err
	})
}

// ready is /readyz: the store answers and the last successful sync and scan
// are younger than three of their intervals.
func (s *service) ready(ctx context.Context, syncEvery, scanEvery time.Duration) error {
	if _, err := s.store.Meta(ctx, "ready.check"); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if s.lastSyncOK.IsZero() || now.Sub(s.lastSyncOK) > 3*syncEvery {
		return fmt.Errorf("no successful upstream sync in the last %s", 3*syncEvery)
	}
	if s.lastScanOK.IsZero() || now.Sub(s.lastScanOK) > 3*scanEvery {
		return fmt.Errorf("no successful cluster scan in the last %s", 3*scanEvery)
	}
	return nil
}

func (s *service) writePending(_ context.Context, w io.Writer) error {
	s.mu.Lock()
	rep := s.last
	s.mu.Unlock()
	if rep.Clusters == nil {
		rep.Clusters = []tracker.ClusterDrift{}
	}
	return writePendingJSON(w, rep)
}
