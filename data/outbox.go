package data

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// DeliveryState is where an outbox delivery stands.
type DeliveryState string

// Delivery states.
const (
	// DeliveryPending: recorded, not yet accepted by the channel; it is
	// (re)sent once NextAttemptAt has passed.
	DeliveryPending DeliveryState = "pending"
	// DeliveryDelivered: the channel accepted it.
	DeliveryDelivered DeliveryState = "delivered"
	// DeliveryFailed: a permanent failure, or retries exhausted; not retried
	// unless requeued.
	DeliveryFailed DeliveryState = "failed"
)

// DeliveryItem is one advisory carried by a delivery, at one fingerprint.
type DeliveryItem struct {
	AdvisoryID  string `json:"advisory_id"`
	Fingerprint string `json:"fingerprint"`
}

// NewDelivery is a batch about to be sent to a channel.
type NewDelivery struct {
	Channel string
	// BatchID identifies the batch's content; enqueueing a batch that is
	// already pending for the channel returns the pending one.
	BatchID string
	Items   []DeliveryItem
	// Payload is the batch as JSON, sent as stored (also after a restart).
	Payload []byte
	At      time.Time
}

// Delivery is one batch for one channel in the outbox.
type Delivery struct {
	ID            int64
	Channel       string
	BatchID       string
	Items         []DeliveryItem
	Payload       []byte
	State         DeliveryState
	Attempts      int
	LastError     string
	CreatedAt     time.Time
	UpdatedAt     time.Time
	NextAttemptAt time.Time
	DeliveredAt   time.Time
}

// AttemptFailure is one failed attempt at sending a delivery.
type AttemptFailure struct {
	At time.Time
	// NextAttemptAt is when a transient failure may be retried.
	NextAttemptAt time.Time
	// Error is the failure as the notifier reported it (notifiers keep
	// secrets out of errors); it is stored truncated.
	Error string
	// Permanent moves the delivery to failed: it is not retried.
	Permanent bool
}

// ErrNotPending is wrapped when a delivery to be marked is unknown or no
// longer pending (already delivered or failed).
var ErrNotPending = errors.New("delivery is not pending")

// maxStoredError bounds a stored delivery error.
const maxStoredError = 2000

// EnqueueDelivery records a batch before it is sent, with its items, in one
// transaction. When the same batch (channel, batch id) is already pending it
// returns that delivery's id and created = false.
func (s *SQLite) EnqueueDelivery(ctx context.Context, d NewDelivery) (id int64, created bool, err error) {
	op := fmt.Sprintf("enqueue delivery %q to channel %q", d.BatchID, d.Channel)
	switch {
	case strings.TrimSpace(d.Channel) == "":
		return 0, false, fmt.Errorf("data: %s: empty channel", op)
	case strings.TrimSpace(d.BatchID) == "":
		return 0, false, fmt.Errorf("data: %s: empty batch id", op)
	case len(d.Items) == 0:
		return 0, false, fmt.Errorf("data: %s: no advisories", op)
	case !utf8.Valid(d.Payload):
		return 0, false, fmt.Errorf("data: %s: payload is not UTF-8 JSON", op)
	}
	for i, it := range d.Items {
		if it.AdvisoryID == "" || it.Fingerprint == "" {
			return 0, false, fmt.Errorf("data: %s: item #%d: empty advisory id or fingerprint", op, i)
		}
	}
	at := fmtTime(d.At)
	err = s.write(ctx, op, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT id FROM outbox WHERE channel = ? AND batch_id = ? AND state = 'pending'`,
			d.Channel, d.BatchID).Scan(&id)
		if err == nil {
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("data: %s: %w", op, err)
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO outbox (channel, batch_id, payload, created_at, updated_at, next_attempt_at)
VALUES (?, ?, ?, ?, ?, ?)`, d.Channel, d.BatchID, string(d.Payload), at, at, at)
		if err != nil {
			return fmt.Errorf("data: %s: %w", op, err)
		}
		if id, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("data: %s: %w", op, err)
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO outbox_items (delivery_id, advisory_id, fingerprint) VALUES (?, ?, ?)`)
		if err != nil {
			return fmt.Errorf("data: %s: %w", op, err)
		}
		defer stmt.Close()
		for _, it := range d.Items {
			if _, err := stmt.ExecContext(ctx, id, it.AdvisoryID, it.Fingerprint); err != nil {
				return fmt.Errorf("data: %s: advisory %q: %w", op, it.AdvisoryID, err)
			}
		}
		created = true
		return nil
	})
	if err != nil {
		return 0, false, err
	}
	return id, created, nil
}

// MarkDelivered records that the channel accepted delivery id. In the same
// transaction it records each item's fingerprint as the last one the channel
// received for that advisory (never replacing one from a later delivery).
// Call it only after the channel accepted: a crash before it re-sends.
func (s *SQLite) MarkDelivered(ctx context.Context, id int64, at time.Time) error {
	op := fmt.Sprintf("mark delivery %d delivered", id)
	ts := fmtTime(at)
	return s.write(ctx, op, func(tx *sql.Tx) error {
		var channel string
		err := tx.QueryRowContext(ctx, `UPDATE outbox SET state = 'delivered', attempts = attempts + 1,
	last_error = '', updated_at = ?, delivered_at = ?, next_attempt_at = ''
WHERE id = ? AND state = 'pending' RETURNING channel`, ts, ts, id).Scan(&channel)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("data: %s: %w", op, ErrNotPending)
		}
		if err != nil {
			return fmt.Errorf("data: %s: %w", op, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO delivered (channel, advisory_id, fingerprint, delivered_at, delivery_id)
SELECT ?, advisory_id, fingerprint, ?, delivery_id FROM outbox_items WHERE delivery_id = ? AND true
ON CONFLICT (channel, advisory_id) DO UPDATE SET fingerprint = excluded.fingerprint,
	delivered_at = excluded.delivered_at, delivery_id = excluded.delivery_id
WHERE excluded.delivery_id >= delivered.delivery_id`, channel, ts, id); err != nil {
			return fmt.Errorf("data: %s: record fingerprints: %w", op, err)
		}
		return nil
	})
}

// RecordAttemptFailure counts a failed attempt at delivery id, keeps the
// error, and either schedules the next attempt or, when f.Permanent, moves
// the delivery to failed.
func (s *SQLite) RecordAttemptFailure(ctx context.Context, id int64, f AttemptFailure) error {
	op := fmt.Sprintf("record failed attempt of delivery %d", id)
	msg := f.Error
	if msg == "" {
		msg = "unknown error"
	}
	if len(msg) > maxStoredError {
		msg = strings.ToValidUTF8(msg[:maxStoredError], "") + "…"
	}
	state, next := DeliveryPending, fmtTime(f.NextAttemptAt)
	if f.Permanent {
		state, next = DeliveryFailed, ""
	}
	return s.write(ctx, op, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE outbox SET state = ?, attempts = attempts + 1, last_error = ?,
	updated_at = ?, next_attempt_at = ?
WHERE id = ? AND state = 'pending'`, string(state), msg, fmtTime(f.At), next, id)
		if err != nil {
			return fmt.Errorf("data: %s: %w", op, err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return fmt.Errorf("data: %s: %w", op, errors.Join(ErrNotPending, err))
		}
		return nil
	})
}

// RequeueFailed makes the failed deliveries of channel ("" = every channel)
// pending again, due at at, with their attempts reset; it returns how many.
// A batch that is pending again under the same id is left failed.
func (s *SQLite) RequeueFailed(ctx context.Context, channel string, at time.Time) (int, error) {
	op := fmt.Sprintf("requeue failed deliveries of channel %q", channel)
	var n int64
	err := s.write(ctx, op, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE outbox SET state = 'pending', attempts = 0, updated_at = ?, next_attempt_at = ?
WHERE state = 'failed' AND (? = '' OR channel = ?)
	AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.state = 'pending' AND p.channel = outbox.channel AND p.batch_id = outbox.batch_id)
	AND id = (SELECT max(f.id) FROM outbox f WHERE f.state = 'failed' AND f.channel = outbox.channel AND f.batch_id = outbox.batch_id)`,
			fmtTime(at), fmtTime(at), channel, channel)
		if err != nil {
			return fmt.Errorf("data: %s: %w", op, err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// DeliveredFingerprints maps each advisory id the channel accepted to the
// fingerprint it last accepted.
func (s *SQLite) DeliveredFingerprints(ctx context.Context, channel string) (map[string]string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT advisory_id, fingerprint FROM delivered WHERE channel = ?`, channel)
	if err != nil {
		return nil, fmt.Errorf("data: read delivered fingerprints of channel %q: %w", channel, err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, fp string
		if err := rows.Scan(&id, &fp); err != nil {
			return nil, fmt.Errorf("data: read delivered fingerprints of channel %q: %w", channel, err)
		}
		out[id] = fp
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("data: read delivered fingerprints of channel %q: %w", channel, err)
	}
	return out, nil
}

// QueuedFingerprints lists, per advisory id, the fingerprints held by the
// channel's pending and failed deliveries: those are already on their way,
// or were refused and are surfaced rather than sent again.
func (s *SQLite) QueuedFingerprints(ctx context.Context, channel string) (map[string][]string, error) {
	op := fmt.Sprintf("read queued fingerprints of channel %q", channel)
	rows, err := s.r.QueryContext(ctx, `SELECT i.advisory_id, i.fingerprint FROM outbox_items i JOIN outbox o ON o.id = i.delivery_id
WHERE o.channel = ? AND o.state IN ('pending', 'failed') ORDER BY o.id`, channel)
	if err != nil {
		return nil, fmt.Errorf("data: %s: %w", op, err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var id, fp string
		if err := rows.Scan(&id, &fp); err != nil {
			return nil, fmt.Errorf("data: %s: %w", op, err)
		}
		out[id] = append(out[id], fp)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("data: %s: %w", op, err)
	}
	return out, nil
}

// DueDeliveries lists the pending deliveries due at now (next attempt now or
// earlier), oldest first. A delivery queued behind an older pending one of
// the same channel that is not due yet is not due either, so that a channel
// receives its batches in order (a later batch may update an earlier one).
func (s *SQLite) DueDeliveries(ctx context.Context, now time.Time) ([]Delivery, error) {
	ts := fmtTime(now)
	return s.deliveries(ctx, "list due deliveries", `WHERE state = 'pending' AND next_attempt_at <= ?
	AND NOT EXISTS (SELECT 1 FROM outbox w WHERE w.channel = outbox.channel AND w.state = 'pending'
		AND w.id < outbox.id AND w.next_attempt_at > ?)
ORDER BY id`, ts, ts)
}

// PendingDeliveries lists every pending delivery, due or not, oldest first.
func (s *SQLite) PendingDeliveries(ctx context.Context) ([]Delivery, error) {
	return s.deliveries(ctx, "list pending deliveries", `WHERE state = 'pending' ORDER BY id`)
}

// FailedDeliveries lists the failed deliveries, newest first.
func (s *SQLite) FailedDeliveries(ctx context.Context) ([]Delivery, error) {
	return s.deliveries(ctx, "list failed deliveries", `WHERE state = 'failed' ORDER BY updated_at DESC, id DESC`)
}

// RecentDeliveries lists the limit most recently updated deliveries in any
// state, newest first.
func (s *SQLite) RecentDeliveries(ctx context.Context, limit int) ([]Delivery, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("data: list recent deliveries: limit %d, want > 0", limit)
	}
	return s.deliveries(ctx, "list recent deliveries", `ORDER BY updated_at DESC, id DESC LIMIT ?`, limit)
}

const deliveryColumns = `id, channel, batch_id, payload, state, attempts, last_error, created_at, updated_at, next_attempt_at, delivered_at`

// deliveries reads outbox rows selected by where, with their items, in one
// read transaction so rows and items agree.
func (s *SQLite) deliveries(ctx context.Context, op, where string, args ...any) ([]Delivery, error) {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("data: %s: %w", op, err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only
	rows, err := tx.QueryContext(ctx, `SELECT `+deliveryColumns+` FROM outbox `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("data: %s: %w", op, err)
	}
	ds, err := scanAll(rows, scanDelivery)
	if err != nil {
		return nil, fmt.Errorf("data: %s: %w", op, err)
	}
	if len(ds) == 0 {
		return ds, nil
	}
	byID := make(map[int64]int, len(ds))
	for i, d := range ds {
		byID[d.ID] = i
	}
	// Items of the selected rows only; the id range keeps the scan short.
	lo, hi := ds[0].ID, ds[0].ID
	for _, d := range ds {
		lo, hi = min(lo, d.ID), max(hi, d.ID)
	}
	irows, err := tx.QueryContext(ctx, `SELECT delivery_id, advisory_id, fingerprint FROM outbox_items
WHERE delivery_id BETWEEN ? AND ? ORDER BY delivery_id, rowid`, lo, hi)
	if err != nil {
		return nil, fmt.Errorf("data: %s: items: %w", op, err)
	}
	defer irows.Close()
	for irows.Next() {
		var id int64
		var it DeliveryItem
		if err := irows.Scan(&id, &it.AdvisoryID, &it.Fingerprint); err != nil {
			return nil, fmt.Errorf("data: %s: items: %w", op, err)
		}
		if i, ok := byID[id]; ok {
			ds[i].Items = append(ds[i].Items, it)
		}
	}
	if err := irows.Err(); err != nil {
		return nil, fmt.Errorf("data: %s: items: %w", op, err)
	}
	return ds, nil
}

func scanDelivery(rows *sql.Rows) (Delivery, error) {
	var d Delivery
	var payload, state, created, updated, next, delivered string
	if err := rows.Scan(&d.ID, &d.Channel, &d.BatchID, &payload, &state, &d.Attempts, &d.LastError,
		&created, &updated, &next, &delivered); err != nil {
		return d, err
	}
	d.Payload, d.State = []byte(payload), DeliveryState(state)
	var errs []error
	for _, f := range []struct {
		dst *time.Time
		src string
	}{{&d.CreatedAt, created}, {&d.UpdatedAt, updated}, {&d.NextAttemptAt, next}, {&d.DeliveredAt, delivered}} {
		t, err := parseTime(f.src)
		errs = append(errs, err)
		*f.dst = t
	}
	if err := errors.Join(errs...); err != nil {
		return d, fmt.Errorf("delivery %d: %w", d.ID, err)
	}
	return d, nil
}
