package server

import (
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/kubedrift/kubedrift/tracker"
)

// Delivery results CountDelivery expects.
const (
	DeliveryDelivered = "delivered"
	DeliveryRetried   = "retried"
	DeliveryFailed    = "failed"
)

// baseSeverities are always exported per cluster (0 when none), so alert
// rules and dashboards see a cluster without CVEs as 0 rather than as absent.
var baseSeverities = []string{"critical", "high", "medium", "low"}

// Metrics holds kubedrift's Prometheus collectors on a registry of its own, so
// tests and embedders never share global state. All methods are safe for
// concurrent use.
type Metrics struct {
	reg   *prometheus.Registry
	fleet *fleetCollector

	syncDuration prometheus.Histogram
	syncRuns     *prometheus.CounterVec
	syncLast     prometheus.Gauge
	scanDuration prometheus.Histogram
	scanRuns     *prometheus.CounterVec
	scanLast     prometheus.Gauge
	rateLeft     prometheus.Gauge
	deliveries   *prometheus.CounterVec
}

// NewMetrics builds the collectors and registers them, with the Go runtime
// and process collectors, on a new registry.
func NewMetrics() *Metrics {
	// Syncs fetch from GitHub and scans read every cluster: seconds to
	// minutes, so the default buckets (up to 10 s) would be too short.
	buckets := prometheus.ExponentialBuckets(0.25, 2, 12) // 0.25 s … ~8.5 min
	m := &Metrics{
		reg:   prometheus.NewRegistry(),
		fleet: newFleetCollector(),
		syncDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "kubedrift_sync_duration_seconds",
			Help:    "Duration of upstream syncs (changelogs, CVEs, schedule), successful or not.",
			Buckets: buckets,
		}),
		syncRuns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kubedrift_sync_runs_total",
			Help: "Upstream syncs by result (success or failure).",
		}, []string{"result"}),
		syncLast: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kubedrift_sync_last_success_timestamp_seconds",
			Help: "Unix time the last successful upstream sync finished.",
		}),
		scanDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "kubedrift_scan_duration_seconds",
			Help:    "Duration of fleet scans (reading every cluster and assessing drift), successful or not.",
			Buckets: buckets,
		}),
		scanRuns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kubedrift_scan_runs_total",
			Help: "Fleet scans by result (success or failure).",
		}, []string{"result"}),
		scanLast: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kubedrift_scan_last_success_timestamp_seconds",
			Help: "Unix time the last successful fleet scan finished.",
		}),
		rateLeft: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kubedrift_github_rate_limit_remaining",
			Help: "GitHub API requests left in the current rate-limit window, as last reported by GitHub.",
		}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kubedrift_deliveries_total",
			Help: "Notification delivery attempts by channel and result (delivered, retried, failed).",
		}, []string{"channel", "result"}),
	}
	// Both results exist from the start so rate() and absent() work before
	// the first failure.
	for _, r := range []string{"success", "failure"} {
		m.syncRuns.WithLabelValues(r)
		m.scanRuns.WithLabelValues(r)
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.fleet,
		m.syncDuration, m.syncRuns, m.syncLast,
		m.scanDuration, m.scanRuns, m.scanLast,
		m.rateLeft, m.deliveries,
	)
	return m
}

// Registry returns the registry every kubedrift collector is registered on.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// ObserveFleet replaces the per-cluster series with those of ds: clusters
// absent from ds disappear from the exposition. Clusters whose Error is set
// export only kubedrift_cluster_info and kubedrift_cluster_assessment_error,
// because their lag would read as a false 0. When ds names a cluster twice,
// the first entry wins (two series with one label set would fail the scrape).
func (m *Metrics) ObserveFleet(ds []tracker.ClusterDrift) {
	m.fleet.set(fleetSeries(ds))
}

// ObserveSync records one upstream sync that took d and finished at at; the
// last-success timestamp moves only when ok.
func (m *Metrics) ObserveSync(d time.Duration, ok bool, at time.Time) {
	observeRun(m.syncDuration, m.syncRuns, m.syncLast, d, ok, at)
}

// ObserveScan records one fleet scan, like ObserveSync.
func (m *Metrics) ObserveScan(d time.Duration, ok bool, at time.Time) {
	observeRun(m.scanDuration, m.scanRuns, m.scanLast, d, ok, at)
}

func observeRun(h prometheus.Histogram, runs *prometheus.CounterVec, last prometheus.Gauge, d time.Duration, ok bool, at time.Time) {
	h.Observe(d.Seconds())
	if !ok {
		runs.WithLabelValues("failure").Inc()
		return
	}
	runs.WithLabelValues("success").Inc()
	last.Set(float64(at.UnixNano()) / 1e9)
}

// SetGitHubRateRemaining records the remaining GitHub API requests.
func (m *Metrics) SetGitHubRateRemaining(n int) { m.rateLeft.Set(float64(n)) }

// CountDelivery counts one delivery outcome for channel; result should be
// one of DeliveryDelivered, DeliveryRetried or DeliveryFailed.
func (m *Metrics) CountDelivery(channel, result string) {
	m.deliveries.WithLabelValues(labelValue(channel), labelValue(result)).Inc()
}

// labelValue makes s a valid label value: the registry rejects invalid UTF-8,
// and cluster names come from user configuration.
func labelValue(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }

var (
	descInfo = prometheus.NewDesc("kubedrift_cluster_info",
		"Cluster control-plane version and distribution (always 1).",
		[]string{"cluster", "version", "distribution"}, nil)
	descAssessErr = prometheus.NewDesc("kubedrift_cluster_assessment_error",
		"1 when the last scan could not assess the cluster (unreadable, or its version does not parse).",
		[]string{"cluster"}, nil)
	descMinors = prometheus.NewDesc("kubedrift_cluster_minor_versions_behind",
		"Minor releases between the cluster's control plane and the latest upstream release.",
		[]string{"cluster"}, nil)
	descPatches = prometheus.NewDesc("kubedrift_cluster_patch_versions_behind",
		"Patch releases between the cluster's control plane and the latest patch of its minor.",
		[]string{"cluster"}, nil)
	descSupport = prometheus.NewDesc("kubedrift_cluster_support_days_remaining",
		"Days until the end of life of the cluster's minor (negative once past); absent when unknown.",
		[]string{"cluster"}, nil)
	descCVEs = prometheus.NewDesc("kubedrift_cluster_cves",
		"CVEs the cluster is exposed to, by lower-case severity (\"unknown\" when not rated).",
		[]string{"cluster", "severity"}, nil)
	descSkew = prometheus.NewDesc("kubedrift_cluster_skew_violations",
		"Version-skew policy violations found in the cluster.",
		[]string{"cluster"}, nil)
)

// series is one precomputed sample; the fleet collector serves a snapshot of
// them so a scrape never sees a half-updated fleet.
type series struct {
	desc   *prometheus.Desc
	value  float64
	labels []string
}

func fleetSeries(ds []tracker.ClusterDrift) []series {
	var out []series
	seen := make(map[string]bool, len(ds))
	for _, d := range ds {
		name := labelValue(d.Name)
		if seen[name] {
			continue
		}
		seen[name] = true
		out = append(out, series{descInfo, 1, []string{name, labelValue(d.Version), labelValue(d.Distribution)}})
		if d.Error != "" {
			out = append(out, series{descAssessErr, 1, []string{name}})
			continue
		}
		out = append(out,
			series{descAssessErr, 0, []string{name}},
			series{descMinors, float64(d.MinorsBehind), []string{name}},
			series{descPatches, float64(d.PatchesBehind), []string{name}},
			series{descSkew, float64(len(d.Skew)), []string{name}},
		)
		if d.Support.DaysLeft != nil {
			out = append(out, series{descSupport, float64(*d.Support.DaysLeft), []string{name}})
		}
		counts := make(map[string]int, len(baseSeverities))
		for _, s := range baseSeverities {
			counts[s] = 0
		}
		for _, c := range d.CVEs {
			sev := strings.ToLower(strings.TrimSpace(c.Severity))
			if sev == "" {
				sev = "unknown"
			}
			counts[labelValue(sev)]++
		}
		sevs := make([]string, 0, len(counts))
		for s := range counts {
			sevs = append(sevs, s)
		}
		sort.Strings(sevs)
		for _, s := range sevs {
			out = append(out, series{descCVEs, float64(counts[s]), []string{name, s}})
		}
	}
	return out
}

// fleetCollector exports the last observed fleet as const metrics: replacing
// the snapshot removes vanished clusters (and stale version labels) at once,
// with no Reset window in which a scrape would see nothing.
type fleetCollector struct {
	mu   sync.RWMutex
	snap []series
}

func newFleetCollector() *fleetCollector { return &fleetCollector{} }

func (c *fleetCollector) set(s []series) {
	c.mu.Lock()
	c.snap = s
	c.mu.Unlock()
}

func (c *fleetCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descInfo, descAssessErr, descMinors, descPatches, descSupport, descCVEs, descSkew} {
		ch <- d
	}
}

func (c *fleetCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.RLock()
	snap := c.snap
	c.mu.RUnlock()
	for _, s := range snap {
		m, err := prometheus.NewConstMetric(s.desc, prometheus.GaugeValue, s.value, s.labels...)
		if err != nil {
			// Reported by the registry for this series only; the handler
			// continues on error so the rest of the scrape is served.
			m = prometheus.NewInvalidMetric(s.desc, err)
		}
		ch <- m
	}
}
