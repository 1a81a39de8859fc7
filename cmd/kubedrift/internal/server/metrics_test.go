package server

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/kubedrift/kubedrift/tracker"
)

func loadFleet(t *testing.T, name string) []tracker.ClusterDrift {
	t.Helper()
	path := filepath.Join("testdata", name)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read fixture: %v", err)
	}
	var ds []tracker.ClusterDrift
	if err := json.Unmarshal(b, &ds); err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	return ds
}

// scrape fetches /metrics over real HTTP and parses the text exposition.
func scrape(t *testing.T, m *Metrics) map[string]*dto.MetricFamily {
	t.Helper()
	srv := httptest.NewServer(Handler(Options{Metrics: m}))
	defer srv.Close()
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/plain; version=0.0.4")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: status %d", resp.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse exposition: %v", err)
	}
	return mfs
}

// sample returns the value of the series of family name whose labels are
// exactly labels, and whether it exists.
func sample(mfs map[string]*dto.MetricFamily, name string, labels map[string]string) (float64, bool) {
	mf, ok := mfs[name]
	if !ok {
		return 0, false
	}
	for _, m := range mf.GetMetric() {
		if len(m.GetLabel()) != len(labels) {
			continue
		}
		match := true
		for _, lp := range m.GetLabel() {
			if v, ok := labels[lp.GetName()]; !ok || v != lp.GetValue() {
				match = false
				break
			}
		}
		if !match {
			continue
		}
		switch {
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		}
		return 0, true
	}
	return 0, false
}

// seriesWithLabel counts the series of every kubedrift_cluster_* family that
// carry label name=value.
func seriesWithLabel(mfs map[string]*dto.MetricFamily, name, value string) int {
	n := 0
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == name && lp.GetValue() == value {
					n++
				}
			}
		}
	}
	return n
}

type want struct {
	name   string
	labels map[string]string
	value  float64
	absent bool
}

func checkSamples(t *testing.T, mfs map[string]*dto.MetricFamily, wants []want) {
	t.Helper()
	for _, w := range wants {
		got, ok := sample(mfs, w.name, w.labels)
		switch {
		case w.absent && ok:
			t.Errorf("%s%v = %v, want no such series", w.name, w.labels, got)
		case !w.absent && !ok:
			t.Errorf("%s%v missing", w.name, w.labels)
		case !w.absent && got != w.value:
			t.Errorf("%s%v = %v, want %v", w.name, w.labels, got, w.value)
		}
	}
}

func cl(name string) map[string]string { return map[string]string{"cluster": name} }

func sev(name, s string) map[string]string { return map[string]string{"cluster": name, "severity": s} }

func TestObserveFleet(t *testing.T) {
	m := NewMetrics()
	m.ObserveFleet(loadFleet(t, "fleet.json"))
	first := scrape(t, m)

	t.Run("initial", func(t *testing.T) {
		checkSamples(t, first, []want{
			{name: "kubedrift_cluster_info", labels: map[string]string{"cluster": "prod-eu", "version": "v1.24.3-eks-4b1f2c9", "distribution": "eks"}, value: 1},
			{name: "kubedrift_cluster_info", labels: map[string]string{"cluster": "staging", "version": "v1.33.2", "distribution": "kubernetes"}, value: 1},
			{name: "kubedrift_cluster_info", labels: map[string]string{"cluster": "lab", "version": "", "distribution": ""}, value: 1},
			{name: "kubedrift_cluster_info", labels: map[string]string{"cluster": "edge", "version": "v1.35.1+k3s1", "distribution": "k3s"}, value: 1},
			{name: "kubedrift_cluster_minor_versions_behind", labels: cl("prod-eu"), value: 13},
			{name: "kubedrift_cluster_patch_versions_behind", labels: cl("prod-eu"), value: 14},
			{name: "kubedrift_cluster_minor_versions_behind", labels: cl("staging"), value: 4},
			{name: "kubedrift_cluster_patch_versions_behind", labels: cl("staging"), value: 3},
			{name: "kubedrift_cluster_support_days_remaining", labels: cl("prod-eu"), value: -200},
			{name: "kubedrift_cluster_support_days_remaining", labels: cl("staging"), value: 45},
			{name: "kubedrift_cluster_support_days_remaining", labels: cl("edge"), absent: true},
			{name: "kubedrift_cluster_skew_violations", labels: cl("prod-eu"), value: 2},
			{name: "kubedrift_cluster_skew_violations", labels: cl("staging"), value: 0},
			{name: "kubedrift_cluster_cves", labels: sev("prod-eu", "high"), value: 2},
			{name: "kubedrift_cluster_cves", labels: sev("prod-eu", "critical"), value: 1},
			{name: "kubedrift_cluster_cves", labels: sev("prod-eu", "medium"), value: 1},
			{name: "kubedrift_cluster_cves", labels: sev("prod-eu", "low"), value: 0},
			{name: "kubedrift_cluster_cves", labels: sev("prod-eu", "unknown"), value: 1},
			{name: "kubedrift_cluster_cves", labels: sev("prod-eu", "HIGH"), absent: true},
			{name: "kubedrift_cluster_cves", labels: sev("staging", "critical"), value: 0},
			{name: "kubedrift_cluster_cves", labels: sev("staging", "unknown"), absent: true},
			{name: "kubedrift_cluster_cves", labels: sev("edge", "low"), value: 1},
			{name: "kubedrift_cluster_assessment_error", labels: cl("prod-eu"), value: 0},
			{name: "kubedrift_cluster_assessment_error", labels: cl("lab"), value: 1},
			// An unreadable cluster must not look up to date.
			{name: "kubedrift_cluster_minor_versions_behind", labels: cl("lab"), absent: true},
			{name: "kubedrift_cluster_patch_versions_behind", labels: cl("lab"), absent: true},
			{name: "kubedrift_cluster_cves", labels: sev("lab", "critical"), absent: true},
		})
	})

	m.ObserveFleet(loadFleet(t, "fleet-after.json"))
	after := scrape(t, m)
	t.Run("after upgrade and removal", func(t *testing.T) {
		checkSamples(t, after, []want{
			{name: "kubedrift_cluster_info", labels: map[string]string{"cluster": "prod-eu", "version": "v1.24.3-eks-4b1f2c9", "distribution": "eks"}, absent: true},
			{name: "kubedrift_cluster_info", labels: map[string]string{"cluster": "prod-eu", "version": "v1.25.16-eks-9c0d7e1", "distribution": "eks"}, value: 1},
			{name: "kubedrift_cluster_minor_versions_behind", labels: cl("prod-eu"), value: 12},
			{name: "kubedrift_cluster_patch_versions_behind", labels: cl("prod-eu"), value: 0},
			{name: "kubedrift_cluster_cves", labels: sev("prod-eu", "high"), value: 0},
			{name: "kubedrift_cluster_cves", labels: sev("prod-eu", "unknown"), absent: true},
			{name: "kubedrift_cluster_cves", labels: sev("edge", "low"), value: 0},
		})
		for _, gone := range []string{"staging", "lab"} {
			if n := seriesWithLabel(after, "cluster", gone); n != 0 {
				t.Errorf("cluster %q disappeared but still has %d series", gone, n)
			}
		}
		if n := len(after["kubedrift_cluster_info"].GetMetric()); n != 2 {
			t.Errorf("kubedrift_cluster_info has %d series, want 2", n)
		}
	})

	m.ObserveFleet(nil)
	t.Run("empty fleet", func(t *testing.T) {
		mfs := scrape(t, m)
		for _, name := range []string{"kubedrift_cluster_info", "kubedrift_cluster_cves", "kubedrift_cluster_minor_versions_behind"} {
			if n := len(mfs[name].GetMetric()); n != 0 {
				t.Errorf("%s has %d series after an empty fleet, want 0", name, n)
			}
		}
	})
}

func TestObserveFleetOddNames(t *testing.T) {
	tests := []struct {
		name  string
		fleet []tracker.ClusterDrift
		wants []want
	}{
		{
			name: "duplicate name keeps the first",
			fleet: []tracker.ClusterDrift{
				{Name: "dup", Version: "v1.30.1", MinorsBehind: 7},
				{Name: "dup", Version: "v1.31.0", MinorsBehind: 6},
			},
			wants: []want{
				{name: "kubedrift_cluster_minor_versions_behind", labels: cl("dup"), value: 7},
				{name: "kubedrift_cluster_info", labels: map[string]string{"cluster": "dup", "version": "v1.31.0", "distribution": ""}, absent: true},
			},
		},
		{
			name:  "invalid UTF-8 is replaced",
			fleet: []tracker.ClusterDrift{{Name: "bad\xffname", Version: "v1.30.1", MinorsBehind: 3}},
			wants: []want{{name: "kubedrift_cluster_minor_versions_behind", labels: cl("bad\uFFFDname"), value: 3}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewMetrics()
			m.ObserveFleet(tt.fleet)
			checkSamples(t, scrape(t, m), tt.wants)
		})
	}
}

func TestObserveRuns(t *testing.T) {
	t1 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	t2 := t1.Add(time.Hour)
	tests := []struct {
		name    string
		observe func(m *Metrics, d time.Duration, ok bool, at time.Time)
		prefix  string
	}{
		{"sync", (*Metrics).ObserveSync, "kubedrift_sync"},
		{"scan", (*Metrics).ObserveScan, "kubedrift_scan"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewMetrics()
			before := scrape(t, m)
			if _, ok := sample(before, tt.prefix+"_last_success_timestamp_seconds", nil); !ok {
				t.Fatalf("%s_last_success_timestamp_seconds not exported before any run", tt.prefix)
			}
			tt.observe(m, 2*time.Second, true, t1)
			tt.observe(m, 5*time.Second, false, t2) // a failure must not move the timestamp
			mfs := scrape(t, m)
			checkSamples(t, mfs, []want{
				{name: tt.prefix + "_last_success_timestamp_seconds", value: float64(t1.Unix())},
				{name: tt.prefix + "_duration_seconds", value: 2}, // sample count
				{name: tt.prefix + "_runs_total", labels: map[string]string{"result": "success"}, value: 1},
				{name: tt.prefix + "_runs_total", labels: map[string]string{"result": "failure"}, value: 1},
			})
			h := mfs[tt.prefix+"_duration_seconds"].GetMetric()[0].GetHistogram()
			if h.GetSampleSum() != 7 {
				t.Errorf("duration sum = %v, want 7", h.GetSampleSum())
			}
			if mfs[tt.prefix+"_duration_seconds"].GetType() != dto.MetricType_HISTOGRAM {
				t.Errorf("duration type = %v, want histogram", mfs[tt.prefix+"_duration_seconds"].GetType())
			}
		})
	}
}

func TestRateAndDeliveries(t *testing.T) {
	m := NewMetrics()
	m.SetGitHubRateRemaining(4999)
	m.SetGitHubRateRemaining(4321)
	m.CountDelivery("slack", DeliveryDelivered)
	m.CountDelivery("slack", DeliveryDelivered)
	m.CountDelivery("slack", DeliveryRetried)
	m.CountDelivery("email", DeliveryFailed)
	mfs := scrape(t, m)
	checkSamples(t, mfs, []want{
		{name: "kubedrift_github_rate_limit_remaining", value: 4321},
		{name: "kubedrift_deliveries_total", labels: map[string]string{"channel": "slack", "result": "delivered"}, value: 2},
		{name: "kubedrift_deliveries_total", labels: map[string]string{"channel": "slack", "result": "retried"}, value: 1},
		{name: "kubedrift_deliveries_total", labels: map[string]string{"channel": "email", "result": "failed"}, value: 1},
		{name: "kubedrift_deliveries_total", labels: map[string]string{"channel": "email", "result": "delivered"}, absent: true},
	})
	if got := mfs["kubedrift_deliveries_total"].GetType(); got != dto.MetricType_COUNTER {
		t.Errorf("kubedrift_deliveries_total type = %v, want counter", got)
	}
	for _, name := range []string{"go_goroutines", "process_start_time_seconds"} {
		if _, ok := mfs[name]; !ok {
			t.Errorf("runtime/process metric %s missing", name)
		}
	}
}

func BenchmarkObserveFleetAndScrape(b *testing.B) {
	// A fleet of 500 clusters, each with a few CVEs: what a large site
	// scrapes every 30 s.
	ds := make([]tracker.ClusterDrift, 500)
	for i := range ds {
		days := 100 - i
		ds[i] = tracker.ClusterDrift{
			Name: "cluster-" + strconv.Itoa(i), Distribution: "eks",
			Version: "v1.30.4-eks-0a1b2c3", MinorsBehind: i % 7, PatchesBehind: i % 11,
			Support: tracker.Support{Status: "supported", DaysLeft: &days},
			CVEs:    []tracker.CVEExposure{{ID: "CVE-2099-1", Severity: "HIGH"}, {ID: "CVE-2099-2", Severity: "low"}},
		}
	}
	m := NewMetrics()
	h := Handler(Options{Metrics: m})
	b.ReportAllocs()
	for b.Loop() {
		m.ObserveFleet(ds)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
}
