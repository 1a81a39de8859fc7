package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"time"

	"github.com/spf13/cobra"

	"github.com/kubedrift/kubedrift/data"
	"github.com/kubedrift/kubedrift/feeds/inventory"
	"github.com/kubedrift/kubedrift/feeds/kube"
	"github.com/kubedrift/kubedrift/tracker"
)

// clusterSources are the flags that say which clusters to look at.
type clusterSources struct {
	kubeconfigs []string
	contexts    []string
	allContexts bool
	inventories []string
	concurrency int
	timeout     time.Duration
}

func addClusterFlags(cmd *cobra.Command, s *clusterSources) {
	f := cmd.Flags()
	f.StringArrayVar(&s.kubeconfigs, "kubeconfig", nil, "kubeconfig file (repeatable; default $KUBECONFIG, then ~/.kube/config)")
	f.StringArrayVar(&s.contexts, "context", nil, "kubeconfig context to read (repeatable)")
	f.BoolVar(&s.allContexts, "all-contexts", false, "read every kubeconfig context")
	f.StringArrayVar(&s.inventories, "inventory", nil, "static inventory file of clusters kubedrift cannot reach (repeatable)")
	f.IntVar(&s.concurrency, "concurrency", kube.DefaultConcurrency, "clusters read at once")
	f.DurationVar(&s.timeout, "cluster-timeout", kube.DefaultTimeout, "time allowed to read one cluster")
}

func (s *clusterSources) live() bool {
	return len(s.kubeconfigs) > 0 || len(s.contexts) > 0 || s.allContexts
}

func (s *clusterSources) any() bool { return s.live() || len(s.inventories) > 0 }

// collect reads the clusters the flags name. Problems with single clusters
// are carried in Cluster.Error; problems with an inventory file are reported
// on stderr and counted, and the file's valid clusters are still used. The
// error is for unusable arguments (no kubeconfig, unknown context).
func (s *clusterSources) collect(ctx context.Context, stderr io.Writer, now time.Time) ([]tracker.Cluster, int, error) {
	if s.concurrency <= 0 || s.timeout <= 0 {
		return nil, 0, &exitError{code: exitUsage, err: fmt.Errorf("--concurrency (%d) and --cluster-timeout (%s) must be positive", s.concurrency, s.timeout)}
	}
	var out []tracker.Cluster
	problems := 0
	for _, f := range s.inventories {
		cs, err := inventory.Load(f)
		if err != nil && len(cs) == 0 && errors.Is(err, fs.ErrNotExist) {
			// A file that is not there is a mistake in the arguments, not
			// a cluster that could not be read.
			return nil, problems, &exitError{code: exitUsage, err: err}
		}
		if err != nil {
			fmt.Fprintf(stderr, "kubedrift: %v\n", err)
			problems++
		}
		for i := range cs {
			cs[i].ObservedAt = now
		}
		out = append(out, cs...)
	}
	if s.live() {
		cs, err := kube.Discover(ctx, kube.Options{
			Kubeconfig: s.kubeconfigs, Contexts: s.contexts, AllContexts: s.allContexts,
			Concurrency: s.concurrency, Timeout: s.timeout, Now: func() time.Time { return now },
		})
		if err != nil {
			return nil, problems, &exitError{code: exitUsage, err: err}
		}
		out = append(out, cs...)
	}
	if dup := duplicateName(out); dup != "" {
		return nil, problems, &exitError{code: exitUsage, err: fmt.Errorf("cluster name %q appears in more than one source; names must be unique", dup)}
	}
	return out, problems, nil
}

func duplicateName(cs []tracker.Cluster) string {
	seen := map[string]bool{}
	for _, c := range cs {
		if seen[c.Name] {
			return c.Name
		}
		seen[c.Name] = true
	}
	return ""
}

// clustersFor returns the clusters a command works on: those the flags name
// (recorded in the store), or else the last known state in the store.
func (s *clusterSources) clustersFor(ctx context.Context, st data.Store, stderr io.Writer, now time.Time) ([]tracker.Cluster, int, error) {
	if !s.any() {
		cs, err := st.Clusters(ctx)
		if err != nil {
			return nil, 0, err
		}
		if len(cs) == 0 {
			return nil, 0, &exitError{code: exitUsage, err: errors.New("no clusters: pass --inventory FILE, --context NAME or --all-contexts (or run one of them once, so the store remembers the clusters)")}
		}
		return cs, 0, nil
	}
	cs, problems, err := s.collect(ctx, stderr, now)
	if err != nil {
		return nil, problems, err
	}
	if err := st.RecordClusters(ctx, cs); err != nil {
		return nil, problems, fmt.Errorf("record clusters: %w", err)
	}
	return cs, problems, nil
}
