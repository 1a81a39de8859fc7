package server

import (
	"strings"
	"testing"
	"time"
)

func TestCheckFresh(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		last     time.Time
		interval time.Duration
		wantErr  string // "" means ready
	}{
		{"just ran", now.Add(-time.Minute), time.Hour, ""},
		{"one interval late", now.Add(-2 * time.Hour), time.Hour, ""},
		{"just under three intervals", now.Add(-3*time.Hour + time.Second), time.Hour, ""},
		{"three intervals", now.Add(-3 * time.Hour), time.Hour, "last successful sync 3h0m0s ago, 3 intervals of 1h0m0s allowed"},
		{"days stale", now.Add(-49 * time.Hour), 6 * time.Hour, "last successful sync 49h0m0s ago"},
		{"never succeeded", time.Time{}, time.Hour, "no successful sync yet"},
		{"not scheduled", time.Time{}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckFresh("sync", tt.last, tt.interval, now)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("CheckFresh = %v, want ready", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("CheckFresh = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}
