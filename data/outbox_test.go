package data

import (
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

var outboxT0 = date("2026-11-27T09:00:00Z")

func items(pairs ...string) []DeliveryItem {
	var out []DeliveryItem
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, DeliveryItem{AdvisoryID: pairs[i], Fingerprint: pairs[i+1]})
	}
	return out
}

func enqueue(t *testing.T, s *SQLite, channel, batch string, at time.Time, its []DeliveryItem) int64 {
	t.Helper()
	id, created, err := s.EnqueueDelivery(ctxBG, NewDelivery{Channel: channel, BatchID: batch, Items: its,
		Payload: []byte(`{"id":"` + batch + `"}`), At: at})
	if err != nil || !created {
		t.Fatalf("EnqueueDelivery(%s, %s) = %d, %v, %v", channel, batch, id, created, err)
	}
	return id
}

func dueIDs(t *testing.T, s *SQLite, now time.Time) []int64 {
	t.Helper()
	ds, err := s.DueDeliveries(ctxBG, now)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, d := range ds {
		ids = append(ids, d.ID)
	}
	return ids
}

func TestOutboxLifecycle(t *testing.T) {
	s := openTemp(t, Options{})
	a := enqueue(t, s, "slack", "b1", outboxT0, items("security/p/CVE-1", "f1", "eol/p/1.24", "e1"))
	b := enqueue(t, s, "email", "b1", outboxT0, items("security/p/CVE-1", "f1"))

	// The same pending batch again is not a second delivery.
	id, created, err := s.EnqueueDelivery(ctxBG, NewDelivery{Channel: "slack", BatchID: "b1", Items: items("x", "y"), Payload: []byte("{}"), At: outboxT0})
	if err != nil || created || id != a {
		t.Fatalf("re-enqueue = %d, %v, %v; want %d, false, nil", id, created, err, a)
	}
	if got := dueIDs(t, s, outboxT0); !slices.Equal(got, []int64{a, b}) {
		t.Fatalf("due = %v; want [%d %d]", got, a, b)
	}
	ds, err := s.DueDeliveries(ctxBG, outboxT0)
	if err != nil {
		t.Fatal(err)
	}
	if d := ds[0]; d.Channel != "slack" || d.BatchID != "b1" || string(d.Payload) != `{"id":"b1"}` ||
		d.State != DeliveryPending || d.Attempts != 0 || !d.CreatedAt.Equal(outboxT0) ||
		!slices.Equal(d.Items, items("security/p/CVE-1", "f1", "eol/p/1.24", "e1")) {
		t.Errorf("stored delivery = %+v", d)
	}

	// A transient failure postpones it; a permanent one fails it.
	later := outboxT0.Add(time.Minute)
	if err := s.RecordAttemptFailure(ctxBG, a, AttemptFailure{At: outboxT0, NextAttemptAt: later, Error: "HTTP 503"}); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordAttemptFailure(ctxBG, b, AttemptFailure{At: outboxT0, Error: "550 no such user", Permanent: true}); err != nil {
		t.Fatal(err)
	}
	if got := dueIDs(t, s, outboxT0.Add(time.Second)); len(got) != 0 {
		t.Errorf("due before the next attempt = %v", got)
	}
	if got := dueIDs(t, s, later); !slices.Equal(got, []int64{a}) {
		t.Errorf("due at the next attempt = %v; want [%d]", got, a)
	}
	failed, err := s.FailedDeliveries(ctxBG)
	if err != nil || len(failed) != 1 || failed[0].ID != b || failed[0].LastError != "550 no such user" || failed[0].Attempts != 1 {
		t.Fatalf("failed = %+v, %v", failed, err)
	}
	if err := s.RecordAttemptFailure(ctxBG, b, AttemptFailure{At: later, Error: "again"}); !errors.Is(err, ErrNotPending) {
		t.Errorf("failure on a failed delivery: %v; want ErrNotPending", err)
	}

	// Nothing counts as delivered before it is marked.
	if fp, err := s.DeliveredFingerprints(ctxBG, "slack"); err != nil || len(fp) != 0 {
		t.Errorf("delivered before marking = %v, %v", fp, err)
	}
	q, err := s.QueuedFingerprints(ctxBG, "slack")
	if err != nil || !maps.EqualFunc(q, map[string][]string{"security/p/CVE-1": {"f1"}, "eol/p/1.24": {"e1"}}, slices.Equal) {
		t.Errorf("queued(slack) = %v, %v", q, err)
	}
	if q, _ := s.QueuedFingerprints(ctxBG, "email"); len(q["security/p/CVE-1"]) != 1 {
		t.Errorf("a failed delivery's fingerprints are not queued: %v", q)
	}

	if err := s.MarkDelivered(ctxBG, a, later); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkDelivered(ctxBG, a, later); !errors.Is(err, ErrNotPending) {
		t.Errorf("second MarkDelivered: %v; want ErrNotPending", err)
	}
	fp, err := s.DeliveredFingerprints(ctxBG, "slack")
	if err != nil || !maps.Equal(fp, map[string]string{"security/p/CVE-1": "f1", "eol/p/1.24": "e1"}) {
		t.Errorf("delivered(slack) = %v, %v", fp, err)
	}
	if q, _ := s.QueuedFingerprints(ctxBG, "slack"); len(q) != 0 {
		t.Errorf("queued after delivery = %v", q)
	}

	// A changed advisory replaces the delivered fingerprint.
	c := enqueue(t, s, "slack", "b2", later, items("eol/p/1.24", "e2"))
	if err := s.MarkDelivered(ctxBG, c, later.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if fp, _ := s.DeliveredFingerprints(ctxBG, "slack"); fp["eol/p/1.24"] != "e2" || fp["security/p/CVE-1"] != "f1" {
		t.Errorf("delivered after update = %v", fp)
	}

	recent, err := s.RecentDeliveries(ctxBG, 2)
	if err != nil || len(recent) != 2 || recent[0].ID != c || recent[0].State != DeliveryDelivered || recent[0].Attempts != 1 ||
		!recent[0].DeliveredAt.Equal(later.Add(time.Second)) || recent[1].ID != a {
		t.Errorf("recent = %+v, %v", recent, err)
	}
	pending, err := s.PendingDeliveries(ctxBG)
	if err != nil || len(pending) != 0 {
		t.Errorf("pending = %+v, %v", pending, err)
	}

	// Requeue makes the failed one pending again, attempts reset.
	n, err := s.RequeueFailed(ctxBG, "email", later)
	if err != nil || n != 1 {
		t.Fatalf("RequeueFailed = %d, %v", n, err)
	}
	if got := dueIDs(t, s, later); !slices.Equal(got, []int64{b}) {
		t.Errorf("due after requeue = %v; want [%d]", got, b)
	}
}

// TestOutboxOlderDeliveryDoesNotRegress: a delivery enqueued earlier but
// accepted later must not replace a newer fingerprint.
func TestOutboxOlderDeliveryDoesNotRegress(t *testing.T) {
	s := openTemp(t, Options{})
	old := enqueue(t, s, "hook", "b-old", outboxT0, items("a", "v1"))
	newer := enqueue(t, s, "hook", "b-new", outboxT0, items("a", "v2"))
	if err := s.MarkDelivered(ctxBG, newer, outboxT0); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkDelivered(ctxBG, old, outboxT0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if fp, _ := s.DeliveredFingerprints(ctxBG, "hook"); fp["a"] != "v2" {
		t.Errorf("delivered fingerprint = %q; want v2", fp["a"])
	}
}

func TestOutboxBadInput(t *testing.T) {
	s := openTemp(t, Options{})
	long := strings.Repeat("é", maxStoredError)
	id := enqueue(t, s, "hook", "b", outboxT0, items("a", "1"))
	tests := []struct {
		name string
		run  func() error
		want string
	}{
		{"empty channel", func() error {
			_, _, err := s.EnqueueDelivery(ctxBG, NewDelivery{BatchID: "b", Items: items("a", "1")})
			return err
		}, `channel "": empty channel`},
		{"empty batch", func() error {
			_, _, err := s.EnqueueDelivery(ctxBG, NewDelivery{Channel: "c", Items: items("a", "1")})
			return err
		}, "empty batch id"},
		{"no items", func() error {
			_, _, err := s.EnqueueDelivery(ctxBG, NewDelivery{Channel: "c", BatchID: "b"})
			return err
		}, "no advisories"},
		{"empty fingerprint", func() error {
			_, _, err := s.EnqueueDelivery(ctxBG, NewDelivery{Channel: "c", BatchID: "b", Items: []DeliveryItem{{AdvisoryID: "a"}}})
			return err
		}, "item #0"},
		{"bad payload", func() error {
			_, _, err := s.EnqueueDelivery(ctxBG, NewDelivery{Channel: "c", BatchID: "b", Items: items("a", "1"), Payload: []byte{0xff}})
			return err
		}, "not UTF-8"},
		{"unknown delivery", func() error { return s.MarkDelivered(ctxBG, 999, outboxT0) }, "mark delivery 999 delivered: delivery is not pending"},
		{"bad limit", func() error { _, err := s.RecentDeliveries(ctxBG, 0); return err }, "limit 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v; want it to contain %q", err, tt.want)
			}
		})
	}
	// A huge error is stored truncated, still valid UTF-8.
	if err := s.RecordAttemptFailure(ctxBG, id, AttemptFailure{At: outboxT0, Error: long}); err != nil {
		t.Fatal(err)
	}
	ds, _ := s.PendingDeliveries(ctxBG)
	if len(ds) != 1 || len(ds[0].LastError) > maxStoredError+len("…") || !strings.HasSuffix(ds[0].LastError, "…") {
		t.Errorf("stored error of %d bytes", len(ds[0].LastError))
	}
}

// TestOutboxConcurrentEnqueue: many goroutines enqueueing the same batch
// produce one pending delivery.
func TestOutboxConcurrentEnqueue(t *testing.T) {
	s := openTemp(t, Options{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	created := 0
	ids := map[int64]bool{}
	for range 16 {
		wg.Go(func() {
			id, c, err := s.EnqueueDelivery(ctxBG, NewDelivery{Channel: "c", BatchID: "same", Items: items("a", "1"), Payload: []byte("{}"), At: outboxT0})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			ids[id] = true
			if c {
				created++
			}
		})
	}
	wg.Wait()
	if created != 1 || len(ids) != 1 {
		t.Errorf("created %d deliveries with ids %v; want 1", created, ids)
	}
}

// TestOutboxAfterMigrationFromV3 upgrades a v3 file holding a v3 delivery
// row: the row survives and the outbox works.
func TestOutboxAfterMigrationFromV3(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.db")
	old, err := open(ctxBG, path, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := migrateTo(ctxBG, old.w, path, 3); err != nil {
		t.Fatal(err)
	}
	ts := fmtTime(outboxT0)
	if _, err := old.w.ExecContext(ctxBG, `INSERT INTO advisories (id, kind, key_hash, first_seen, last_seen) VALUES ('eol/p/1.24', 'eol', 'h', ?, ?)`, ts, ts); err != nil {
		t.Fatal(err)
	}
	if _, err := old.w.ExecContext(ctxBG, `INSERT INTO deliveries (advisory_id, channel, key_hash, created_at, updated_at) VALUES ('eol/p/1.24', 'slack', 'h', ?, ?)`, ts, ts); err != nil {
		t.Fatal(err)
	}
	old.Close()
	s, err := Open(ctxBG, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var n int
	if err := s.r.QueryRowContext(ctxBG, `SELECT count(*) FROM deliveries`).Scan(&n); err != nil || n != 1 {
		t.Errorf("v3 deliveries after upgrade: %d, %v", n, err)
	}
	id := enqueue(t, s, "slack", "b", outboxT0, items("eol/p/1.24", "h"))
	if err := s.MarkDelivered(ctxBG, id, outboxT0); err != nil {
		t.Fatal(err)
	}
	if fp, _ := s.DeliveredFingerprints(ctxBG, "slack"); fp["eol/p/1.24"] != "h" {
		t.Errorf("delivered = %v", fp)
	}
}

func BenchmarkOutboxEnqueueDeliver(b *testing.B) {
	s := openTemp(b, Options{})
	its := make([]DeliveryItem, 50)
	for i := range its {
		its[i] = DeliveryItem{AdvisoryID: fmt.Sprintf("security/c/CVE-2024-%d", i), Fingerprint: fmt.Sprint(i)}
	}
	for i := 0; b.Loop(); i++ {
		id, _, err := s.EnqueueDelivery(ctxBG, NewDelivery{Channel: "c", BatchID: fmt.Sprint(i), Items: its, Payload: []byte("{}"), At: outboxT0})
		if err != nil {
			b.Fatal(err)
		}
		if err := s.MarkDelivered(ctxBG, id, outboxT0); err != nil {
			b.Fatal(err)
		}
	}
}

// TestOutboxDueKeepsChannelOrder: a batch queued behind a waiting one of the
// same channel waits too; other channels are not held up.
func TestOutboxDueKeepsChannelOrder(t *testing.T) {
	s := openTemp(t, Options{})
	first := enqueue(t, s, "slack", "b1", outboxT0, items("a", "1"))
	second := enqueue(t, s, "slack", "b2", outboxT0, items("b", "1"))
	other := enqueue(t, s, "email", "b1", outboxT0, items("a", "1"))
	if err := s.RecordAttemptFailure(ctxBG, first, AttemptFailure{At: outboxT0, NextAttemptAt: outboxT0.Add(time.Hour), Error: "429"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		now  time.Time
		want []int64
	}{
		{"while the first waits", outboxT0.Add(time.Minute), []int64{other}},
		{"once the first is due", outboxT0.Add(time.Hour), []int64{first, second, other}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := dueIDs(t, s, tt.now); !slices.Equal(got, tt.want) {
				t.Errorf("due = %v; want %v", got, tt.want)
			}
		})
	}
}
