package removals

import (
	_ "embed"
	"errors"
	"fmt"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/kubedrift/kubedrift/tracker"
)

// SchemaVersion is the only table schema this package reads.
const SchemaVersion = 1

//go:embed removals.yaml
var embedded []byte

// Embedded returns the built-in table, as YAML. The slice is a copy: callers
// may modify it.
func Embedded() []byte { return slices.Clone(embedded) }

type file struct {
	Version  int               `json:"version"`
	Removals []tracker.Removal `json:"removals"`
}

// Parse decodes and validates a removals table. Unknown fields, an
// unsupported schema version, invalid entries and duplicates are errors;
// entries that are valid are still returned alongside the error, so a
// caller may report the problems and go on with the rest.
//
// Two entries are duplicates when they have the same kind and subject, or the
// same kind and API group/version/resource.
func Parse(b []byte) ([]tracker.Removal, error) {
	var f file
	if err := yaml.UnmarshalStrict(b, &f); err != nil {
		return nil, fmt.Errorf("removals: decode table: %w", err)
	}
	if f.Version != SchemaVersion {
		return nil, fmt.Errorf("removals: decode table: schema version %d is not supported (want %d)", f.Version, SchemaVersion)
	}
	var errs []error
	out := make([]tracker.Removal, 0, len(f.Removals))
	seen := make(map[string]int, 2*len(f.Removals))
	for i, r := range f.Removals {
		if err := r.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("removals: entry %d: %w", i+1, err))
			continue
		}
		keys := []string{string(r.Kind) + "\x00" + strings.ToLower(r.Subject)}
		if r.Resource != "" {
			keys = append(keys, string(r.Kind)+"\x00"+r.GroupVersion()+"/"+r.Resource)
		}
		dup := false
		for _, k := range keys {
			if j, ok := seen[k]; ok {
				errs = append(errs, fmt.Errorf("removals: entry %d (%q) duplicates entry %d", i+1, r.Subject, j))
				dup = true
				break
			}
		}
		if dup {
			continue
		}
		for _, k := range keys {
			seen[k] = i + 1
		}
		out = append(out, r)
	}
	return out, errors.Join(errs...)
}

// Merge extends base with extra (user-supplied entries). Extending is strict:
// an entry of extra that duplicates one of base is an error, never a silent
// override; the others are added.
func Merge(base, extra []tracker.Removal) ([]tracker.Removal, error) {
	key := func(r tracker.Removal) string {
		if r.Resource != "" {
			return string(r.Kind) + "\x00" + r.GroupVersion() + "/" + r.Resource
		}
		return string(r.Kind) + "\x00" + strings.ToLower(r.Subject)
	}
	have := make(map[string]bool, len(base))
	for _, r := range base {
		have[key(r)] = true
	}
	out := slices.Clone(base)
	var errs []error
	for _, r := range extra {
		if have[key(r)] {
			errs = append(errs, fmt.Errorf("removals: merge: %q (%s) is already in the table", r.Subject, r.Kind))
			continue
		}
		have[key(r)] = true
		out = append(out, r)
	}
	return out, errors.Join(errs...)
}

// Less orders entries as the table is sorted: by removed_in minor, then
// kind, then subject.
func Less(a, b tracker.Removal) bool { return Compare(a, b) < 0 }

// Compare is the table's sort order (see Less), for slices.SortFunc.
func Compare(a, b tracker.Removal) int {
	am, _ := tracker.ParseMinor(a.RemovedIn)
	bm, _ := tracker.ParseMinor(b.RemovedIn)
	if c := am.Compare(bm); c != 0 {
		return c
	}
	if c := strings.Compare(string(a.Kind), string(b.Kind)); c != 0 {
		return c
	}
	return strings.Compare(a.Subject, b.Subject)
}
