package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kubedrift/kubedrift/data"
	"github.com/kubedrift/kubedrift/tracker"
)

// The crash-safety test re-executes this test binary as a child running
// delivery cycles against a receiver in the parent, SIGKILLs it at chosen
// points, restarts it, and checks that nothing is lost and that each kill
// costs at most one duplicate per channel.

const (
	crashChildEnv = "KUBEDRIFT_OUTBOX_CRASH_CHILD"
	crashStoreEnv = "KUBEDRIFT_OUTBOX_CRASH_STORE"
	crashURLEnv   = "KUBEDRIFT_OUTBOX_CRASH_URL"
)

var crashChannels = []string{"slack", "webhook", "email"}

// crashCycles are the child's cycles: each adds advisories and changes
// none, so a restarted child re-running earlier cycles has nothing new to
// say about them.
func crashCycles() [][]tracker.Advisory {
	var cycles [][]tracker.Advisory
	var all []tracker.Advisory
	for c, ids := range [][]string{
		{"security/prod-eu/CVE-2024-1001", "eol/prod-eu/1.24", "skew/prod-eu/kubelet-too-old"},
		{"removal/prod-eu/pr-2001", "security/stage/CVE-2024-1001"},
		{"unreachable/edge/edge", "new-release//1.31", "action-required/stage/pr-3001"},
	} {
		for _, id := range ids {
			all = append(all, adv(id, fmt.Sprintf("fp-%d-%s", c, id)))
		}
		cycles = append(cycles, slices.Clone(all))
	}
	return cycles
}

// httpNotifier posts a batch as JSON, the way webhook channels do.
type httpNotifier struct {
	url    string
	client *http.Client
}

func (h httpNotifier) Notify(ctx context.Context, b Batch) (bool, error) {
	body, err := json.Marshal(b)
	if err != nil {
		return false, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url, bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", b.ID)
	resp, err := h.client.Do(req)
	if err != nil {
		return true, errors.New("post batch: connection failed")
	}
	io.Copy(io.Discard, resp.Body) //nolint:errcheck // draining only
	resp.Body.Close()
	switch {
	case resp.StatusCode < 300:
		return false, nil
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		return true, fmt.Errorf("post batch: HTTP %d", resp.StatusCode)
	}
	return false, fmt.Errorf("post batch: HTTP %d", resp.StatusCode)
}

// TestOutboxCrashChild is the child process of TestOutboxCrashSafety.
func TestOutboxCrashChild(t *testing.T) {
	if os.Getenv(crashChildEnv) != "1" {
		t.Skip("helper process for TestOutboxCrashSafety")
	}
	ctx := context.Background()
	store, err := data.Open(ctx, os.Getenv(crashStoreEnv), data.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	client := &http.Client{Timeout: 5 * time.Second}
	channels := map[string]Notifier{}
	for _, ch := range crashChannels {
		channels[ch] = httpNotifier{url: os.Getenv(crashURLEnv) + "/" + ch, client: client}
	}
	o := &Outbox{Store: store, Channels: channels, MaxAttempts: 100, BaseDelay: time.Millisecond, MaxDelay: 4 * time.Millisecond,
		Logger: slog.New(slog.DiscardHandler)}
	for _, advs := range crashCycles() {
		for _, ch := range crashChannels {
			if _, err := o.Enqueue(ctx, ch, advs); err != nil {
				t.Fatal(err)
			}
		}
		rep, err := o.Deliver(ctx)
		if err != nil || rep.Failed > 0 || rep.Deferred > 0 {
			t.Fatalf("deliver: %s (%d problems), %v", rep.Summary(), len(rep.Problems), err)
		}
	}
}

// post is one POST the receiver took.
type post struct {
	channel  string
	batch    string
	items    map[string]string // advisory id → fingerprint
	accepted bool
}

// receiver records every POST and kills the child at the chosen POST,
// before answering it: the child never learns it was received.
type receiver struct {
	mu     sync.Mutex
	posts  []post
	n      int // POSTs in the current run
	killAt int // kill at this POST of the run; 0 = never
	proc   *os.Process
	killed bool
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var b Batch
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
		http.Error(w, "bad batch", http.StatusBadRequest)
		return
	}
	p := post{channel: r.URL.Path[1:], batch: b.ID, items: map[string]string{}}
	for _, a := range b.Advisories {
		p.items[a.ID] = a.Fingerprint
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.n++
	switch {
	case rc.killAt > 0 && rc.n == rc.killAt && rc.proc != nil:
		rc.proc.Kill() //nolint:errcheck // already gone is fine
		rc.killed = true
		p.accepted = true // the receiver has it; the child cannot know
	case rc.n%4 == 0:
		// Every fourth POST fails transiently, so retries run too.
		w.WriteHeader(http.StatusServiceUnavailable)
		rc.posts = append(rc.posts, p)
		return
	default:
		p.accepted = true
	}
	rc.posts = append(rc.posts, p)
}

// runChild runs one child to completion or death; killAt > 0 kills it at
// that POST, killAfter > 0 after that delay. It reports whether it was
// killed.
func (rc *receiver) runChild(t *testing.T, store, url string, killAt int, killAfter time.Duration) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestOutboxCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"=1", crashStoreEnv+"="+store, crashURLEnv+"="+url)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	rc.mu.Lock()
	rc.n, rc.killAt, rc.killed = 0, killAt, false
	if err := cmd.Start(); err != nil {
		rc.mu.Unlock()
		t.Fatal(err)
	}
	rc.proc = cmd.Process
	rc.mu.Unlock()
	if killAfter > 0 {
		timer := time.AfterFunc(killAfter, func() {
			rc.mu.Lock()
			defer rc.mu.Unlock()
			if rc.proc != nil {
				rc.proc.Kill() //nolint:errcheck // may have exited already
				rc.killed = true
			}
		})
		defer timer.Stop()
	}
	err := cmd.Wait()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.proc = nil
	killed := rc.killed && err != nil
	if err != nil && !killed {
		t.Fatalf("child failed: %v\n%s", err, out.String())
	}
	return killed
}

func TestOutboxCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary many times")
	}
	if os.Getenv(crashChildEnv) == "1" {
		t.Skip("running as the child")
	}
	want := map[string]string{}
	cycles := crashCycles()
	for _, a := range cycles[len(cycles)-1] {
		want[a.ID] = a.Fingerprint
	}
	rng := rand.New(rand.NewPCG(1, 2))
	type scenario struct {
		name      string
		killAt    []int           // per run, kill at this POST
		killAfter []time.Duration // per run, kill after this delay
	}
	var scenarios []scenario
	// 3 cycles × 3 channels, plus retries of the failing fourth POSTs: about
	// 12 POSTs per undisturbed run.
	for k := 1; k <= 12; k++ {
		scenarios = append(scenarios, scenario{name: fmt.Sprintf("kill at POST %d", k), killAt: []int{k}})
	}
	scenarios = append(scenarios,
		scenario{name: "kill at POST 2 four times", killAt: []int{2, 2, 2, 2}},
		scenario{name: "kill at POST 1, 5, 3", killAt: []int{1, 5, 3}})
	for i := range 8 {
		var d []time.Duration
		for range 1 + rng.IntN(3) {
			d = append(d, time.Duration(5+rng.IntN(150))*time.Millisecond)
		}
		scenarios = append(scenarios, scenario{name: fmt.Sprintf("random delays #%d %v", i, d), killAfter: d})
	}

	var mu sync.Mutex
	totalKills, totalDups := 0, 0
	t.Cleanup(func() {
		t.Logf("crash safety: %d scenarios, %d kills, %d duplicate batches in all (at most one per channel per kill allowed)",
			len(scenarios), totalKills, totalDups)
	})
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			rc := &receiver{}
			srv := httptest.NewServer(rc)
			defer srv.Close()
			store := filepath.Join(t.TempDir(), "kubedrift.db")
			kills := 0
			for i := range max(len(sc.killAt), len(sc.killAfter)) {
				var at int
				var after time.Duration
				if i < len(sc.killAt) {
					at = sc.killAt[i]
				}
				if i < len(sc.killAfter) {
					after = sc.killAfter[i]
				}
				if rc.runChild(t, store, srv.URL, at, after) {
					kills++
				}
			}
			// Restart without kills: the cycle completes.
			rc.runChild(t, store, srv.URL, 0, 0)
			rc.mu.Lock()
			posts := slices.Clone(rc.posts)
			rc.mu.Unlock()

			dups := 0
			for _, ch := range crashChannels {
				got := map[string]string{}
				seen := map[string]int{}
				for _, p := range posts {
					if p.channel != ch || !p.accepted {
						continue
					}
					seen[p.batch]++
					for id, fp := range p.items {
						got[id] = fp
					}
				}
				chDups := 0
				for _, n := range seen {
					chDups += n - 1
				}
				if chDups > kills {
					t.Errorf("channel %s: %d duplicate batches after %d kills; want at most one per kill", ch, chDups, kills)
				}
				dups += chDups
				for id, fp := range want {
					if got[id] != fp {
						t.Errorf("channel %s: advisory %s delivered at %q; want %q", ch, id, got[id], fp)
					}
				}
			}

			// Running again after completion posts nothing.
			rc.runChild(t, store, srv.URL, 0, 0)
			rc.mu.Lock()
			extra := len(rc.posts) - len(posts)
			rc.mu.Unlock()
			if extra != 0 {
				t.Errorf("a run after completion posted %d batches", extra)
			}
			s, err := data.Open(context.Background(), store, data.Options{ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			pending, err1 := s.PendingDeliveries(context.Background())
			failed, err2 := s.FailedDeliveries(context.Background())
			if len(pending)+len(failed) != 0 || err1 != nil || err2 != nil {
				t.Errorf("after completion: %d pending, %d failed (%v, %v)", len(pending), len(failed), err1, err2)
			}
			t.Logf("%d kills, %d duplicate batches, %d POSTs", kills, dups, len(posts))
			mu.Lock()
			totalKills += kills
			totalDups += dups
			mu.Unlock()
		})
	}
}
