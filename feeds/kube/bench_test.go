package kube

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkDiscover200 reads 200 clusters whose API servers add 50 ms to every
// response, 16 at a time. Each cluster costs two round trips (/version and one
// page of nodes), so the ideal wall time is 200/16 × 2 × 50 ms; "x-ideal"
// reports how far above that Discover is (target ≤ 1.5).
func BenchmarkDiscover200(b *testing.B) {
	const (
		clusters    = 200
		concurrency = 16
		latency     = 50 * time.Millisecond
		requests    = 2
	)
	ctxs := make([]kcContext, clusters)
	for i := range ctxs {
		api := startAPI(b, &fakeAPI{version: "v1.30.4-eks-1", token: "bench-token-7c1d",
			nodes: makeNodes(20, 10, "v1.29.8-eks-1", "eks.amazonaws.com/nodegroup"), latency: latency, protobuf: true})
		ctxs[i] = kcContext{name: fmt.Sprintf("cluster-%03d", i), srv: api.srv, token: "bench-token-7c1d"}
	}
	kc := writeKubeconfig(b, filepath.Join(b.TempDir(), "config"), "", ctxs...)
	opt := Options{Kubeconfig: []string{kc}, AllContexts: true, Concurrency: concurrency, Timeout: time.Minute}

	b.ResetTimer()
	start := time.Now()
	for range b.N {
		cs, err := Discover(context.Background(), opt)
		if err != nil {
			b.Fatal(err)
		}
		for _, c := range cs {
			if c.Error != "" || len(c.Nodes) != 20 {
				b.Fatalf("%s: %d nodes, error %q", c.Name, len(c.Nodes), c.Error)
			}
		}
	}
	perOp := time.Since(start) / time.Duration(b.N)
	ideal := time.Duration(float64(clusters) / concurrency * requests * float64(latency))
	b.ReportMetric(perOp.Seconds(), "s-wall/op")
	b.ReportMetric(perOp.Seconds()/ideal.Seconds(), "x-ideal")
}

// BenchmarkPaging5000 reads one 5,000-node cluster in pages of 500; allocs/op
// and B/op show what the node list costs the client.
func BenchmarkPaging5000(b *testing.B) {
	for _, enc := range []string{"json", "protobuf"} {
		b.Run(enc, func(b *testing.B) {
			api := startAPI(b, &fakeAPI{version: "v1.31.4", nodes: makeNodes(5000, 500, "v1.31.4", "karpenter.sh/nodepool"), protobuf: enc == "protobuf"})
			kc := writeKubeconfig(b, filepath.Join(b.TempDir(), "config"), "big", kcContext{name: "big", srv: api.srv})
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				cs, err := Discover(context.Background(), Options{Kubeconfig: []string{kc}})
				if err != nil || cs[0].Error != "" || len(cs[0].Nodes) != 5000 {
					b.Fatalf("err %v, cluster %q %d nodes", err, cs[0].Error, len(cs[0].Nodes))
				}
			}
		})
	}
}
