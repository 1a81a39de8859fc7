package main

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/kubedrift/kubedrift/data/removals"
	"github.com/kubedrift/kubedrift/feeds/kube"
	"github.com/kubedrift/kubedrift/tracker"
)

// loadRemovals reads the curated table of what upstream removed, compiled in.
func loadRemovals() ([]tracker.Removal, error) {
	rs, err := removals.Parse(removals.Embedded())
	if err != nil {
		return nil, fmt.Errorf("embedded removals table: %w", err)
	}
	return rs, nil
}

// gatherEvidence collects, per cluster, what it shows about the removals
// ahead: live clusters (kubeconfig contexts) are asked through the API server
// when live is true, with bounded concurrency; inventory clusters offer their
// nodes' runtimes. Clusters that could not be read get no evidence (nil
// entry); a failed check becomes a warning and "unknown" verdicts.
func (s *clusterSources) gatherEvidence(ctx context.Context, clusters []tracker.Cluster, rs []tracker.Removal, live bool) ([]*tracker.Evidence, []string) {
	out := make([]*tracker.Evidence, len(clusters))
	warnings := make([]string, len(clusters))
	sem := make(chan struct{}, max(1, s.concurrency))
	var wg sync.WaitGroup
	for i, c := range clusters {
		if c.Error != "" && c.Version == "" {
			continue
		}
		ev := tracker.StaticEvidence(c)
		out[i] = &ev
		ctxName, isLive := strings.CutPrefix(c.Source, "kubeconfig:")
		if !isLive {
			continue
		}
		if !live {
			ev.RequestsUnknown = "impact checks disabled (--impact=false)"
			ev.RuntimesUnknown = ""
			continue
		}
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			got, err := kube.CheckImpact(ctx, kube.Options{Kubeconfig: s.kubeconfigs, Timeout: s.timeout}, ctxName, rs)
			if err != nil {
				warnings[i] = fmt.Sprintf("impact checks: %v", err)
				out[i].RequestsUnknown = "impact checks failed: " + err.Error()
				return
			}
			*out[i] = got
		})
	}
	wg.Wait()
	return out, warnings
}

// addImpact judges every cluster's upgrade path against its evidence.
// Clusters with the same path and the same evidence (a fleet built from one
// template) share one judgement; reports are read-only.
func addImpact(ds []tracker.ClusterDrift, evs []*tracker.Evidence, warnings []string, rs []tracker.Removal) {
	judged := map[string][]tracker.StepVerdicts{}
	for i := range ds {
		if evs[i] == nil {
			continue
		}
		var key strings.Builder
		for _, st := range ds[i].Path {
			key.WriteString(st.From + ">" + st.To + ";")
		}
		fmt.Fprintf(&key, "%v", *evs[i])
		v, ok := judged[key.String()]
		if !ok {
			v = tracker.Verdicts(rs, ds[i].Path, *evs[i])
			judged[key.String()] = v
		}
		ds[i].Impact = v
		if warnings[i] != "" {
			ds[i].Warnings = append(ds[i].Warnings, warnings[i])
		}
	}
}
