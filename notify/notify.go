package notify

import (
	"context"
	"time"

	"github.com/kubedrift/kubedrift/tracker"
)

// Batch is what one channel receives in one cycle: every advisory produced or
// changed for it, delivered as one message (grouped per cluster by the
// channel's renderer), the way Alertmanager groups alerts.
type Batch struct {
	// ID identifies the batch in the outbox; channels may use it as an
	// idempotency key.
	ID          string
	Channel     string
	GeneratedAt time.Time
	Advisories  []tracker.Advisory
}

// Clusters returns the batch's advisories grouped by cluster, in first-seen
// order; fleet-wide advisories (no cluster) come under "".
func (b Batch) Clusters() (names []string, by map[string][]tracker.Advisory) {
	by = map[string][]tracker.Advisory{}
	for _, a := range b.Advisories {
		if _, ok := by[a.Cluster]; !ok {
			names = append(names, a.Cluster)
		}
		by[a.Cluster] = append(by[a.Cluster], a)
	}
	return names, by
}

// Notifier delivers batches to one channel. Notify returns whether a failure
// is worth retrying: true for transient failures (HTTP 5xx and 429, SMTP 4xx,
// connection errors), false for permanent ones (HTTP 4xx, a bad address),
// which are recorded and surfaced instead of retried forever. Implementations
// must be safe for concurrent use and must never put secrets (webhook URLs,
// tokens, passwords) in errors.
type Notifier interface {
	Notify(ctx context.Context, b Batch) (retry bool, err error)
}

// RetryAfterError is returned by a notifier when the channel asked to wait
// (HTTP 429 with Retry-After); the outbox waits at least After.
type RetryAfterError struct {
	After time.Duration
	Err   error
}

func (e *RetryAfterError) Error() string { return e.Err.Error() }
func (e *RetryAfterError) Unwrap() error { return e.Err }

// Digest is the weekly email digest's content, assembled by the caller from
// the store and rendered by the email channel.
type Digest struct {
	GeneratedAt time.Time
	// PeriodStart is the start of the week covered ("published this week").
	PeriodStart time.Time
	Clusters    []tracker.ClusterDrift
	// NewCVEs are CVEs published in the period or newly affecting the fleet.
	NewCVEs []tracker.CVE
	// Advisories open now, for "removals ahead" and "EOL soon" sections.
	Advisories []tracker.Advisory
	// DeliveryProblems are failed or stuck deliveries, one line each.
	DeliveryProblems []string
}
