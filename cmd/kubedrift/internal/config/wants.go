package config

import (
	"slices"

	"github.com/kubedrift/kubedrift/tracker"
)

// Wants reports whether the channel receives a: its kind is among Kinds, its
// severity at least MinSeverity, its cluster among Clusters and the
// cluster's labels (a.Labels) carry every one of Labels.
//
// A channel scoped to clusters or labels does not receive fleet-wide
// advisories (a new minor, kubedrift itself failing), which have no cluster
// and no labels: route those to an unscoped channel. An advisory with an
// unknown severity ranks below info and is received by no channel, so a
// producer bug shows up in tests rather than as noise.
func (ch Channel) Wants(a tracker.Advisory) bool {
	if len(ch.Kinds) > 0 && !slices.Contains(ch.Kinds, a.Kind) {
		return false
	}
	min := ch.MinSeverity
	if min == "" {
		min = tracker.SeverityInfo
	}
	if !a.Severity.AtLeast(min) {
		return false
	}
	if len(ch.Clusters) > 0 && !slices.Contains(ch.Clusters, a.Cluster) {
		return false
	}
	for k, v := range ch.Labels {
		if got, ok := a.Labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}
