package main

// The curated removals table (data/removals) is checked against the parsed
// changelog here, where both may be imported: data never imports feeds.

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/kubedrift/kubedrift/data/removals"
	"github.com/kubedrift/kubedrift/feeds/changelog"
	"github.com/kubedrift/kubedrift/tracker"
)

// groupVersionRE finds API group/versions named in note text:
// "policy/v1beta1", "kubescheduler.config.k8s.io/v1".
var groupVersionRE = regexp.MustCompile(`\b([a-z0-9-]+(?:\.[a-z0-9-]+)*)/(v[0-9]+(?:(?:alpha|beta)[0-9]+)?)\b`)

// unmapped lists 1.25 removal notes that name an API group/version but have
// no table entry, with the reason.
var unmapped = map[int]string{
	110534: "kubescheduler.config.k8s.io is a kube-scheduler configuration file API, not served by kube-apiserver; the note removes a scheduler plugin",
}

// unmappedAPINotes reports each removal note naming an API group/version
// that has no table entry with that note's PR and group/version and is not
// listed in unmapped, and each unmapped PR that is not a removal note.
func unmappedAPINotes(notes map[int]tracker.Note, rs []tracker.Removal, unmapped map[int]string) []string {
	var out []string
	for pr, n := range notes {
		if _, ok := unmapped[pr]; ok {
			continue
		}
		for _, gv := range groupVersionRE.FindAllString(n.Text, -1) {
			if !slices.ContainsFunc(rs, func(r tracker.Removal) bool { return r.SourcePR == pr && r.GroupVersion() == gv }) {
				out = append(out, fmt.Sprintf("note #%d names %s: add a table entry with source_pr %d, or list it in unmapped with a reason", pr, gv, pr))
			}
		}
	}
	for pr := range unmapped {
		if _, ok := notes[pr]; !ok {
			out = append(out, fmt.Sprintf("unmapped lists #%d, which is not a removal note", pr))
		}
	}
	slices.Sort(out)
	return out
}

// TestRemovalsUnmappedAPINotes runs the mapping check on hand-written notes.
func TestRemovalsUnmappedAPINotes(t *testing.T) {
	notes := map[int]tracker.Note{
		1001: {PR: 1001, Text: "The example.kubedrift.dev/v1beta1 Widget API is no longer served; use example.kubedrift.dev/v1."},
		1002: {PR: 1002, Text: "Removed the deprecated `--widget-mode` flag."},
		1003: {PR: 1003, Text: "gadgets.kubedrift.dev/v2alpha1 configuration files are no longer read."},
	}
	rs := []tracker.Removal{{Subject: "example.kubedrift.dev/v1beta1 Widget", Kind: tracker.RemovalAPI, Group: "example.kubedrift.dev", Version: "v1beta1", Resource: "widgets", RemovedIn: "1.40", SourcePR: 1001}}
	tests := []struct {
		name     string
		rs       []tracker.Removal
		unmapped map[int]string
		want     []string
	}{
		{"all mapped", rs, map[int]string{1003: "a configuration file API"}, []string{
			"note #1001 names example.kubedrift.dev/v1: add a table entry with source_pr 1001, or list it in unmapped with a reason",
		}},
		{"missing entries", nil, map[int]string{4242: "stale"}, []string{
			"note #1001 names example.kubedrift.dev/v1: add a table entry with source_pr 1001, or list it in unmapped with a reason",
			"note #1001 names example.kubedrift.dev/v1beta1: add a table entry with source_pr 1001, or list it in unmapped with a reason",
			"note #1003 names gadgets.kubedrift.dev/v2alpha1: add a table entry with source_pr 1003, or list it in unmapped with a reason",
			"unmapped lists #4242, which is not a removal note",
		}},
		{"note fully excused", nil, map[int]string{1001: "example", 1003: "config"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := unmappedAPINotes(notes, tt.rs, tt.unmapped)
			if !slices.Equal(got, tt.want) {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestRemovalsAgainstCorpusNotes checks the curated removals table (data) against the parsed 1.25 changelog:
// every entry removed in 1.25 with a source_pr points at a real note
// classified removal, and every 1.25 removal note that names an API
// group/version is in the table or listed in unmapped.
func TestRemovalsAgainstCorpusNotes(t *testing.T) {
	dir := corpusDir(t)
	path := filepath.Join(dir, "kubernetes", "CHANGELOG-1.25.md")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	res, err := changelog.ParseKubernetes(path, src)
	if err != nil {
		t.Fatal(err)
	}
	removalNotes := map[int]tracker.Note{}
	for _, n := range res.Notes {
		if n.Version == "v1.25.0" && n.HasKind(tracker.KindRemoval) && n.PR > 0 {
			removalNotes[n.PR] = n
		}
	}
	if len(removalNotes) == 0 {
		t.Fatal("no removal notes parsed from the 1.25 changelog")
	}
	rs, err := removals.Parse(removals.Embedded())
	if err != nil {
		t.Fatalf("embedded removals table: %v", err)
	}
	byPR := map[int][]tracker.Removal{}
	for _, r := range rs {
		byPR[r.SourcePR] = append(byPR[r.SourcePR], r)
	}

	t.Run("entries point at removal notes", func(t *testing.T) {
		for _, r := range rs {
			if r.RemovedIn != "1.25" || r.Source == tracker.SourceCurated {
				continue
			}
			t.Run(r.Subject, func(t *testing.T) {
				if _, ok := removalNotes[r.SourcePR]; !ok {
					t.Errorf("source_pr %d is not a 1.25 note classified removal", r.SourcePR)
				}
			})
		}
	})
	t.Run("api removal notes are mapped", func(t *testing.T) {
		for _, msg := range unmappedAPINotes(removalNotes, rs, unmapped) {
			t.Error(msg)
		}
	})
	t.Run("beta APIs no longer served", func(t *testing.T) {
		// #108797 names no group/version in its text; the table carries
		// the APIs it stops serving.
		var gvs []string
		for _, r := range byPR[108797] {
			gvs = append(gvs, r.GroupVersion()+"/"+r.Resource)
		}
		slices.Sort(gvs)
		want := []string{
			"autoscaling/v2beta1/horizontalpodautoscalers", "batch/v1beta1/cronjobs",
			"discovery.k8s.io/v1beta1/endpointslices", "events.k8s.io/v1beta1/events",
			"node.k8s.io/v1beta1/runtimeclasses", "policy/v1beta1/poddisruptionbudgets",
			"policy/v1beta1/podsecuritypolicies",
		}
		if !slices.Equal(gvs, want) {
			t.Errorf("entries of #108797:\n got %v\nwant %v", gvs, want)
		}
	})
}
