package fetch

import (
	"testing"
	"time"
)

func TestBackoffBounded(t *testing.T) {
	tests := []struct {
		name      string
		base, max time.Duration
	}{
		{"defaults", 0, 0},
		{"small", 10 * time.Millisecond, 80 * time.Millisecond},
		{"max below base", time.Second, time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := NewTransport(Options{BaseDelay: tc.base, MaxDelay: tc.max})
			base, maxDelay := tr.opt.BaseDelay, tr.opt.MaxDelay
			for attempt := 1; attempt <= 80; attempt++ {
				// The highest jitter draw gives the ceiling itself.
				tr.jitter = func(n int64) int64 { return n }
				ceiling := tr.backoff(attempt)
				want := maxDelay
				if attempt < 30 && base<<(attempt-1) < maxDelay {
					want = base << (attempt - 1)
				}
				if ceiling != want {
					t.Errorf("attempt %d: ceiling %s, want %s", attempt, ceiling, want)
				}
				tr.jitter = func(int64) int64 { return 0 }
				if d := tr.backoff(attempt); d != 0 {
					t.Errorf("attempt %d: lowest draw %s, want 0", attempt, d)
				}
			}
			tr = NewTransport(Options{BaseDelay: tc.base, MaxDelay: tc.max})
			for attempt := 1; attempt <= 1000; attempt++ {
				if d := tr.backoff(attempt % 70); d < 0 || d > maxDelay {
					t.Fatalf("attempt %d: delay %s outside [0, %s]", attempt, d, maxDelay)
				}
			}
		})
	}
}
