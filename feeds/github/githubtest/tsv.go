package githubtest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/kubedrift/kubedrift/tracker"
)

// ReleasesFromTSV builds kubernetes/kubernetes releases from the corpus
// releases.tsv format: a header row naming at least the columns "version"
// and "prerelease" (others, such as minor and source_file, are ignored),
// then one tab-separated row per version. Rows that do not parse are
// reported in the error, by line, and skipped; the rest are returned.
func ReleasesFromTSV(tsv []byte) ([]Release, error) {
	sc := bufio.NewScanner(bytes.NewReader(tsv))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var (
		out     []Release
		errs    []error
		col     = map[string]int{}
		line    int
		headerd bool
		seen    = map[string]int{}
	)
	for sc.Scan() {
		line++
		text := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(text) == "" || strings.HasPrefix(text, "#") {
			continue
		}
		fields := strings.Split(text, "\t")
		if !headerd {
			for i, f := range fields {
				col[strings.TrimSpace(f)] = i
			}
			for _, need := range []string{"version", "prerelease"} {
				if _, ok := col[need]; !ok {
					return nil, fmt.Errorf("releases TSV line %d: header lacks the %q column", line, need)
				}
			}
			headerd = true
			continue
		}
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(fields) {
				return strings.TrimSpace(fields[i])
			}
			return ""
		}
		tag := get("version")
		v, err := tracker.ParseVersion(tag)
		if err != nil {
			errs = append(errs, fmt.Errorf("releases TSV line %d: %w", line, err))
			continue
		}
		pre, err := strconv.ParseBool(get("prerelease"))
		if err != nil {
			errs = append(errs, fmt.Errorf("releases TSV line %d: prerelease %q: want true or false", line, get("prerelease")))
			continue
		}
		if pre != v.IsPrerelease() {
			errs = append(errs, fmt.Errorf("releases TSV line %d: %s marked prerelease=%t", line, tag, pre))
			continue
		}
		if m := get("minor"); m != "" && m != v.MinorVersion().String() {
			errs = append(errs, fmt.Errorf("releases TSV line %d: %s listed under minor %q", line, tag, m))
			continue
		}
		if first, dup := seen[tag]; dup {
			errs = append(errs, fmt.Errorf("releases TSV line %d: %s repeats line %d", line, tag, first))
			continue
		}
		seen[tag] = line
		out = append(out, Release{Owner: "kubernetes", Repo: "kubernetes", Tag: tag, Prerelease: pre})
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, fmt.Errorf("releases TSV after line %d: %w", line, err))
	}
	if !headerd && len(errs) == 0 {
		errs = append(errs, errors.New("releases TSV: no header row"))
	}
	return out, errors.Join(errs...)
}
