package notify_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/kubedrift/kubedrift/data"
	"github.com/kubedrift/kubedrift/notify"
	"github.com/kubedrift/kubedrift/notify/stdout"
	"github.com/kubedrift/kubedrift/tracker"
)

// One cycle through the outbox: the advisories are queued, then delivered
// to the stdout channel; the same cycle again has nothing new to say.
func ExampleOutbox() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "kubedrift-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	store, err := data.Open(ctx, filepath.Join(dir, "kubedrift.db"), data.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer store.Close()

	o := &notify.Outbox{
		Store:    store,
		Channels: map[string]notify.Notifier{"stdout": stdout.New(os.Stdout)},
		Now:      func() time.Time { return time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC) },
		Logger:   slog.New(slog.DiscardHandler),
	}
	advs := []tracker.Advisory{{
		ID: "eol/prod-eu/1.27", Fingerprint: "30", Kind: tracker.AdvisoryEOL, Severity: tracker.SeverityMedium,
		Cluster: "prod-eu", Version: "v1.27.4", Subject: "1.27", DueDate: "2024-06-28",
		Title: "prod-eu: Kubernetes 1.27 reaches end of life on 2024-06-28 (21 days left)",
	}}
	for range 2 {
		queued, err := o.Enqueue(ctx, "stdout", advs)
		if err != nil {
			fmt.Println(err)
			return
		}
		rep, err := o.Deliver(ctx)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("queued: %v; %s\n", queued, rep.Summary())
	}
	// Output:
	// kubedrift: 1 advisory for 1 cluster (batch 05a9ce9408a4, 2026-11-27 09:00 UTC)
	//
	// prod-eu (v1.27.4)
	//   MEDIUM     prod-eu: Kubernetes 1.27 reaches end of life on 2024-06-28 (21 days left)
	//              due 2024-06-28
	// queued: true; 1 delivered
	// queued: false; nothing to deliver
}
