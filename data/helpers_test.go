package data

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kubedrift/kubedrift/tracker"
)

// openTemp opens a fresh store in a temporary directory.
func openTemp(t testing.TB, opt Options) *SQLite {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "kubedrift.db"), opt)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// fixture loads the hand-written update in testdata/update.json.
func fixture(t testing.TB) Update {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "update.json"))
	if err != nil {
		t.Fatal(err)
	}
	var u Update
	if err := json.Unmarshal(b, &u); err != nil {
		t.Fatalf("testdata/update.json: %v", err)
	}
	return u
}

// normNote is a note as the store returns it: Kinds and CVEs never nil, SIGs
// nil when empty.
func normNote(n tracker.Note) tracker.Note {
	if n.Kinds == nil {
		n.Kinds = []tracker.Kind{}
	}
	if n.CVEs == nil {
		n.CVEs = []string{}
	}
	if len(n.SIGs) == 0 {
		n.SIGs = nil
	}
	return n
}

func normCVE(c tracker.CVE) tracker.CVE {
	if c.Affected == nil {
		c.Affected = []tracker.AffectedPackage{}
	}
	if len(c.Sources) == 0 {
		c.Sources = nil
	}
	c.Published, c.Modified = c.Published.UTC(), c.Modified.UTC()
	return c
}

func normRelease(r tracker.Release) tracker.Release {
	r.Date = r.Date.UTC()
	return r
}

func normWindow(w tracker.SupportWindow) tracker.SupportWindow {
	w.Released, w.MaintenanceStart, w.EndOfLife = w.Released.UTC(), w.MaintenanceStart.UTC(), w.EndOfLife.UTC()
	return w
}

// jsonEq reports whether a and b marshal identically, which compares times by
// instant and is how other packages consume the values.
func jsonEq(t testing.TB, a, b any) bool {
	t.Helper()
	ja, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	jb, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return string(ja) == string(jb)
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var ctxBG = context.Background()

func date(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}
