package removals_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kubedrift/kubedrift/data/removals"
	"github.com/kubedrift/kubedrift/tracker"
)

func embedded(t *testing.T) []tracker.Removal {
	t.Helper()
	rs, err := removals.Parse(removals.Embedded())
	if err != nil {
		t.Fatalf("embedded table: %v", err)
	}
	return rs
}

// TestEmbeddedTable checks the file itself: it parses, is sorted, every entry
// is valid and none is duplicated (Parse rejects duplicates).
func TestEmbeddedTable(t *testing.T) {
	rs := embedded(t)
	if len(rs) < 20 {
		t.Fatalf("embedded table has %d entries, want the 1.25 removals and more", len(rs))
	}
	for i := 1; i < len(rs); i++ {
		if removals.Compare(rs[i-1], rs[i]) >= 0 {
			t.Errorf("entry %d (%s %q) is not sorted after entry %d (%s %q): want removed_in, kind, subject order",
				i+1, rs[i].RemovedIn, rs[i].Subject, i, rs[i-1].RemovedIn, rs[i-1].Subject)
		}
	}
	for _, r := range rs {
		if r.Replacement != "" && strings.Contains(r.Replacement, "/") && r.Kind == tracker.RemovalAPI {
			rv := strings.Fields(r.Replacement)[0]
			if rv == r.GroupVersion() {
				t.Errorf("%q: replacement %q is the removed version itself", r.Subject, r.Replacement)
			}
		}
		if r.Kind == tracker.RemovalAPI && !strings.HasPrefix(r.Subject, r.GroupVersion()+" ") {
			t.Errorf("%q: an api subject starts with its group/version %q", r.Subject, r.GroupVersion())
		}
	}
	// The canonical cases must be there.
	for _, want := range []string{"policy/v1beta1 PodSecurityPolicy", "PodSecurityPolicy", "Docker Engine runtime (dockershim)",
		"batch/v1beta1 CronJob", "flowcontrol.apiserver.k8s.io/v1beta2 FlowSchema"} {
		if !slices.ContainsFunc(rs, func(r tracker.Removal) bool { return r.Subject == want }) {
			t.Errorf("embedded table lacks %q", want)
		}
	}
	// Embedded returns a copy.
	b := removals.Embedded()
	b[0] = '!'
	if removals.Embedded()[0] == '!' {
		t.Error("Embedded returned the package's own bytes")
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		file      string
		wantValid int
		wantErrs  []string
	}{
		{"bad.yaml", 2, []string{
			`entry 2 ("example.kubedrift.dev/v1alpha1 Widget") duplicates entry 1`,
			`entry 3: removal "kubelet --made-up-flag": removed_in`,
			`entry 4: removal "Gizmo": kind "gadget" is not one of`,
			`entry 5: removal "kube-proxy --fake-mode": deprecated_in 1.31 is after removed_in 1.30`,
			`entry 6: removal "example.kubedrift.dev/v1beta1 Widget": resource "Widgets" must be the lower-case plural; source_pr is required unless source is curated`,
		}},
		{"unknown-field.yaml", 0, []string{`unknown field "removed_since"`}},
		{"version2.yaml", 0, []string{"schema version 2 is not supported"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			rs, err := removals.Parse(b)
			if err == nil {
				t.Fatal("Parse: no error")
			}
			for _, w := range tt.wantErrs {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			if len(rs) != tt.wantValid {
				t.Errorf("got %d valid entries, want %d", len(rs), tt.wantValid)
			}
		})
	}
}

func TestMerge(t *testing.T) {
	base := embedded(t)
	extra := []tracker.Removal{
		{Subject: "policy/v1beta1 PodSecurityPolicy (again)", Kind: tracker.RemovalAPI, Group: "policy", Version: "v1beta1", Resource: "podsecuritypolicies", RemovedIn: "1.25", Source: tracker.SourceCurated},
		{Subject: "example.kubedrift.dev/v1 Widget", Kind: tracker.RemovalAPI, Group: "example.kubedrift.dev", Version: "v1", Resource: "widgets", RemovedIn: "1.40", Source: tracker.SourceCurated},
	}
	got, err := removals.Merge(base, extra)
	if err == nil || !strings.Contains(err.Error(), "already in the table") {
		t.Errorf("Merge error = %v, want the duplicate PodSecurityPolicy rejected", err)
	}
	if len(got) != len(base)+1 || got[len(got)-1].Subject != "example.kubedrift.dev/v1 Widget" {
		t.Errorf("Merge kept %d entries (last %q), want base plus the widget", len(got), got[len(got)-1].Subject)
	}
}
