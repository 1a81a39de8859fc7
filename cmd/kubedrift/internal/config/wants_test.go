package config

import (
	"testing"

	"github.com/kubedrift/kubedrift/tracker"
)

func TestWants(t *testing.T) {
	prodEU := tracker.Advisory{Kind: tracker.AdvisorySecurityFix, Severity: tracker.SeverityHigh, Cluster: "prod-eu", Labels: map[string]string{"env": "prod", "team": "payments"}}
	fleet := tracker.Advisory{Kind: tracker.AdvisoryNewRelease, Severity: tracker.SeverityInfo, Subject: "1.31"}
	tests := []struct {
		name string
		doc  string // one channel's keys besides name and type
		a    tracker.Advisory
		want bool
	}{
		{"no filters takes everything", "", prodEU, true},
		{"no filters takes fleet-wide", "", fleet, true},
		{"kind listed", "kinds: [eol, security]", prodEU, true},
		{"kind not listed", "kinds: [eol]", prodEU, false},
		{"severity above minimum", "min_severity: medium", prodEU, true},
		{"severity at minimum", "min_severity: high", prodEU, true},
		{"severity below minimum", "min_severity: critical", prodEU, false},
		{"unknown advisory severity", "", tracker.Advisory{Kind: tracker.AdvisoryEOL, Severity: "bogus"}, false},
		{"cluster listed", "clusters: [prod-us, prod-eu]", prodEU, true},
		{"cluster not listed", "clusters: [prod-us]", prodEU, false},
		{"cluster scope drops fleet-wide", "clusters: [prod-us]", fleet, false},
		{"labels all match", "labels: {env: prod, team: payments}", prodEU, true},
		{"one label differs", "labels: {env: prod, team: platform}", prodEU, false},
		{"label missing", "labels: {site: dc1}", prodEU, false},
		{"label scope drops fleet-wide", "labels: {env: prod}", fleet, false},
		{"every filter matches", "kinds: [security]\n    min_severity: high\n    clusters: [prod-eu]\n    labels: {env: prod}", prodEU, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := "channels:\n  - name: c\n    type: stdout\n"
			if tt.doc != "" {
				doc += "    " + tt.doc + "\n"
			}
			c, err := Parse("wants.yaml", []byte(doc))
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Channels[0].Wants(tt.a); got != tt.want {
				t.Errorf("Wants = %v, want %v", got, tt.want)
			}
		})
	}
	// A hand-built Channel without defaults still behaves.
	if !(Channel{}).Wants(prodEU) {
		t.Error("zero Channel refuses an advisory")
	}
}
