package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kubedrift/kubedrift/cmd/kubedrift/internal/config"
	"github.com/kubedrift/kubedrift/tracker"
)

func TestReleasesCommand(t *testing.T) {
	out, stderr, code := runCLI(t, "releases", "--store", filepath.Join(t.TempDir(), "kd.db"), "--minor", "1.24", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rows []releaseRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 || rows[0].Version != "v1.24.15" || rows[0].Support.EndOfLife != "2023-07-28" {
		t.Fatalf("1.24 releases from the offline data: %+v", rows[:min(2, len(rows))])
	}
	for _, r := range rows {
		if r.Prerelease || !strings.HasPrefix(r.Version, "v1.24.") {
			t.Errorf("unexpected row %+v", r)
		}
	}
	if _, stderr, code := runCLI(t, "releases", "--store", filepath.Join(t.TempDir(), "kd.db"), "--minor", "one.two"); code != exitUsage || !strings.Contains(stderr, `"one.two"`) {
		t.Errorf("bad --minor: exit %d %q", code, stderr)
	}
}

func TestCVEsCommand(t *testing.T) {
	store := filepath.Join(t.TempDir(), "kd.db")
	out, stderr, code := runCLI(t, "cves", "--store", store, "--version", "v1.24.3", "--component", "kube-apiserver", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rows []cveRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatal(err)
	}
	fixed := map[string]string{}
	for _, r := range rows {
		fixed[r.ID] = r.FixedIn
	}
	// kube-apiserver CVEs fixed in later 1.24 patches, from the OSV records.
	for id, want := range map[string]string{"CVE-2022-3172": "v1.24.5", "CVE-2022-3162": "v1.24.8", "CVE-2023-2727": "v1.24.15"} {
		if fixed[id] != want {
			t.Errorf("%s fixed_in %q, want %s (all: %v)", id, fixed[id], want, fixed)
		}
	}
	// A version after every fix of those records reports none of them.
	out, _, _ = runCLI(t, "cves", "--store", store, "--version", "v1.24.17", "--component", "kube-apiserver", "-o", "json")
	for _, id := range []string{"CVE-2022-3172", "CVE-2022-3162", "CVE-2023-2727"} {
		if strings.Contains(out, id) {
			t.Errorf("v1.24.17 still reports %s", id)
		}
	}
	if _, stderr, code := runCLI(t, "cves", "--store", store, "--version", "latest"); code != exitUsage || !strings.Contains(stderr, `"latest"`) {
		t.Errorf("bad --version: exit %d %q", code, stderr)
	}
}

func TestDataExportImport(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "a.db"), filepath.Join(dir, "b.db")
	bundle := filepath.Join(dir, "bundle.gz")
	if _, stderr, code := runCLI(t, "data", "export", bundle, "--store", src); code != 0 {
		t.Fatalf("export: %s", stderr)
	}
	out, stderr, code := runCLI(t, "data", "import", bundle, "--store", dst)
	if code != 0 || !strings.Contains(out, "imported") {
		t.Fatalf("import: exit %d %q %q", code, out, stderr)
	}
	// A damaged bundle is refused and says so.
	b := readFile(t, bundle)
	b[len(b)/2] ^= 0xff
	bad := filepath.Join(dir, "bad.gz")
	if err := os.WriteFile(bad, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := runCLI(t, "data", "import", bad, "--store", dst); code != exitUsage || !strings.Contains(stderr, "bad bundle") {
		t.Errorf("damaged bundle: exit %d %q", code, stderr)
	}
}

func TestSelfAdvisoryAfterLongFailure(t *testing.T) {
	s := &service{cfg: &config.Config{Advisories: config.Advisories{FailingAfter: config.Duration{Duration: time.Hour}}}, failingFrom: map[string]time.Time{}}
	t0 := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	s.track("sync", os.ErrDeadlineExceeded, t0)
	s.track("sync", os.ErrDeadlineExceeded, t0.Add(30*time.Minute))
	if got := s.selfAdvisories(t0.Add(59 * time.Minute)); len(got) != 0 {
		t.Errorf("advisory before failing_after: %+v", got)
	}
	got := s.selfAdvisories(t0.Add(61 * time.Minute))
	if len(got) != 1 || got[0].Kind != tracker.AdvisorySelf || got[0].ID != "kubedrift/sync" || !strings.Contains(got[0].Title, "2026-11-27T08:00:00Z") {
		t.Fatalf("after failing_after: %+v", got)
	}
	s.track("sync", nil, t0.Add(62*time.Minute))
	if got := s.selfAdvisories(t0.Add(3 * time.Hour)); len(got) != 0 {
		t.Errorf("advisory after recovery: %+v", got)
	}
}

func TestReviewFixes(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "kd.db")
	t.Run("missing inventory is a usage error", func(t *testing.T) {
		_, stderr, code := runCLI(t, "pending", "--store", store, "--inventory", filepath.Join(dir, "nope.yaml"))
		if code != exitUsage || !strings.Contains(stderr, "nope.yaml") {
			t.Errorf("exit %d %q", code, stderr)
		}
	})
	t.Run("fail-on wins over unreadable clusters", func(t *testing.T) {
		inv := filepath.Join(dir, "fleet.yaml")
		writeTestFile(t, inv, "clusters:\n  - name: old\n    version: v1.23.6\n  - name: broken\n    version: v1.2x\n")
		_, stderr, code := runCLI(t, "pending", "--store", store, "--inventory", inv, "--as-of", "2023-06-15", "--fail-on", "eol")
		if code != exitFailOnMatch || !strings.Contains(stderr, "old: eol") || !strings.Contains(stderr, "could not be read") {
			t.Errorf("exit %d %q", code, stderr)
		}
	})
	t.Run("unknown cves component", func(t *testing.T) {
		_, stderr, code := runCLI(t, "cves", "--store", store, "--version", "v1.24.3", "--component", "apiserver")
		if code != exitUsage || !strings.Contains(stderr, `"apiserver"`) {
			t.Errorf("exit %d %q", code, stderr)
		}
	})
	cfg := func(body string) string {
		p := filepath.Join(t.TempDir(), "kd.yaml")
		writeTestFile(t, p, "upstream: {offline: true}\n"+body)
		return p
	}
	t.Run("digest --send without digest channels", func(t *testing.T) {
		_, stderr, code := runCLI(t, "digest", "--send", "--store", filepath.Join(t.TempDir(), "kd.db"), "--config", cfg("channels:\n  - {name: out, type: stdout}\n"))
		if code != exitUsage || !strings.Contains(stderr, "no digest channels") {
			t.Errorf("exit %d %q", code, stderr)
		}
	})
	t.Run("serve --once: an unknown target is a configuration error", func(t *testing.T) {
		_, stderr, code := runCLI(t, "serve", "--once", "--store", filepath.Join(t.TempDir(), "kd.db"), "--config", cfg("advisories: {target: \"9.99\"}\n"))
		if code != exitUsage || !strings.Contains(stderr, "advisories.target") {
			t.Errorf("exit %d %q", code, stderr)
		}
	})
	t.Run("serve --once: a failed delivery shows in the exit status", func(t *testing.T) {
		inv := filepath.Join(t.TempDir(), "fleet.yaml")
		writeTestFile(t, inv, "clusters:\n  - name: old\n    version: v1.23.6\n")
		t.Setenv("KD_TEST_HOOK_URL", "http://127.0.0.1:1/hook")
		t.Setenv("KD_TEST_HOOK_SECRET", "s3cret-for-test")
		c := cfg("clusters: {inventory: [" + inv + "]}\nchannels:\n  - name: hook\n    type: webhook\n    webhook: {url_env: KD_TEST_HOOK_URL, secret_env: KD_TEST_HOOK_SECRET}\n")
		_, stderr, code := runCLI(t, "serve", "--once", "--store", filepath.Join(t.TempDir(), "kd.db"), "--config", c, "--log-level", "error")
		if code != exitPartial || !strings.Contains(stderr, "deliveries") {
			t.Errorf("exit %d %q", code, stderr)
		}
	})
}

func TestSmallUsageErrors(t *testing.T) {
	dir := t.TempDir()
	if _, stderr, code := runCLI(t, "status", "--store", filepath.Join(dir, "typo.db")); code != exitUsage || !strings.Contains(stderr, "no store at") {
		t.Errorf("status on a missing store: exit %d %q", code, stderr)
	}
	if _, stderr, code := runCLI(t, "pending", "--store", filepath.Join(dir, "kd.db"), "--inventory", "../../examples/fleet.yaml", "--cluster-timeout", "-1s"); code != exitUsage || !strings.Contains(stderr, "must be positive") {
		t.Errorf("negative timeout: exit %d %q", code, stderr)
	}
}
