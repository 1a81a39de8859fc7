package notify

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kubedrift/kubedrift/data"
	"github.com/kubedrift/kubedrift/tracker"
)

// OutboxStore is the persistence the outbox needs. A batch is recorded
// (EnqueueDelivery) before it is sent and marked (MarkDelivered) only after
// the channel accepted it, so a crash in between re-sends it rather than
// losing it. Implementations must be safe for concurrent use; *data.SQLite is
// one.
type OutboxStore interface {
	// DeliveredFingerprints maps advisory id → last fingerprint the channel
	// accepted.
	DeliveredFingerprints(ctx context.Context, channel string) (map[string]string, error)
	// QueuedFingerprints maps advisory id → fingerprints in the channel's
	// pending and failed deliveries.
	QueuedFingerprints(ctx context.Context, channel string) (map[string][]string, error)
	// EnqueueDelivery records a batch; created is false when the same batch
	// is already pending.
	EnqueueDelivery(ctx context.Context, d data.NewDelivery) (id int64, created bool, err error)
	// DueDeliveries lists pending deliveries due at now, oldest first.
	DueDeliveries(ctx context.Context, now time.Time) ([]data.Delivery, error)
	// MarkDelivered records acceptance and the delivered fingerprints in one
	// transaction.
	MarkDelivered(ctx context.Context, id int64, at time.Time) error
	// RecordAttemptFailure counts a failed attempt; Permanent fails the
	// delivery.
	RecordAttemptFailure(ctx context.Context, id int64, f data.AttemptFailure) error
	PendingDeliveries(ctx context.Context) ([]data.Delivery, error)
	FailedDeliveries(ctx context.Context) ([]data.Delivery, error)
	RecentDeliveries(ctx context.Context, limit int) ([]data.Delivery, error)
	RequeueFailed(ctx context.Context, channel string, at time.Time) (int, error)
}

var _ OutboxStore = (*data.SQLite)(nil)

// Outbox defaults.
const (
	DefaultMaxAttempts    = 8
	DefaultBaseDelay      = time.Second
	DefaultMaxDelay       = 5 * time.Minute
	DefaultAttemptTimeout = 2 * time.Minute
	// recentStatus is how many settled deliveries Status shows.
	recentStatus = 20
)

// Outbox delivers advisories to channels at least once, without repeats
// while nothing changes. It is a pipeline of small stages: Enqueue dedups a
// cycle's advisories against what each channel already accepted or has
// queued and records what is new as one batch; Deliver sends due batches,
// retrying transient failures with backoff, and records the outcome.
//
// Plain fields are the configuration and test seams. Enqueue and Deliver may
// run concurrently with each other; run one Deliver at a time per store.
type Outbox struct {
	Store OutboxStore
	// Channels maps a channel name to its notifier.
	Channels map[string]Notifier
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Sleep waits d or until ctx is done (default: a timer).
	Sleep func(ctx context.Context, d time.Duration) error
	// MaxAttempts bounds the attempts per batch, across Deliver calls
	// (default 8); then the batch fails.
	MaxAttempts int
	// BaseDelay doubles per attempt up to MaxDelay (defaults 1s and 5m). A
	// channel asking to wait longer than MaxDelay is retried by a later
	// Deliver call instead of holding this one.
	BaseDelay, MaxDelay time.Duration
	// AttemptTimeout bounds one Notify call (default 2m).
	AttemptTimeout time.Duration
	Logger         *slog.Logger
}

// DeliveryReport counts what one Deliver call did.
type DeliveryReport struct {
	// Delivered batches were accepted by their channel.
	Delivered int
	// Failed batches failed permanently (or ran out of attempts).
	Failed int
	// Retries counts transient failures that were (or will be) retried.
	Retries int
	// Deferred batches are still pending, for a later call.
	Deferred int
	// Skipped batches belong to channels that are not configured.
	Skipped int
	// Problems has one line per failed attempt: channel, batch, error.
	Problems []string
	// Channels splits the counts per channel (for metrics).
	Channels map[string]ChannelCounts
}

// ChannelCounts is one channel's share of a DeliveryReport.
type ChannelCounts struct{ Delivered, Failed, Retries int }

// DeliveryStatus is one delivery as `kubedrift status` shows it.
type DeliveryStatus struct {
	ID            int64     `json:"id"`
	Channel       string    `json:"channel"`
	BatchID       string    `json:"batch_id"`
	State         string    `json:"state"`
	Advisories    []string  `json:"advisories"`
	Attempts      int       `json:"attempts"`
	LastError     string    `json:"last_error,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
	NextAttemptAt time.Time `json:"next_attempt_at,omitzero"`
	DeliveredAt   time.Time `json:"delivered_at,omitzero"`
}

func (o *Outbox) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

func (o *Outbox) logger() *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.Default()
}

func (o *Outbox) sleep(ctx context.Context, d time.Duration) error {
	if o.Sleep != nil {
		return o.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Enqueue records, for channel, the advisories that are new or changed
// (their fingerprint differs from the last one the channel accepted and is
// not already queued for it) as ONE batch, before anything is sent. With
// nothing new it records nothing and returns false.
func (o *Outbox) Enqueue(ctx context.Context, channel string, advs []tracker.Advisory) (enqueued bool, err error) {
	if _, ok := o.Channels[channel]; !ok {
		return false, fmt.Errorf("notify: enqueue for channel %q: no such channel", channel)
	}
	fresh, err := o.dedup(ctx, channel, advs)
	if err != nil || len(fresh) == 0 {
		return false, err
	}
	b := Batch{ID: BatchID(channel, fresh), Channel: channel, GeneratedAt: o.now().UTC(), Advisories: fresh}
	payload, err := json.Marshal(b)
	if err != nil {
		return false, fmt.Errorf("notify: enqueue batch %s for channel %q: encode: %w", b.ID, channel, err)
	}
	items := make([]data.DeliveryItem, len(fresh))
	for i, a := range fresh {
		items[i] = data.DeliveryItem{AdvisoryID: a.ID, Fingerprint: a.Fingerprint}
	}
	_, created, err := o.Store.EnqueueDelivery(ctx, data.NewDelivery{Channel: channel, BatchID: b.ID, Items: items, Payload: payload, At: b.GeneratedAt})
	if err != nil {
		return false, fmt.Errorf("notify: enqueue for channel %q: %w", channel, err)
	}
	if created {
		o.logger().Info("advisories queued", "channel", channel, "batch", b.ID, "advisories", len(fresh))
	}
	return created, nil
}

// dedup keeps the advisories the channel has neither accepted nor queued at
// their current fingerprint; an id listed twice counts once (the first).
func (o *Outbox) dedup(ctx context.Context, channel string, advs []tracker.Advisory) ([]tracker.Advisory, error) {
	delivered, err := o.Store.DeliveredFingerprints(ctx, channel)
	if err != nil {
		return nil, fmt.Errorf("notify: dedup for channel %q: %w", channel, err)
	}
	queued, err := o.Store.QueuedFingerprints(ctx, channel)
	if err != nil {
		return nil, fmt.Errorf("notify: dedup for channel %q: %w", channel, err)
	}
	var out []tracker.Advisory
	seen := map[string]bool{}
	for i, a := range advs {
		if a.ID == "" || a.Fingerprint == "" {
			o.logger().Warn("advisory without id or fingerprint not queued", "channel", channel, "index", i, "id", a.ID)
			continue
		}
		if seen[a.ID] {
			continue
		}
		seen[a.ID] = true
		if delivered[a.ID] == a.Fingerprint || slices.Contains(queued[a.ID], a.Fingerprint) {
			continue
		}
		out = append(out, a)
	}
	return out, nil
}

// BatchID is a stable hash of a channel and the advisories (id and
// fingerprint, in any order) a batch carries, so that the same content gets
// the same id (channels may use it as an idempotency key).
func BatchID(channel string, advs []tracker.Advisory) string {
	keys := make([]string, len(advs))
	for i, a := range advs {
		keys[i] = a.ID + "\x00" + a.Fingerprint
	}
	slices.Sort(keys)
	h := sha256.New()
	fmt.Fprintf(h, "%d:%s;", len(channel), channel)
	for _, k := range keys {
		fmt.Fprintf(h, "%d:%s;", len(k), k)
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// Deliver sends every due batch, oldest first within each channel, channels
// in parallel. A transient failure is retried after a backoff with jitter
// (at least what a *RetryAfterError asks) until the batch has had
// MaxAttempts attempts in all; a permanent failure is recorded and not
// retried. When a channel's batch stays pending, its later batches wait for
// the next call, so a channel never receives them out of order.
//
// Channel failures are reported in the DeliveryReport; the error is for the
// store failing (and wraps every such failure).
func (o *Outbox) Deliver(ctx context.Context) (DeliveryReport, error) {
	var rep DeliveryReport
	due, err := o.Store.DueDeliveries(ctx, o.now())
	if err != nil {
		return rep, fmt.Errorf("notify: deliver: %w", err)
	}
	byChannel := map[string][]data.Delivery{}
	for _, d := range due {
		byChannel[d.Channel] = append(byChannel[d.Channel], d)
	}
	// Channels run in parallel; their results merge in channel order so the
	// report reads the same on every run.
	names := slices.Sorted(maps.Keys(byChannel))
	locals := make([]DeliveryReport, len(names))
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, channel := range names {
		ds := byChannel[channel]
		n, ok := o.Channels[channel]
		if !ok {
			o.logger().Warn("pending deliveries for a channel that is not configured", "channel", channel, "batches", len(ds))
			locals[i].Skipped = len(ds)
			continue
		}
		wg.Go(func() { errs[i] = o.deliverChannel(ctx, n, ds, &locals[i]) })
	}
	wg.Wait()
	for i, l := range locals {
		if rep.Channels == nil {
			rep.Channels = map[string]ChannelCounts{}
		}
		rep.Channels[names[i]] = ChannelCounts{Delivered: l.Delivered, Failed: l.Failed, Retries: l.Retries}
		rep.Delivered += l.Delivered
		rep.Failed += l.Failed
		rep.Retries += l.Retries
		rep.Deferred += l.Deferred
		rep.Skipped += l.Skipped
		rep.Problems = append(rep.Problems, l.Problems...)
	}
	return rep, errors.Join(errs...)
}

// outcome of one delivery.
type outcome int

const (
	outDelivered outcome = iota
	outFailed
	outDeferred
)

func (o *Outbox) deliverChannel(ctx context.Context, n Notifier, ds []data.Delivery, rep *DeliveryReport) error {
	for i, d := range ds {
		out, err := o.deliverOne(ctx, n, d, rep)
		if err != nil {
			rep.Deferred += len(ds) - i
			return err
		}
		switch out {
		case outDelivered:
			rep.Delivered++
		case outFailed:
			rep.Failed++
		case outDeferred:
			rep.Deferred += len(ds) - i
			return nil
		}
	}
	return nil
}

// deliverOne runs the send → record loop of one delivery.
func (o *Outbox) deliverOne(ctx context.Context, n Notifier, d data.Delivery, rep *DeliveryReport) (outcome, error) {
	log := o.logger().With("channel", d.Channel, "batch", d.BatchID)
	// Recording an outcome must survive cancellation: a send that succeeded
	// but is not marked would be sent again.
	rec := context.WithoutCancel(ctx)
	var b Batch
	if err := json.Unmarshal(d.Payload, &b); err != nil {
		msg := fmt.Sprintf("stored batch does not decode: %v", err)
		rep.Problems = append(rep.Problems, fmt.Sprintf("%s %s: %s", d.Channel, d.BatchID, msg))
		log.Error("delivery failed", "error", msg)
		if err := o.Store.RecordAttemptFailure(rec, d.ID, data.AttemptFailure{At: o.now(), Error: msg, Permanent: true}); err != nil {
			return outFailed, fmt.Errorf("notify: deliver batch %s to %q: %w", d.BatchID, d.Channel, err)
		}
		return outFailed, nil
	}
	maxAttempts := cmp.Or(o.MaxAttempts, DefaultMaxAttempts)
	attempts := d.Attempts
	for {
		if err := ctx.Err(); err != nil {
			return outDeferred, nil
		}
		retry, sendErr := o.notify(ctx, n, b)
		now := o.now()
		if sendErr == nil {
			if err := o.Store.MarkDelivered(rec, d.ID, now); err != nil {
				return outDelivered, fmt.Errorf("notify: delivered batch %s to %q but could not record it (it will be sent again): %w", d.BatchID, d.Channel, err)
			}
			log.Info("batch delivered", "advisories", len(b.Advisories), "attempts", attempts+1)
			return outDelivered, nil
		}
		attempts++
		msg := sendErr.Error()
		rep.Problems = append(rep.Problems, fmt.Sprintf("%s %s: attempt %d: %s", d.Channel, d.BatchID, attempts, msg))
		f := data.AttemptFailure{At: now, Error: msg}
		switch {
		case !retry:
			f.Permanent = true
		case attempts >= maxAttempts:
			f.Permanent = true
			f.Error = fmt.Sprintf("giving up after %d attempts: %s", attempts, msg)
		}
		if f.Permanent {
			log.Error("delivery failed", "attempts", attempts, "error", f.Error)
			if err := o.Store.RecordAttemptFailure(rec, d.ID, f); err != nil {
				return outFailed, fmt.Errorf("notify: deliver batch %s to %q: %w", d.BatchID, d.Channel, err)
			}
			return outFailed, nil
		}
		wait, hold := o.backoff(attempts, sendErr)
		f.NextAttemptAt = now.Add(wait)
		rep.Retries++
		log.Warn("delivery attempt failed, will retry", "attempt", attempts, "wait", wait, "error", msg)
		if err := o.Store.RecordAttemptFailure(rec, d.ID, f); err != nil {
			return outDeferred, fmt.Errorf("notify: deliver batch %s to %q: %w", d.BatchID, d.Channel, err)
		}
		if !hold {
			return outDeferred, nil
		}
		if err := o.sleep(ctx, wait); err != nil {
			return outDeferred, nil
		}
	}
}

// notify makes one attempt, bounded by AttemptTimeout. A notifier that
// panics fails the attempt (transiently) instead of the whole service.
func (o *Outbox) notify(ctx context.Context, n Notifier, b Batch) (retry bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, cmp.Or(o.AttemptTimeout, DefaultAttemptTimeout))
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			retry, err = true, fmt.Errorf("notifier for channel %q panicked: %v", b.Channel, r)
		}
	}()
	return n.Notify(ctx, b)
}

// backoff is the wait before attempt number attempts+1: BaseDelay doubled
// per attempt, capped at MaxDelay, jittered into its upper half so that
// channels failing together do not retry in step; never shorter than a
// channel's Retry-After. hold says whether Deliver should wait in this call
// (false when the channel asks for longer than MaxDelay).
func (o *Outbox) backoff(attempts int, err error) (wait time.Duration, hold bool) {
	base := cmp.Or(o.BaseDelay, DefaultBaseDelay)
	maxD := cmp.Or(o.MaxDelay, DefaultMaxDelay)
	d := base
	for i := 1; i < attempts && d < maxD; i++ {
		d *= 2
	}
	d = min(d, maxD)
	if half := d / 2; half > 0 {
		d = half + rand.N(half+1)
	}
	var ra *RetryAfterError
	if errors.As(err, &ra) && ra.After > d {
		d = ra.After
	}
	return d, d <= maxD
}

// RetryFailed makes the failed deliveries of channel ("" = all) pending
// again, for an operator who fixed the cause; it returns how many.
func (o *Outbox) RetryFailed(ctx context.Context, channel string) (int, error) {
	n, err := o.Store.RequeueFailed(ctx, channel, o.now())
	if err != nil {
		return 0, fmt.Errorf("notify: retry failed deliveries of %q: %w", channel, err)
	}
	return n, nil
}

// Status lists the outbox for `kubedrift status`: failed deliveries first,
// then pending ones, then the most recent delivered, each group newest
// first.
func (o *Outbox) Status(ctx context.Context) ([]DeliveryStatus, error) {
	failed, err := o.Store.FailedDeliveries(ctx)
	if err != nil {
		return nil, fmt.Errorf("notify: status: %w", err)
	}
	pending, err := o.Store.PendingDeliveries(ctx)
	if err != nil {
		return nil, fmt.Errorf("notify: status: %w", err)
	}
	recent, err := o.Store.RecentDeliveries(ctx, recentStatus)
	if err != nil {
		return nil, fmt.Errorf("notify: status: %w", err)
	}
	slices.Reverse(pending)
	var out []DeliveryStatus
	seen := map[int64]bool{}
	for _, group := range [][]data.Delivery{failed, pending, recent} {
		for _, d := range group {
			if seen[d.ID] {
				continue
			}
			seen[d.ID] = true
			s := DeliveryStatus{ID: d.ID, Channel: d.Channel, BatchID: d.BatchID, State: string(d.State),
				Attempts: d.Attempts, LastError: d.LastError, CreatedAt: d.CreatedAt,
				NextAttemptAt: d.NextAttemptAt, DeliveredAt: d.DeliveredAt, Advisories: []string{}}
			if d.State != data.DeliveryPending {
				s.NextAttemptAt = time.Time{}
			}
			for _, it := range d.Items {
				s.Advisories = append(s.Advisories, it.AdvisoryID)
			}
			out = append(out, s)
		}
	}
	return out, nil
}

// Summary is a one-line account of a report, for logs and the CLI.
func (r DeliveryReport) Summary() string {
	var parts []string
	for _, p := range []struct {
		n    int
		what string
	}{{r.Delivered, "delivered"}, {r.Failed, "failed"}, {r.Retries, "retried"}, {r.Deferred, "deferred"}, {r.Skipped, "skipped (channel not configured)"}} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", p.n, p.what))
		}
	}
	if len(parts) == 0 {
		return "nothing to deliver"
	}
	return strings.Join(parts, ", ")
}
