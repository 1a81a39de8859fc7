package schedule

import (
	"slices"
	"testing"

	"github.com/kubedrift/kubedrift/tracker"
)

// FuzzParseSchedule checks that no input panics ParseSchedule or ParseEOL and
// that what they return is canonical: parseable minors in order, final patch
// versions of listed-or-valid minors. Seeds live in
// testdata/fuzz/FuzzParseSchedule.
func FuzzParseSchedule(f *testing.F) {
	f.Add([]byte("schedules:\n- release: 1.30\n  endOfLifeDate: 2099-06-28\n  previousPatches:\n  - release: 1.30.0\n    targetDate: 2098-04-17\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, _ := ParseSchedule("fuzz.yaml", b)
		checkWindows(t, s.Windows)
		for _, r := range slices.Concat(s.Patches, s.Upcoming) {
			v, err := tracker.ParseVersion(r.Version)
			if err != nil || v.Core() != r.Version || v.IsPrerelease() || r.Component != tracker.ComponentKubernetes {
				t.Errorf("release %+v is not a canonical final kubernetes version", r)
			}
		}
		eol, _ := ParseEOL("fuzz.yaml", b)
		checkWindows(t, eol)
		checkWindows(t, MergeWindows(s.Windows, eol))
	})
}

func checkWindows(t *testing.T, ws []tracker.SupportWindow) {
	t.Helper()
	var prev tracker.Minor
	for i, w := range ws {
		m, err := tracker.ParseMinor(w.Minor)
		if err != nil || m.String() != w.Minor {
			t.Errorf("window minor %q not canonical", w.Minor)
			continue
		}
		if i > 0 && m.Compare(prev) <= 0 {
			t.Errorf("windows not sorted or duplicated at %s", w.Minor)
		}
		prev = m
	}
}
