package inventory

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kubedrift/kubedrift/tracker"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

func TestLoadFleet(t *testing.T) {
	cs, err := Load("testdata/fleet.yaml")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	got, err := json.MarshalIndent(cs, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	golden := "testdata/fleet.golden.json"
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("read golden (run with -update to create): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("clusters differ from %s (run with -update after checking):\n%s", golden, got)
	}

	// The properties the golden file encodes, stated so a bad -update is caught.
	byName := map[string]tracker.Cluster{}
	for _, c := range cs {
		byName[c.Name] = c
		if c.Source != "inventory:testdata/fleet.yaml" {
			t.Errorf("%s: Source = %q", c.Name, c.Source)
		}
		if !slices.Equal(c.ControlPlaneVersions, []string{c.Version}) {
			t.Errorf("%s: ControlPlaneVersions = %v, want [%s]", c.Name, c.ControlPlaneVersions, c.Version)
		}
	}
	tests := []struct {
		name, dist string
		nodes      []string
		pools      []string
	}{
		{"prod-eu", "eks", []string{"general-1", "general-2", "general-3", "general-4", "general-5", "gpu-a"}, []string{"general", "general", "general", "general", "general", "gpu"}},
		{"staging-us", "gke", []string{"node-1", "node-2"}, []string{"", ""}},
		{"factory-floor", "rke2", []string{"line-1", "line-2"}, []string{"line", "line"}},
		{"lab", "k3s", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ok := byName[tt.name]
			if !ok {
				t.Fatalf("cluster missing; got %v", cs)
			}
			if c.Distribution != tt.dist {
				t.Errorf("Distribution = %q, want %q", c.Distribution, tt.dist)
			}
			var names, pools []string
			for _, n := range c.Nodes {
				names, pools = append(names, n.Name), append(pools, n.Pool)
			}
			if !slices.Equal(names, tt.nodes) || !slices.Equal(pools, tt.pools) {
				t.Errorf("nodes = %v pools = %v, want %v %v", names, pools, tt.nodes, tt.pools)
			}
		})
	}
	prod := byName["prod-eu"]
	if n := prod.Nodes[0]; n.KubeletVersion != "v1.23.9-eks-abc1234" || n.KubeProxyVersion != "v1.23.9" || n.ContainerRuntime != "containerd://1.6.8" {
		t.Errorf("general-1 = %+v", n)
	}
	if n := prod.Nodes[3]; n.KubeletVersion != "v1.24.3-eks-abc1234" || n.KubeProxyVersion != "" {
		t.Errorf("general-4 = %+v", n)
	}
	if prod.Labels["team"] != "payments" || prod.Labels["env"] != "prod" {
		t.Errorf("labels = %v", prod.Labels)
	}
}

// TestParseErrors checks that every problem in a file is reported, each with
// its line, and that the valid clusters are still returned.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		file string
		// want lists, in order, one substring per reported problem; each must
		// also start with "testdata/<file>:".
		want []string
		kept []string
	}{
		{"unknown-key.yaml", []string{
			`:4: cluster "prod-eu": unknown key "verison"`,
			`:10: cluster "ok": node entry: unknown key "cuont"`,
			`:11: top level: unknown key "extra"`,
		}, nil},
		{"missing-name.yaml", []string{
			`:2: cluster #1: missing name`,
			`:3: cluster #2: name is empty`,
		}, []string{"kept"}},
		{"duplicate-name.yaml", []string{
			`:6: cluster "prod-eu": duplicate cluster name (first at line 2)`,
		}, []string{"prod-eu", "prod-us"}},
		{"bad-version.yaml", []string{
			`:3: cluster "prod-eu": invalid version "v1.2x": `,
			`:5: cluster "dev": invalid version "1.25": `,
			`:10: cluster "test": node entry: invalid version "v1.25": `,
			`:11: cluster "test": node entry: invalid kube_proxy "latest": `,
			`:12: cluster "no-version": missing version`,
		}, nil},
		{"bad-count.yaml", []string{
			`:7: cluster "zero": node entry: count must be at least 1, got 0`,
			`:13: cluster "negative": node entry: count must be at least 1, got -4`,
			`:19: cluster "words": node entry: count: want a whole number, got "twelve"`,
			`:25: cluster "huge": node entry: count 100001 exceeds the limit of 100000`,
		}, nil},
		{"unknown-distribution.yaml", []string{
			`:3: cluster "prod-eu": unknown distribution "eks-anywhere"`,
		}, []string{"fine"}},
		{"node-errors.yaml", []string{
			`:5: cluster "mixed": node entry: needs a name (one node) or a pool`,
			`:8: cluster "mixed": node entry: duplicate node name "n1" (first at line 6)`,
			`:10: cluster "mixed": node entry "n2": count applies to pools`,
			`:13: cluster "mixed": node entry: missing version`,
			`:15: cluster "mixed": node entry: want a mapping, got a scalar`,
		}, nil},
		{"wrong-types.yaml", []string{
			`:2: cluster #1: name: want a string, got a list`,
			`:7: cluster "labels-nested": label "env": want a string, got a mapping`,
			`:10: cluster "nodes-map": nodes: want a list, got a mapping`,
			`:11: cluster #4: want a mapping, got a scalar`,
		}, nil},
		{"wrong-shape.yaml", []string{`:2: clusters: want a list, got a mapping`}, nil},
		{"two-docs.yaml", []string{`:4: more than one YAML document`}, nil},
		{"anchors.yaml", []string{`:1: top level: unknown key "common"`}, nil},
		{"empty.yaml", []string{`: empty file: want a top-level "clusters:" list`}, nil},
		// The YAML library decides which line a syntax error belongs to.
		{"syntax.yaml", []string{`invalid YAML: `}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join("testdata", tt.file)
			cs, err := Load(path)
			if err == nil {
				t.Fatalf("no error; clusters %v", cs)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tt.want) {
				t.Errorf("got %d problems, want %d:\n%v", len(lines), len(tt.want), err)
			}
			for i, w := range tt.want {
				if i >= len(lines) {
					break
				}
				if !strings.HasPrefix(lines[i], path+":") || !strings.Contains(lines[i], w) {
					t.Errorf("problem %d = %q, want %q%s...", i, lines[i], path, w)
				}
			}
			var names []string
			for _, c := range cs {
				names = append(names, c.Name)
			}
			if !slices.Equal(names, tt.kept) {
				t.Errorf("kept clusters %v, want %v", names, tt.kept)
			}
		})
	}
}

func TestErrorType(t *testing.T) {
	_, err := Load("testdata/bad-version.yaml")
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("errors.As(*Error) failed on %v", err)
	}
	if e.File != "testdata/bad-version.yaml" || e.Line != 3 || e.Cluster != `cluster "prod-eu"` {
		t.Errorf("first problem = %+v", e)
	}
	if e.Err == nil {
		t.Error("version problem does not wrap the parse error")
	}
}

func TestAliases(t *testing.T) {
	cs, err := Load("testdata/aliases.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 || cs[1].Version != "v1.26.4" || cs[1].Labels["env"] != "prod" || len(cs[0].Nodes) != 2 || cs[0].Nodes[1].Name != "w-2" {
		t.Errorf("aliases not followed: %+v", cs)
	}
}

func TestLimits(t *testing.T) {
	var many strings.Builder
	many.WriteString("clusters:\n")
	for i := range 300 {
		fmt.Fprintf(&many, "  - name: c%d\n", i)
	}
	var big strings.Builder
	big.WriteString("clusters:\n")
	for i := range 3 {
		fmt.Fprintf(&big, "  - name: big%d\n    version: v1.30.1\n    nodes:\n      - {pool: p, version: v1.30.1, count: 40000}\n", i)
	}
	tests := []struct {
		name, doc string
		wantErr   []string
		kept      int
	}{
		{"problems are capped", many.String(), []string{"f.yaml:2: cluster \"c0\": missing version", "200 more problems not listed"}, 0},
		{"nodes per file are capped", big.String(), []string{`f.yaml:13: cluster "big2": node entry: 40000 nodes exceed the limit of 100000 nodes per file`}, 2},
		{"empty cluster list", "clusters: []\n", nil, 0},
		{"null cluster list", "clusters:\n", nil, 0},
		{"no clusters key", "{}\n", []string{`f.yaml:1: missing top-level "clusters:" list`}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs, err := Parse("f.yaml", []byte(tt.doc))
			if len(cs) != tt.kept {
				t.Errorf("kept %d clusters, want %d", len(cs), tt.kept)
			}
			if tt.wantErr == nil {
				if err != nil {
					t.Errorf("unexpected error %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%.500s", w, err)
				}
			}
			if n := strings.Count(err.Error(), "\n") + 1; n > maxProblems+1 {
				t.Errorf("%d problems listed, cap is %d", n, maxProblems)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if err == nil || !strings.Contains(err.Error(), "nope.yaml") || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("err = %v, want a not-exist error naming the file", err)
	}
}

// FuzzParse checks that no input panics and that whatever Parse returns is
// well formed.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.yaml")
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		cs, err := Parse("fuzz.yaml", b)
		nodes := 0
		seen := map[string]bool{}
		for _, c := range cs {
			if c.Name == "" || seen[c.Name] {
				t.Fatalf("empty or duplicate name %q", c.Name)
			}
			seen[c.Name] = true
			if _, perr := tracker.ParseVersion(c.Version); perr != nil {
				t.Fatalf("cluster %q kept with bad version: %v", c.Name, perr)
			}
			if c.Source != "inventory:fuzz.yaml" || c.Distribution == "" {
				t.Fatalf("cluster %+v: bad source or distribution", c)
			}
			nodes += len(c.Nodes)
		}
		if nodes > MaxNodes {
			t.Fatalf("%d nodes, limit %d", nodes, MaxNodes)
		}
		if err != nil {
			for _, l := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(l, "fuzz.yaml") {
					t.Fatalf("problem without file name: %q", l)
				}
			}
		}
	})
}
