package changelog

import (
	"os"
	"path/filepath"
	"testing"
)

func addFixtures(f *testing.F, glob string) {
	files, err := filepath.Glob(glob)
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzParseKubernetes: never panics; notes belong to a listed release's
// final; CVEs sorted, unique, non-nil; an error only without releases.
func FuzzParseKubernetes(f *testing.F) {
	addFixtures(f, "testdata/*.md")
	f.Fuzz(func(t *testing.T, src []byte) {
		res, err := ParseKubernetes("fuzz.md", src)
		if err != nil {
			if res != nil && len(res.Releases) > 0 {
				t.Fatalf("error %v with %d releases", err, len(res.Releases))
			}
			return
		}
		checkInvariants(t, res)
	})
}

// FuzzParseGitHubRelease: never panics; same invariants as above.
func FuzzParseGitHubRelease(f *testing.F) {
	addFixtures(f, "testdata/github/*.md")
	f.Fuzz(func(t *testing.T, body []byte) {
		res, err := ParseGitHubRelease("demo", "v1.2.0-rc.1", "fuzz.md", body)
		if err != nil {
			return
		}
		checkInvariants(t, res)
		for _, n := range res.Notes {
			if n.Version != "v1.2.0" || n.FirstSeen != "v1.2.0-rc.1" {
				t.Fatalf("note attributed to %s/%s", n.Version, n.FirstSeen)
			}
		}
	})
}
