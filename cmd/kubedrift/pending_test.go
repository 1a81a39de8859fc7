package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kubedrift/kubedrift/tracker"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != string(got) {
		t.Errorf("%s differs from the golden file (go test ./cmd/kubedrift -run %s -update to accept):\n%s", name, t.Name(), firstDiff(string(want), string(got)))
	}
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return fmt.Sprintf("line %d:\n want: %s\n  got: %s", i+1, x, y)
		}
	}
	return ""
}

var observedAt = regexp.MustCompile(`\n\s*"observed_at": "[^"]*",?`)

// fleetArgs runs pending over the example fleet on the embedded data, judged
// at a fixed date so the output is stable.
func fleetArgs(t *testing.T, extra ...string) []string {
	store := filepath.Join(t.TempDir(), "kd.db")
	return append([]string{"pending", "--store", store, "--inventory", "../../examples/fleet.yaml", "--as-of", "2023-06-15", "--to", "1.27"}, extra...)
}

func TestPendingFleetJSON(t *testing.T) {
	out, stderr, code := runCLI(t, fleetArgs(t, "-o", "json")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	golden(t, "pending-fleet.golden.json", []byte(observedAt.ReplaceAllString(out, "")))

	var rep struct {
		GeneratedAt string           `json:"generated_at"`
		Clusters    []map[string]any `json:"clusters"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	// The contract's field names (DESIGN.md) are present on every cluster.
	for _, c := range rep.Clusters {
		for _, k := range []string{"name", "distribution", "version", "nodes", "support", "latest_patch", "latest", "patches_behind", "minors_behind", "skew", "cves", "path", "error"} {
			if _, ok := c[k]; !ok {
				t.Errorf("cluster %v lacks field %q", c["name"], k)
			}
		}
	}
	byName := map[string]map[string]any{}
	for _, c := range rep.Clusters {
		byName[c["name"].(string)] = c
	}
	// v1.24.3: the 1.25 step removes PodSecurityPolicy (PR 109798), and the
	// kube-apiserver CVEs fixed in later 1.24 patches are listed.
	prod := byName["prod-eu"]
	if s := prod["support"].(map[string]any)["status"]; s != "maintenance" {
		t.Errorf("prod-eu support %v, want maintenance", s)
	}
	foundPSP := false
	for _, st := range prod["path"].([]any) {
		step := st.(map[string]any)
		if !strings.HasPrefix(step["to"].(string), "v1.25.") {
			continue
		}
		for _, n := range step["removals"].([]any) {
			if n.(map[string]any)["pr"].(float64) == 109798 {
				foundPSP = true
			}
		}
	}
	if !foundPSP {
		t.Error("prod-eu's 1.25 step does not list the PodSecurityPolicy removal (#109798)")
	}
	fixed := map[string]string{}
	for _, c := range prod["cves"].([]any) {
		m := c.(map[string]any)
		fixed[m["id"].(string)] = m["fixed_in"].(string)
	}
	if fixed["CVE-2022-3172"] != "v1.24.5" {
		t.Errorf("CVE-2022-3172 fixed_in %q, want v1.24.5 (all: %v)", fixed["CVE-2022-3172"], fixed)
	}
	if s := byName["legacy-onprem"]["support"].(map[string]any)["status"]; s != "eol" {
		t.Errorf("legacy-onprem support %v, want eol", s)
	}
	if sk := byName["legacy-onprem"]["skew"].([]any); len(sk) != 1 || sk[0].(map[string]any)["kind"] != "kubelet-too-old" {
		t.Errorf("legacy-onprem skew %v, want kubelet-too-old", sk)
	}
	if sk := byName["dev-rke2"]["skew"].([]any); len(sk) != 1 || sk[0].(map[string]any)["kind"] != "kubelet-newer-than-apiserver" {
		t.Errorf("dev-rke2 skew %v, want kubelet-newer-than-apiserver", sk)
	}
}

func TestPendingFleetTable(t *testing.T) {
	out, stderr, code := runCLI(t, fleetArgs(t)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for i, line := range strings.Split(out, "\n") {
		if n := len([]rune(line)); n > 120 {
			t.Errorf("line %d is %d columns wide, want ≤ 120: %q", i+1, n, line)
		}
	}
	golden(t, "pending-fleet.golden.txt", []byte(out))
}

func TestPendingExitCodes(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"fail-on eol matches", []string{"--fail-on", "eol"}, exitFailOnMatch, "legacy-onprem: eol"},
		{"fail-on skew matches", []string{"--fail-on", "skew,security"}, exitFailOnMatch, "dev-rke2: skew"},
		{"fail-on blocker: docker nodes before the 1.24 step", []string{"--fail-on", "blocker"}, exitFailOnMatch, "legacy-onprem: blocker"},
		{"unknown fail-on", []string{"--fail-on", "typo"}, exitUsage, `unknown condition "typo"`},
		{"bad output", []string{"-o", "xml"}, exitUsage, `unknown output format "xml"`},
		{"bad as-of", []string{"--as-of", "June"}, exitUsage, "--as-of"},
		{"unknown cluster", []string{"--cluster", "nope"}, exitUsage, `"nope": no such cluster`},
		{"unknown target", []string{"--to", "1.99"}, exitUsage, "1.99"},
		{"bad flag", []string{"--frobnicate"}, exitUsage, "unknown flag"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := fleetArgs(t, tt.args...)
			if tt.name == "unknown target" {
				args = []string{"pending", "--store", filepath.Join(t.TempDir(), "kd.db"), "--inventory", "../../examples/fleet.yaml", "--to", "1.99"}
			}
			_, stderr, code := runCLI(t, args...)
			if code != tt.code || !strings.Contains(stderr, tt.msg) {
				t.Errorf("exit %d, stderr %q; want exit %d mentioning %q", code, stderr, tt.code, tt.msg)
			}
		})
	}
}

func TestPendingPartialFailure(t *testing.T) {
	dir := t.TempDir()
	inv := filepath.Join(dir, "fleet.yaml")
	os.WriteFile(inv, []byte("clusters:\n  - name: ok\n    version: v1.26.5\n  - name: broken\n    version: v1.2x\n"), 0o644)
	out, stderr, code := runCLI(t, "pending", "--store", filepath.Join(dir, "kd.db"), "--inventory", inv, "--as-of", "2023-06-15", "-o", "json")
	if code != exitPartial {
		t.Fatalf("exit %d, want %d (some clusters unreadable); stderr %s", code, exitPartial, stderr)
	}
	if !strings.Contains(stderr, "fleet.yaml:5") || !strings.Contains(out, `"name": "ok"`) {
		t.Errorf("want the bad entry named by file:line and the good cluster reported; stderr %q out %q", stderr, out)
	}
}

func TestPendingUsesStoredClusters(t *testing.T) {
	store := filepath.Join(t.TempDir(), "kd.db")
	if _, stderr, code := runCLI(t, "clusters", "--store", store, "--inventory", "../../examples/fleet.yaml"); code != 0 {
		t.Fatalf("clusters: exit %d: %s", code, stderr)
	}
	out, stderr, code := runCLI(t, "pending", "--store", store, "--as-of", "2023-06-15", "--to", "1.27")
	if code != 0 || !strings.Contains(out, "legacy-onprem") {
		t.Fatalf("pending from the store: exit %d, out %q, stderr %q", code, out, stderr)
	}
	_, stderr, code = runCLI(t, "pending", "--store", filepath.Join(t.TempDir(), "empty.db"))
	if code != exitUsage || !strings.Contains(stderr, "no clusters") {
		t.Errorf("empty store: exit %d stderr %q", code, stderr)
	}
}

func TestWritePendingJSONMatchesEncoder(t *testing.T) {
	for _, rep := range []pendingReport{
		{GeneratedAt: "2023-06-15T00:00:00Z", Clusters: []tracker.ClusterDrift{}},
		{GeneratedAt: "x", Clusters: []tracker.ClusterDrift{{Name: "a<b>&", Skew: []tracker.SkewViolation{}}, {Name: "b", Labels: map[string]string{"env": "prod"}}}},
	} {
		var got, want strings.Builder
		if err := writePendingJSON(&got, rep); err != nil {
			t.Fatal(err)
		}
		writeJSON(&want, rep)
		if got.String() != want.String() {
			t.Errorf("streamed JSON differs:\n%s", firstDiff(want.String(), got.String()))
		}
	}
}
