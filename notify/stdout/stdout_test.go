package stdout

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kubedrift/kubedrift/notify"
	"github.com/kubedrift/kubedrift/tracker"
)

func TestClean(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "v1.25.0 removes FooPolicy", "v1.25.0 removes FooPolicy"},
		{"colour CSI", "\x1b[31mred\x1b[0m text", "red text"},
		{"cursor movement and erase", "a\x1b[2J\x1b[1;1Hb", "ab"},
		{"OSC title with BEL", "x\x1b]0;pwned\x07y", "xy"},
		{"OSC 8 hyperlink with ST", "\x1b]8;;https://evil.test\x1b\\click\x1b]8;;\x1b\\", "click"},
		{"unterminated OSC", "ok\x1b]52;c;Zm9v", "ok"},
		{"DCS", "a\x1bPq#0;2;0;0;0\x1b\\b", "ab"},
		{"charset designation", "a\x1b(0b", "ab"},
		{"lone ESC at end", "a\x1b", "a"},
		{"C1 CSI", "a\u009b31mb", "ab"},
		{"C1 OSC", "a\u009d0;t\u009cb", "ab"},
		{"controls", "a\x00b\x07c\x08d\x7fe", "abcde"},
		{"line breaks and tabs", "one\r\ntwo\tthree", "one  two three"},
		{"bidi override", "abc\u202edcba\u202c", "abcdcba"},
		{"invalid UTF-8", "a\xffb", "a\ufffdb"},
		{"non-ASCII kept", "Überprüfung — ok ✓", "Überprüfung — ok ✓"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := clean(tt.in); got != tt.want {
				t.Errorf("clean(%q) = %q; want %q", tt.in, got, tt.want)
			}
		})
	}
}

func FuzzClean(f *testing.F) {
	for _, s := range []string{"\x1b[31mx", "\x1b]0;t\x07", "\u009b1m", "a\x1b", "\x1bP\x1b\\"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := clean(s)
		for _, r := range got {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
				t.Fatalf("clean(%q) = %q keeps control %U", s, got, r)
			}
		}
		if clean(got) != got {
			t.Fatalf("clean is not idempotent on %q", s)
		}
	})
}

// batch holds invented advisories; the note text is made up for the test.
func batch() notify.Batch {
	return notify.Batch{
		ID:          "0123456789abcdef0123456789abcdef",
		Channel:     "stdout",
		GeneratedAt: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC),
		Advisories: []tracker.Advisory{
			{ID: "new-release//1.31", Kind: tracker.AdvisoryNewRelease, Severity: tracker.SeverityInfo, Subject: "1.31",
				Title: "Kubernetes 1.31 is out (v1.31.0)"},
			{ID: "eol/prod-eu/1.24", Kind: tracker.AdvisoryEOL, Severity: tracker.SeverityCritical, Cluster: "prod-eu",
				Distribution: "eks", Version: "v1.24.3-eks-a5565ad", Subject: "1.24", DueDate: "2023-07-28",
				Title: "prod-eu: Kubernetes 1.24 reached end of life on 2023-07-28 (4 days ago)", Detail: "Latest release: v1.28.2."},
			{ID: "removal/prod-eu/pr-2001", Kind: tracker.AdvisoryRemoval, Severity: tracker.SeverityMedium, Cluster: "prod-eu",
				Distribution: "eks", Version: "v1.24.3-eks-a5565ad", Subject: "pr-2001",
				Title: "prod-eu: upgrading v1.24.17 → v1.25.16 removes a feature or API (PR #2001, in v1.25.0)",
				Notes: []tracker.Note{{Version: "v1.25.0", PR: 2001, URL: "https://example.test/pr/2001",
					Text: "The made-up `Frobnicator` plugin is removed.\n\x1b]0;owned\x07\x1b[2J" + strings.Repeat(" and more", 60)}},
				Links: []string{"https://example.test/changelog#v1250"}},
			{ID: "skew/dev\x1b[31m/kubelet-too-old", Kind: tracker.AdvisorySkew, Severity: tracker.SeverityHigh, Cluster: "dev\x1b[31m",
				Title: "dev: 2 nodes violate the version skew policy (kubelet-too-old)"},
		},
	}
}

func TestRender(t *testing.T) {
	out := Render(batch())
	if strings.ContainsAny(out, "\x1b\x07") {
		t.Fatalf("output keeps escape characters:\n%q", out)
	}
	// Facts appear in this order: header, clusters in batch order, fleet last.
	order := []string{
		"kubedrift: 4 advisories for 2 clusters (batch 0123456789ab, 2026-11-27 09:00 UTC)",
		"prod-eu (eks, v1.24.3-eks-a5565ad)",
		"  CRITICAL   prod-eu: Kubernetes 1.24 reached end of life on 2023-07-28 (4 days ago)",
		"Latest release: v1.28.2.",
		"due 2023-07-28",
		"  MEDIUM     prod-eu: upgrading v1.24.17 → v1.25.16",
		"note PR #2001 (v1.25.0): The made-up `Frobnicator` plugin is removed. and more",
		"https://example.test/pr/2001",
		"https://example.test/changelog#v1250",
		"\ndev\n",
		"  HIGH       dev: 2 nodes",
		"\nfleet-wide\n",
		"  INFO       Kubernetes 1.31 is out (v1.31.0)",
	}
	rest := out
	for _, s := range order {
		i := strings.Index(rest, s)
		if i < 0 {
			t.Fatalf("output lacks %q after the previous parts:\n%s", s, out)
		}
		rest = rest[i+len(s):]
	}
	if !strings.Contains(out, "…\n") || strings.Count(out, "and more") > 30 {
		t.Errorf("long note not truncated:\n%s", out)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestNotify(t *testing.T) {
	tests := []struct {
		name      string
		w         func() (*bytes.Buffer, *Notifier)
		ctx       context.Context
		wantRetry bool
		wantErr   string
	}{
		{"prints", func() (*bytes.Buffer, *Notifier) { var b bytes.Buffer; return &b, New(&b) }, context.Background(), false, ""},
		{"write fails", func() (*bytes.Buffer, *Notifier) { return nil, New(failWriter{}) }, context.Background(), false, "stdout: print batch 0123456789abcdef0123456789abcdef: broken pipe"},
		{"cancelled", func() (*bytes.Buffer, *Notifier) { var b bytes.Buffer; return &b, New(&b) }, cancelled(), true, "context canceled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buf, n := tt.w()
			retry, err := n.Notify(tt.ctx, batch())
			if retry != tt.wantRetry || (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("Notify = %v, %v; want %v, %q", retry, err, tt.wantRetry, tt.wantErr)
			}
			if err == nil && buf.String() != Render(batch()) {
				t.Errorf("printed something else than Render")
			}
		})
	}
}

func cancelled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// TestNotifyConcurrent: batches printed at once do not interleave.
func TestNotifyConcurrent(t *testing.T) {
	var buf bytes.Buffer
	n := New(&buf)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := n.Notify(context.Background(), batch()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if want := strings.Repeat(Render(batch()), 8); buf.String() != want {
		t.Error("concurrent batches interleaved")
	}
}
