package changelog

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/text"
)

func corpusChangelog(b *testing.B) []byte {
	src, err := os.ReadFile(filepath.Join(corpusDir(b), "kubernetes", "CHANGELOG-1.25.md"))
	if err != nil {
		b.Fatal(err)
	}
	return src
}

func BenchmarkParseChangelog(b *testing.B) {
	src := corpusChangelog(b)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseKubernetes("CHANGELOG-1.25.md", src); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGoldmarkBaseline is the floor: goldmark parsing the same bytes.
func BenchmarkGoldmarkBaseline(b *testing.B) {
	src := corpusChangelog(b)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		goldmark.New().Parser().Parse(text.NewReader(src))
	}
}

// BenchmarkParseOverhead alternates goldmark alone and ParseKubernetes in the
// same loop, so both see the same machine load, and reports their time ratio
// (the target is <= 1.3).
func BenchmarkParseOverhead(b *testing.B) {
	src := corpusChangelog(b)
	b.SetBytes(int64(len(src)))
	var base, full time.Duration
	// Each side starts from a collected heap, so neither pays for the
	// other's garbage and the ratio compares the two parses alone.
	gm := func() {
		runtime.GC()
		t := time.Now()
		goldmark.New().Parser().Parse(text.NewReader(src))
		base += time.Since(t)
	}
	ours := func() {
		runtime.GC()
		t := time.Now()
		if _, err := ParseKubernetes("CHANGELOG-1.25.md", src); err != nil {
			b.Fatal(err)
		}
		full += time.Since(t)
	}
	for i := 0; b.Loop(); i++ {
		if i%2 == 0 {
			gm()
			ours()
		} else {
			ours()
			gm()
		}
	}
	b.ReportMetric(float64(full)/float64(base), "ratio")
}

// pathological builds about size bytes of hostile changelog: many headings,
// entries with nested lists 30 deep and code blocks, stray headings.
func pathological(size int) []byte {
	var sb strings.Builder
	sb.Grow(size + 4096)
	sb.WriteString("# v1.99.0\n\n## Urgent Upgrade Notes\n\n")
	for i := 0; sb.Len() < size; i++ {
		switch i % 4 {
		case 0:
			fmt.Fprintf(&sb, "## Changes by Kind\n\n### Feature\n\n")
		case 1:
			fmt.Fprintf(&sb, "### Bug or Regression\n\n### Uncategorized\n\n# not a version %d\n\n### Mystery %d\n\n", i, i)
		case 2:
			sb.WriteString("## Urgent Upgrade Notes \n### Design\n#### x\n### Feature\n## Changes by Kind\n### Feature\n")
		case 3:
			sb.WriteString("## Important Security Information\n### CVE-2030-0001: t\n#### y\n**Fixed Versions**:\n- kubelet v1.99.1\n## Changes by Kind\n### Design\n")
		}
		fmt.Fprintf(&sb, "- entry %d cites #%d and CVE-2030-%04d ([#%d](https://github.com/kubernetes/kubernetes/pull/%d), [@u](https://github.com/u)) [SIG Node and API Machinery]\n", i, i+1, i%10000, i, i)
		if i%16 == 0 {
			for d := 1; d <= 30; d++ {
				fmt.Fprintf(&sb, "%s- nested %d the `--flag-%d` flag was removed\n", strings.Repeat("  ", d), d, d)
			}
			sb.WriteString("  ```\n  code\n  ```\n")
		}
	}
	return []byte(sb.String())
}

// BenchmarkParsePathological shows time per byte stays flat as input grows.
func BenchmarkParsePathological(b *testing.B) {
	for _, mb := range []int{1, 2, 5, 10} {
		src := pathological(mb << 20)
		headings := strings.Count(string(src), "\n#")
		b.Run(fmt.Sprintf("%dMB", mb), func(b *testing.B) {
			b.SetBytes(int64(len(src)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ParseKubernetes("pathological.md", src); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(headings), "headings")
		})
	}
}
