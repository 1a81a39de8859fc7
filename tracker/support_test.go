package tracker

import (
	"testing"
	"time"
)

func TestSupport(t *testing.T) {
	c := testCatalog(t)
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	days := func(n int) *int { return &n }
	tests := []struct {
		name     string
		minor    string
		now      time.Time
		status   string
		daysLeft *int
	}{
		// 1.27: maintenance from 2024-04-28, end of life 2024-06-28.
		{"day before maintenance", "1.27", at("2024-04-27T23:59:59Z"), SupportSupported, days(62)},
		{"maintenance day", "1.27", at("2024-04-28T00:00:00Z"), SupportMaintenance, days(61)},
		{"day after maintenance", "1.27", at("2024-04-29T12:00:00Z"), SupportMaintenance, days(60)},
		{"day before end of life", "1.27", at("2024-06-27T18:00:00Z"), SupportMaintenance, days(1)},
		{"end of life day", "1.27", at("2024-06-28T08:00:00Z"), SupportEOL, days(0)},
		{"day after end of life", "1.27", at("2024-06-29T00:00:00Z"), SupportEOL, days(-1)},
		{"long after end of life", "1.27", at("2025-06-28T00:00:00Z"), SupportEOL, days(-365)},
		// 19:00 UTC on the 27th is the 28th in Sydney: UTC dates decide.
		{"other zone before end of life", "1.27", at("2024-06-28T05:00:00+10:00"), SupportMaintenance, days(1)},
		{"released, well before maintenance", "1.24", at("2022-06-01T00:00:00Z"), SupportSupported, days(422)},
		{"only end of life known, before", "1.26", at("2024-02-27T00:00:00Z"), SupportSupported, days(1)},
		{"only end of life known, on", "1.26", at("2024-02-28T00:00:00Z"), SupportEOL, days(0)},
		{"only maintenance known, before", "1.25", at("2023-08-27T00:00:00Z"), SupportSupported, nil},
		{"only maintenance known, on", "1.25", at("2023-08-28T00:00:00Z"), SupportMaintenance, nil},
		{"window without dates", "1.28", at("2024-01-01T00:00:00Z"), SupportUnknown, nil},
		{"no window", "1.30", at("2024-01-01T00:00:00Z"), SupportUnknown, nil},
		{"zero now", "1.27", time.Time{}, SupportUnknown, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.Support(mustMinor(t, tt.minor), tt.now)
			if got.Status != tt.status {
				t.Errorf("status = %q; want %q", got.Status, tt.status)
			}
			switch {
			case tt.daysLeft == nil && got.DaysLeft != nil:
				t.Errorf("days left = %d; want none", *got.DaysLeft)
			case tt.daysLeft != nil && (got.DaysLeft == nil || *got.DaysLeft != *tt.daysLeft):
				t.Errorf("days left = %v; want %d", got.DaysLeft, *tt.daysLeft)
			}
		})
	}
	got := c.Support(mustMinor(t, "1.24"), at("2023-08-01T00:00:00Z"))
	if got.EndOfLife != "2023-07-28" || got.MaintenanceStart != "2023-05-28" {
		t.Errorf("dates = %q, %q; want 2023-07-28, 2023-05-28", got.EndOfLife, got.MaintenanceStart)
	}
}
