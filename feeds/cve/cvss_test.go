package cve

import (
	"errors"
	"testing"
)

func TestScoreCVSS3(t *testing.T) {
	tests := []struct {
		vector string
		score  float64
		rating string
	}{
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, "Critical"},
		{"CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, "Critical"},
		{"CVSS:3.1/AV:N/AC:H/PR:H/UI:R/S:C/C:L/I:L/A:L", 5.1, "Medium"},
		{"CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 8.8, "High"},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0, "Critical"},
		{"CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8, "High"},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1, "Medium"},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5, "High"},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N", 5.3, "Medium"},
		// Upstream's announcements: CVE-2023-2431 Low (3.4), CVE-2023-2727 Medium (6.5).
		{"CVSS:3.1/AV:L/AC:L/PR:H/UI:N/S:U/C:L/I:L/A:N", 3.4, "Low"},
		{"CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:N", 6.5, "Medium"},
		// Changed scope lowers the PR:L weight to 0.68.
		{"CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:C/C:H/I:N/A:N", 6.5, "Medium"},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0, "None"},
		// Metric order is free and temporal metrics do not change the base score.
		{"CVSS:3.1/S:U/AV:N/AC:L/PR:N/UI:N/C:H/I:H/A:H/E:P/RL:O", 9.8, "Critical"},
	}
	for _, tt := range tests {
		t.Run(tt.vector, func(t *testing.T) {
			got, err := ScoreCVSS3(tt.vector)
			if err != nil {
				t.Fatalf("ScoreCVSS3: %v", err)
			}
			if got.Score != tt.score || got.Rating != tt.rating || got.Vector != tt.vector {
				t.Errorf("ScoreCVSS3 = %+v, want score %v rating %s", got, tt.score, tt.rating)
			}
		})
	}
}

func TestScoreCVSS3Errors(t *testing.T) {
	tests := []struct{ name, vector string }{
		{"empty", ""},
		{"v2", "AV:N/AC:L/Au:N/C:P/I:P/A:P"},
		{"v4", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"},
		{"bad value", "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"},
		{"missing metric", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H"},
		{"duplicate", "CVSS:3.1/AV:N/AV:L/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"},
		{"unknown metric", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/ZZ:1"},
		{"no colon", "CVSS:3.1/AV:N/AC/PR:N/UI:N/S:U/C:H/I:H/A:H"},
		{"trailing slash", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/"},
		{"bad temporal", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:Q"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ScoreCVSS3(tt.vector)
			if !errors.Is(err, ErrBadVector) {
				t.Fatalf("ScoreCVSS3(%q) error = %v, want ErrBadVector", tt.vector, err)
			}
			if got.Vector != tt.vector || got.Score != 0 || got.Rating != "" {
				t.Errorf("ScoreCVSS3(%q) = %+v, want vector only", tt.vector, got)
			}
		})
	}
}

func TestRating(t *testing.T) {
	for _, tt := range []struct {
		score float64
		want  string
	}{{0, "None"}, {0.1, "Low"}, {3.9, "Low"}, {4, "Medium"}, {6.9, "Medium"}, {7, "High"}, {8.9, "High"}, {9, "Critical"}, {10, "Critical"}} {
		if got := Rating(tt.score); got != tt.want {
			t.Errorf("Rating(%v) = %s, want %s", tt.score, got, tt.want)
		}
	}
}
