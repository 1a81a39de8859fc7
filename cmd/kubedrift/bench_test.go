package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kubedrift/kubedrift/data"
	"github.com/kubedrift/kubedrift/data/snapshot"
	"github.com/kubedrift/kubedrift/tracker"
)

// BenchmarkPending1000 runs `kubedrift pending -o json` as a process over
// 1,000 clusters recorded in the store (the service's last known state).
func BenchmarkPending1000(b *testing.B) {
	bin := buildBinary(b)
	store := filepath.Join(b.TempDir(), "kd.db")
	ctx := context.Background()
	st, err := data.Open(ctx, store, data.Options{Seed: snapshot.Bytes()})
	if err != nil {
		b.Fatal(err)
	}
	versions := []string{"v1.23.6", "v1.24.3-eks-a5565ad", "v1.25.4+k3s1", "v1.26.5-gke.1200", "v1.27.3"}
	var cs []tracker.Cluster
	for i := range 1000 {
		v := versions[i%len(versions)]
		c := tracker.Cluster{Name: fmt.Sprintf("cluster-%04d", i), Source: "inventory:bench", Version: v, ObservedAt: time.Now()}
		for j := range 10 {
			c.Nodes = append(c.Nodes, tracker.Node{Name: fmt.Sprintf("n%d", j), KubeletVersion: v})
		}
		cs = append(cs, c)
	}
	if err := st.RecordClusters(ctx, cs); err != nil {
		b.Fatal(err)
	}
	st.Close()
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		// Output goes to a file, as a script redirecting it would: piping
		// megabytes into this process would measure the pipe.
		out, err := os.Create(filepath.Join(b.TempDir(), "pending.json"))
		if err != nil {
			b.Fatal(err)
		}
		cmd := exec.Command(bin, "pending", "--store", store, "--to", "1.27", "-o", "json")
		var stderr strings.Builder
		cmd.Stdout, cmd.Stderr = out, &stderr
		if err := cmd.Run(); err != nil {
			b.Fatalf("pending: %v\n%s", err, stderr.String())
		}
		out.Close()
	}
	b.ReportMetric(float64(time.Since(start).Milliseconds())/float64(b.N), "ms/run")
}

// BenchmarkSyncUnchanged measures a sync against the fake upstream when
// nothing changed (all conditional requests answer 304), and reports the
// first full sync's requests and the store's size on disk.
func BenchmarkSyncUnchanged(b *testing.B) {
	f := newUpstreamFake(b)
	store := filepath.Join(b.TempDir(), "kd.db")
	f.sync(b, store)
	total, ok200, _ := f.gh.Counts()
	fi, _ := os.Stat(store)
	var walSize int64
	if w, err := os.Stat(store + "-wal"); err == nil {
		walSize = w.Size()
	}
	firstRequests, firstOK := total+int(f.cve.ok200.Load()), ok200
	f.gh.ResetCounts()
	b.ResetTimer()
	for b.Loop() {
		f.sync(b, store)
	}
	b.StopTimer()
	total, ok200, n304 := f.gh.Counts()
	b.ReportMetric(float64(total)/float64(b.N), "requests/sync")
	b.ReportMetric(float64(ok200)/float64(b.N), "200s/sync")
	b.ReportMetric(float64(n304)/float64(b.N), "304s/sync")
	b.ReportMetric(float64(firstRequests), "first-sync-requests")
	b.ReportMetric(float64(firstOK), "first-sync-github-200s")
	b.ReportMetric(float64(fi.Size()+walSize)/1e6, "store-MB")
}

// BenchmarkServeOnce1000 runs one full offline service cycle (scan of a
// 1,000-cluster inventory, evaluation, advisories to stdout) as a process and
// reports its peak resident memory and duration.
func BenchmarkServeOnce1000(b *testing.B) {
	bin := buildBinary(b)
	dir := b.TempDir()
	var inv strings.Builder
	inv.WriteString("clusters:\n")
	versions := []string{"v1.23.6", "v1.24.3-eks-a5565ad", "v1.25.4+k3s1", "v1.26.5-gke.1200", "v1.27.3"}
	for i := range 1000 {
		v := versions[i%len(versions)]
		fmt.Fprintf(&inv, "  - name: c%04d\n    version: %s\n    nodes:\n      - pool: p\n        version: %s\n        count: 10\n    labels: {env: prod}\n", i, v, v)
	}
	writeTestFile(b, filepath.Join(dir, "fleet.yaml"), inv.String())
	writeTestFile(b, filepath.Join(dir, "kd.yaml"), "upstream: {offline: true}\nclusters: {inventory: [fleet.yaml]}\nadvisories: {target: \"1.27\"}\nchannels:\n  - {name: out, type: stdout}\n")
	var maxRSS int64
	var total time.Duration
	for b.Loop() {
		store := filepath.Join(b.TempDir(), "kd.db")
		cmd := exec.Command(bin, "serve", "--once", "--config", filepath.Join(dir, "kd.yaml"), "--store", store, "--log-level", "error")
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("serve --once: %v\n%.2000s", err, out)
		}
		total += time.Since(start)
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok && ru.Maxrss > maxRSS {
			maxRSS = ru.Maxrss
		}
	}
	b.ReportMetric(float64(maxRSS)/1024, "peak-RSS-MB")
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/cycle")
}
