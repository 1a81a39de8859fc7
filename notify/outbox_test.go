package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kubedrift/kubedrift/data"
	"github.com/kubedrift/kubedrift/tracker"
)

// reply is one scripted answer of a fakeNotifier.
type reply struct {
	retry bool
	err   error
}

// fakeNotifier records every batch it is given and answers from a script,
// then with success.
type fakeNotifier struct {
	mu      sync.Mutex
	script  []reply
	batches []Batch
}

func (f *fakeNotifier) Notify(_ context.Context, b Batch) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.batches = append(f.batches, b)
	if len(f.script) == 0 {
		return false, nil
	}
	r := f.script[0]
	f.script = f.script[1:]
	return r.retry, r.err
}

func (f *fakeNotifier) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.batches)
}

// posted lists the advisory ids of each batch received.
func (f *fakeNotifier) posted() [][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out [][]string
	for _, b := range f.batches {
		var ids []string
		for _, a := range b.Advisories {
			ids = append(ids, a.ID)
		}
		out = append(out, ids)
	}
	return out
}

// sleepRecorder is the Sleep seam: it records waits and advances the clock.
type sleepRecorder struct {
	mu    sync.Mutex
	now   time.Time
	waits []time.Duration
}

func (s *sleepRecorder) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now
}

func (s *sleepRecorder) Sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waits = append(s.waits, d)
	s.now = s.now.Add(d)
	return ctx.Err()
}

func (s *sleepRecorder) advance(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = s.now.Add(d)
}

var t0 = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

func openStore(t testing.TB) *data.SQLite {
	t.Helper()
	s, err := data.Open(context.Background(), filepath.Join(t.TempDir(), "kubedrift.db"), data.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newOutbox(t testing.TB, channels map[string]Notifier) (*Outbox, *sleepRecorder) {
	clock := &sleepRecorder{now: t0}
	return &Outbox{
		Store:    openStore(t),
		Channels: channels,
		Now:      clock.Now,
		Sleep:    clock.Sleep,
		Logger:   slog.New(slog.DiscardHandler),
	}, clock
}

func adv(id, fp string) tracker.Advisory {
	kind, rest, _ := strings.Cut(id, "/")
	cluster, subject, _ := strings.Cut(rest, "/")
	return tracker.Advisory{ID: id, Fingerprint: fp, Kind: tracker.AdvisoryKind(kind), Cluster: cluster, Subject: subject,
		Severity: tracker.SeverityHigh, Title: "title of " + id}
}

func TestOutboxDedup(t *testing.T) {
	ctx := context.Background()
	hook := &fakeNotifier{}
	o, _ := newOutbox(t, map[string]Notifier{"hook": hook})
	a1, b1, b2, c1 := adv("security/p/CVE-2024-1", "a1"), adv("eol/p/1.27", "b1"), adv("eol/p/1.27", "b2"), adv("skew/q/kubelet-too-old", "c1")
	steps := []struct {
		name         string
		advs         []tracker.Advisory
		deliver      bool
		wantEnqueued bool
		wantPosted   [][]string // batches posted by this step's Deliver
	}{
		{"first cycle: one batch", []tracker.Advisory{a1, b1}, true, true, [][]string{{a1.ID, b1.ID}}},
		{"same cycle again: nothing", []tracker.Advisory{a1, b1}, true, false, nil},
		{"changed fingerprint re-posts only it", []tracker.Advisory{a1, b2}, true, true, [][]string{{b2.ID}}},
		{"queued, not yet delivered", []tracker.Advisory{a1, b2, c1}, false, true, nil},
		{"already queued: not queued twice", []tracker.Advisory{c1, a1, c1}, true, false, [][]string{{c1.ID}}},
		{"an advisory that went away and came back unchanged", []tracker.Advisory{b2}, true, false, nil},
		{"empty cycle", nil, true, false, nil},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			before := hook.calls()
			got, err := o.Enqueue(ctx, "hook", st.advs)
			if err != nil || got != st.wantEnqueued {
				t.Fatalf("Enqueue = %v, %v; want %v", got, err, st.wantEnqueued)
			}
			if !st.deliver {
				return
			}
			rep, err := o.Deliver(ctx)
			if err != nil {
				t.Fatal(err)
			}
			posted := hook.posted()[before:]
			if fmt.Sprint(posted) != fmt.Sprint(st.wantPosted) {
				t.Errorf("posted %v; want %v", posted, st.wantPosted)
			}
			if rep.Delivered != len(st.wantPosted) || rep.Failed+rep.Deferred+rep.Retries != 0 {
				t.Errorf("report %+v", rep)
			}
		})
	}
}

func TestOutboxEnqueueUnknownChannel(t *testing.T) {
	o, _ := newOutbox(t, map[string]Notifier{"hook": &fakeNotifier{}})
	_, err := o.Enqueue(context.Background(), "slack", []tracker.Advisory{adv("eol/p/1.27", "x")})
	if err == nil || !strings.Contains(err.Error(), `channel "slack": no such channel`) {
		t.Errorf("err = %v", err)
	}
}

func TestBatchIDStable(t *testing.T) {
	a, b := adv("eol/p/1.27", "1"), adv("security/p/CVE-1", "2")
	tests := []struct {
		name string
		x, y string
		same bool
	}{
		{"order does not matter", BatchID("c", []tracker.Advisory{a, b}), BatchID("c", []tracker.Advisory{b, a}), true},
		{"channel matters", BatchID("c", []tracker.Advisory{a}), BatchID("d", []tracker.Advisory{a}), false},
		{"fingerprint matters", BatchID("c", []tracker.Advisory{a}), BatchID("c", []tracker.Advisory{adv("eol/p/1.27", "9")}), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if (tt.x == tt.y) != tt.same || len(tt.x) != 32 {
				t.Errorf("%s vs %s; want same = %v", tt.x, tt.y, tt.same)
			}
		})
	}
}

func TestOutboxRetry(t *testing.T) {
	ctx := context.Background()
	errDown := errors.New("HTTP 503 from receiver")
	tests := []struct {
		name          string
		script        []reply
		maxAttempts   int
		wantCalls     int
		wantState     data.DeliveryState
		wantReport    DeliveryReport // Problems not compared
		checkWaits    func(t *testing.T, waits []time.Duration)
		wantLastError string
	}{
		{
			name:       "transient, retry-after, then ok: delivered once after the waits",
			script:     []reply{{true, errDown}, {true, &RetryAfterError{After: 30 * time.Second, Err: errors.New("HTTP 429")}}},
			wantCalls:  3,
			wantState:  data.DeliveryDelivered,
			wantReport: DeliveryReport{Delivered: 1, Retries: 2},
			checkWaits: func(t *testing.T, w []time.Duration) {
				if len(w) != 2 || w[0] < 500*time.Millisecond || w[0] > time.Second || w[1] < 30*time.Second {
					t.Errorf("waits %v; want [0.5s..1s, ≥30s]", w)
				}
			},
		},
		{
			name:          "permanent: failed with its reason, not retried",
			script:        []reply{{false, errors.New("HTTP 400: invalid payload")}},
			wantCalls:     1,
			wantState:     data.DeliveryFailed,
			wantReport:    DeliveryReport{Failed: 1},
			wantLastError: "HTTP 400: invalid payload",
			checkWaits: func(t *testing.T, w []time.Duration) {
				if len(w) != 0 {
					t.Errorf("waited %v after a permanent failure", w)
				}
			},
		},
		{
			name:          "transient until attempts run out",
			script:        []reply{{true, errDown}, {true, errDown}, {true, errDown}, {true, errDown}},
			maxAttempts:   3,
			wantCalls:     3,
			wantState:     data.DeliveryFailed,
			wantReport:    DeliveryReport{Failed: 1, Retries: 2},
			wantLastError: "giving up after 3 attempts: HTTP 503 from receiver",
			checkWaits: func(t *testing.T, w []time.Duration) {
				// Exponential: attempt 1 waits 0.5-1s, attempt 2 1-2s.
				if len(w) != 2 || w[0] > time.Second || w[1] < time.Second || w[1] > 2*time.Second {
					t.Errorf("waits %v", w)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hook := &fakeNotifier{script: tt.script}
			o, clock := newOutbox(t, map[string]Notifier{"hook": hook})
			o.MaxAttempts = tt.maxAttempts
			if _, err := o.Enqueue(ctx, "hook", []tracker.Advisory{adv("eol/p/1.27", "f")}); err != nil {
				t.Fatal(err)
			}
			rep, err := o.Deliver(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if hook.calls() != tt.wantCalls {
				t.Errorf("%d calls; want %d", hook.calls(), tt.wantCalls)
			}
			want := ChannelCounts{Delivered: tt.wantReport.Delivered, Failed: tt.wantReport.Failed, Retries: tt.wantReport.Retries}
			if got := rep.Channels["hook"]; got != want || len(rep.Channels) != 1 {
				t.Errorf("per-channel counts %+v; want hook: %+v", rep.Channels, want)
			}
			rep.Problems, rep.Channels = nil, nil
			if fmt.Sprint(rep) != fmt.Sprint(tt.wantReport) {
				t.Errorf("report %+v; want %+v", rep, tt.wantReport)
			}
			tt.checkWaits(t, clock.waits)
			st, err := o.Status(ctx)
			if err != nil || len(st) != 1 {
				t.Fatalf("status %+v, %v", st, err)
			}
			if st[0].State != string(tt.wantState) || st[0].Attempts != tt.wantCalls || st[0].LastError != tt.wantLastError ||
				!slices.Equal(st[0].Advisories, []string{"eol/p/1.27"}) {
				t.Errorf("status %+v", st[0])
			}
			// Nothing more happens on the next call, and the same cycle
			// queues nothing: delivered or failed, it is settled.
			clock.advance(time.Hour)
			if rep, err := o.Deliver(ctx); err != nil || rep.Delivered+rep.Failed+rep.Retries != 0 {
				t.Errorf("second Deliver = %+v, %v", rep, err)
			}
			if again, err := o.Enqueue(ctx, "hook", []tracker.Advisory{adv("eol/p/1.27", "f")}); again || err != nil {
				t.Errorf("re-enqueue after settling = %v, %v", again, err)
			}
			if hook.calls() != tt.wantCalls {
				t.Errorf("%d calls after settling; want %d", hook.calls(), tt.wantCalls)
			}
		})
	}
}

// TestOutboxRetryAfterBeyondMaxDelay: a channel asking to wait longer than
// MaxDelay is retried by a later call, and attempts count across calls.
func TestOutboxRetryAfterBeyondMaxDelay(t *testing.T) {
	ctx := context.Background()
	slow := &RetryAfterError{After: time.Hour, Err: errors.New("HTTP 429")}
	hook := &fakeNotifier{script: []reply{{true, slow}, {true, slow}, {true, slow}}}
	other := &fakeNotifier{}
	o, clock := newOutbox(t, map[string]Notifier{"hook": hook, "other": other})
	o.MaxAttempts = 3
	for _, ch := range []string{"hook", "other"} {
		if _, err := o.Enqueue(ctx, ch, []tracker.Advisory{adv("eol/p/1.27", "f")}); err != nil {
			t.Fatal(err)
		}
	}
	// A second batch for hook must wait behind the first.
	if _, err := o.Enqueue(ctx, "hook", []tracker.Advisory{adv("eol/q/1.28", "g")}); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		advance    time.Duration
		wantCalls  int
		wantReport DeliveryReport
	}{
		{0, 1, DeliveryReport{Delivered: 1, Retries: 1, Deferred: 2}}, // other delivered; hook deferred
		{30 * time.Minute, 1, DeliveryReport{}},                       // not due yet
		{31 * time.Minute, 2, DeliveryReport{Retries: 1, Deferred: 2}},
		{61 * time.Minute, 4, DeliveryReport{Failed: 1, Delivered: 1}}, // 3rd attempt fails for good; the next batch goes
	}
	for i, st := range steps {
		clock.advance(st.advance)
		rep, err := o.Deliver(ctx)
		if err != nil {
			t.Fatal(err)
		}
		rep.Problems, rep.Channels = nil, nil
		if hook.calls() != st.wantCalls || fmt.Sprint(rep) != fmt.Sprint(st.wantReport) {
			t.Errorf("step %d: %d calls, report %+v; want %d, %+v", i, hook.calls(), rep, st.wantCalls, st.wantReport)
		}
	}
	if len(clock.waits) != 0 {
		t.Errorf("slept %v in Deliver; want no in-call wait for a long Retry-After", clock.waits)
	}
	if p := hook.posted(); len(p) != 4 || p[3][0] != "eol/q/1.28" {
		t.Errorf("hook received %v", p)
	}
	// An operator retries the failed batch.
	if n, err := o.RetryFailed(ctx, "hook"); err != nil || n != 1 {
		t.Fatalf("RetryFailed = %d, %v", n, err)
	}
	if rep, err := o.Deliver(ctx); err != nil || rep.Delivered != 1 {
		t.Errorf("after RetryFailed: %+v, %v", rep, err)
	}
}

// TestOutboxCancelledWait: shutdown during a backoff leaves the batch
// pending, not failed.
func TestOutboxCancelledWait(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	hook := &fakeNotifier{script: []reply{{true, errors.New("HTTP 502")}}}
	o, _ := newOutbox(t, map[string]Notifier{"hook": hook})
	o.Sleep = func(context.Context, time.Duration) error { cancel(); return context.Canceled }
	if _, err := o.Enqueue(ctx, "hook", []tracker.Advisory{adv("eol/p/1.27", "f")}); err != nil {
		t.Fatal(err)
	}
	rep, err := o.Deliver(ctx)
	if err != nil || rep.Deferred != 1 || rep.Failed != 0 {
		t.Fatalf("Deliver = %+v, %v", rep, err)
	}
	st, _ := o.Status(context.Background())
	if len(st) != 1 || st[0].State != "pending" || st[0].Attempts != 1 || st[0].NextAttemptAt.IsZero() {
		t.Errorf("status %+v", st)
	}
}

// TestOutboxUnconfiguredChannel: batches of a channel removed from the
// configuration stay pending and are reported, not dropped.
func TestOutboxUnconfiguredChannel(t *testing.T) {
	ctx := context.Background()
	o, _ := newOutbox(t, map[string]Notifier{"hook": &fakeNotifier{}, "old": &fakeNotifier{}})
	if _, err := o.Enqueue(ctx, "old", []tracker.Advisory{adv("eol/p/1.27", "f")}); err != nil {
		t.Fatal(err)
	}
	delete(o.Channels, "old")
	rep, err := o.Deliver(ctx)
	if err != nil || rep.Skipped != 1 || rep.Delivered != 0 {
		t.Errorf("Deliver = %+v, %v", rep, err)
	}
	if s := rep.Summary(); s != "1 skipped (channel not configured)" {
		t.Errorf("summary %q", s)
	}
}

// TestOutboxCorruptPayload: a stored batch that does not decode fails with a
// reason instead of blocking the channel.
func TestOutboxCorruptPayload(t *testing.T) {
	ctx := context.Background()
	hook := &fakeNotifier{}
	o, _ := newOutbox(t, map[string]Notifier{"hook": hook})
	if _, _, err := o.Store.EnqueueDelivery(ctx, data.NewDelivery{Channel: "hook", BatchID: "x", Payload: []byte("{not json"),
		Items: []data.DeliveryItem{{AdvisoryID: "eol/p/1.27", Fingerprint: "f"}}, At: t0}); err != nil {
		t.Fatal(err)
	}
	if _, err := o.Enqueue(ctx, "hook", []tracker.Advisory{adv("eol/q/1.28", "g")}); err != nil {
		t.Fatal(err)
	}
	rep, err := o.Deliver(ctx)
	if err != nil || rep.Failed != 1 || rep.Delivered != 1 || hook.calls() != 1 {
		t.Fatalf("Deliver = %+v, %v; %d calls", rep, err, hook.calls())
	}
	st, _ := o.Status(ctx)
	if st[0].State != "failed" || !strings.Contains(st[0].LastError, "stored batch does not decode") {
		t.Errorf("status %+v", st[0])
	}
}

type panicNotifier struct{}

func (panicNotifier) Notify(context.Context, Batch) (bool, error) { panic("boom") }

// TestOutboxNotifierPanics: a panicking notifier fails its attempt, the
// batch stays pending, other channels are delivered.
func TestOutboxNotifierPanics(t *testing.T) {
	ctx := context.Background()
	ok := &fakeNotifier{}
	o, _ := newOutbox(t, map[string]Notifier{"bad": panicNotifier{}, "ok": ok})
	o.MaxAttempts = 2
	for _, ch := range []string{"bad", "ok"} {
		if _, err := o.Enqueue(ctx, ch, []tracker.Advisory{adv("eol/p/1.27", "f")}); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := o.Deliver(ctx)
	if err != nil || rep.Delivered != 1 || rep.Failed != 1 || ok.calls() != 1 {
		t.Fatalf("Deliver = %+v, %v", rep, err)
	}
	if !strings.Contains(rep.Problems[0], `notifier for channel "bad" panicked: boom`) {
		t.Errorf("problems %q", rep.Problems)
	}
}

// TestOutboxAttemptTimeout: a notifier that hangs is cut off and retried.
func TestOutboxAttemptTimeout(t *testing.T) {
	ctx := context.Background()
	hang := notifierFunc(func(ctx context.Context, _ Batch) (bool, error) {
		<-ctx.Done()
		return true, ctx.Err()
	})
	o, _ := newOutbox(t, map[string]Notifier{"hang": hang})
	o.AttemptTimeout, o.MaxAttempts = time.Millisecond, 2
	if _, err := o.Enqueue(ctx, "hang", []tracker.Advisory{adv("eol/p/1.27", "f")}); err != nil {
		t.Fatal(err)
	}
	rep, err := o.Deliver(ctx)
	if err != nil || rep.Failed != 1 || rep.Retries != 1 || !strings.Contains(rep.Problems[0], "deadline exceeded") {
		t.Fatalf("Deliver = %+v, %v", rep, err)
	}
}

type notifierFunc func(context.Context, Batch) (bool, error)

func (f notifierFunc) Notify(ctx context.Context, b Batch) (bool, error) { return f(ctx, b) }
