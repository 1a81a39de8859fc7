package cve

import (
	"os"
	"path/filepath"
	"testing"
)

// corpusDir finds ../shared/corpus next to the module root, skipping the test
// when it is absent (a user's checkout has no shared corpus).
func corpusDir(t testing.TB, sub string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("no go.mod above the package directory; upstream corpus unavailable")
		}
		dir = parent
	}
	p := filepath.Join(dir, "..", "shared", "corpus", sub)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("upstream corpus not found at %s (it lives outside the repository): %v", p, err)
	}
	return p
}
