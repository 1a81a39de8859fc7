package changelog

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kubedrift/kubedrift/tracker"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("read fixture: %v", err)
	}
	return b
}

// golden compares got (as indented JSON) with testdata/<name>, or rewrites
// it with -update.
func golden(t *testing.T, name string, got any) {
	t.Helper()
	b, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, '\n')
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run with -update to create): %v", err)
	}
	if !bytes.Equal(want, b) {
		t.Errorf("%s differs from parsed result; rerun with -update and review the diff.\ngot:\n%s", path, b)
	}
}

func notesByPR(notes []tracker.Note) map[int]tracker.Note {
	m := map[int]tracker.Note{}
	for _, n := range notes {
		if n.PR > 0 {
			m[n.PR] = n
		}
	}
	return m
}

func TestParseKubernetesFixture(t *testing.T) {
	res, err := ParseKubernetes("testdata/CHANGELOG-fixture.md", readFixture(t, "CHANGELOG-fixture.md"))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "CHANGELOG-fixture.golden.json", res)

	var versions []string
	for _, r := range res.Releases {
		versions = append(versions, r.Version)
	}
	if want := []string{"v1.40.1", "v1.40.0", "v1.40.0-rc.1", "v1.40.0-alpha.1"}; !slices.Equal(versions, want) {
		t.Errorf("releases = %v, want %v (TOC, stray heading must not add any)", versions, want)
	}
	if !res.Releases[2].Prerelease || res.Releases[1].Prerelease {
		t.Errorf("prerelease flags wrong: %+v", res.Releases)
	}
	if got := res.Releases[1].URL; got != "https://github.com/kubernetes/kubernetes/releases/tag/v1.40.0" {
		t.Errorf("release URL = %q", got)
	}
	byPR := notesByPR(res.Notes)

	tests := []struct {
		name      string
		pr        int
		version   string
		firstSeen string
		kinds     []tracker.Kind
		action    bool
		sigs      []string
	}{
		{"urgent note merged with its deprecation listing", 900010, "v1.40.0", "v1.40.0", []tracker.Kind{tracker.KindDeprecation, tracker.KindRemoval}, true, []string{"auth"}},
		{"urgent only: no upstream kind", 900011, "v1.40.0", "v1.40.0", []tracker.Kind{}, true, nil},
		{"urgent entry continued by an under-indented paragraph", 900012, "v1.40.0", "v1.40.0", []tracker.Kind{}, true, []string{"testing"}},
		{"deprecation only is not removal", 900020, "v1.40.0", "v1.40.0", []tracker.Kind{tracker.KindDeprecation}, false, []string{"api-machinery", "cloud-provider", "node"}},
		{"own PR after cited PRs and KEP", 900030, "v1.40.0", "v1.40.0", []tracker.Kind{tracker.KindAPIChange}, false, []string{"apps"}},
		{"same PR in alpha, rc and final", 900040, "v1.40.0", "v1.40.0-alpha.1", []tracker.Kind{tracker.KindFeature}, false, []string{"cli"}},
		{"two authors", 900041, "v1.40.0", "v1.40.0", []tracker.Kind{tracker.KindFeature}, false, []string{"node"}},
		{"Dependency kind (singular)", 900050, "v1.40.0", "v1.40.0", []tracker.Kind{tracker.KindDependency}, false, []string{"release"}},
		{"plain-text cite after another plain PR", 900060, "v1.40.0", "v1.40.0", []tracker.Kind{tracker.KindBug}, false, nil},
		{"dependency cleanup is not removal", 900070, "v1.40.0", "v1.40.0", []tracker.Kind{tracker.KindCleanup}, false, nil},
		{"uncategorized", 900080, "v1.40.0", "v1.40.0", []tracker.Kind{tracker.KindOther}, false, nil},
		{"unknown kind heading", 900090, "v1.40.0", "v1.40.0", []tracker.Kind{tracker.KindOther}, false, nil},
		{"pre-release only note, after stray level-1 heading", 900120, "v1.40.0", "v1.40.0-rc.1", []tracker.Kind{tracker.KindCleanup}, false, nil},
		{"alpha urgent + deprecation, absent from final", 900110, "v1.40.0", "v1.40.0-alpha.1", []tracker.Kind{tracker.KindDeprecation, tracker.KindRemoval}, true, []string{"network"}},
		{"patch release bug fix mentioning a CVE", 900100, "v1.40.1", "v1.40.1", []tracker.Kind{tracker.KindBug, tracker.KindSecurity}, false, []string{"apps", "auth"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, ok := byPR[tt.pr]
			if !ok {
				t.Fatalf("PR %d not found", tt.pr)
			}
			if n.Version != tt.version || n.FirstSeen != tt.firstSeen {
				t.Errorf("version/first_seen = %s/%s, want %s/%s", n.Version, n.FirstSeen, tt.version, tt.firstSeen)
			}
			if !slices.Equal(n.Kinds, tt.kinds) || n.Kinds == nil {
				t.Errorf("kinds = %#v, want %v", n.Kinds, tt.kinds)
			}
			if n.ActionRequired != tt.action {
				t.Errorf("action_required = %v, want %v", n.ActionRequired, tt.action)
			}
			if !slices.Equal(n.SIGs, tt.sigs) {
				t.Errorf("sigs = %v, want %v", n.SIGs, tt.sigs)
			}
			if n.CVEs == nil {
				t.Error("cves is nil, want empty slice")
			}
			if want := "https://github.com/kubernetes/kubernetes/pull/" + itoa(tt.pr); n.URL != want {
				t.Errorf("url = %q, want %q", n.URL, want)
			}
		})
	}

	t.Run("text keeps nested list and code block, from newest listing", func(t *testing.T) {
		txt := byPR[900040].Text
		for _, want := range []string{"Kubectl gains a `widget` subcommand.\n\nIt supports", "\n- `list`, which prints widgets\n", "```sh\nkubectl widget list --all\n```"} {
			if !strings.Contains(txt, want) {
				t.Errorf("text %q lacks %q", txt, want)
			}
		}
	})
	t.Run("no notes from what's new, known issues or dependencies", func(t *testing.T) {
		for _, pr := range []int{900001, 900002} {
			if _, ok := byPR[pr]; ok {
				t.Errorf("PR %d from a non-notes section became a note", pr)
			}
		}
		for _, n := range res.Notes {
			if strings.Contains(n.Text, "example.io/") || strings.Contains(n.Text, "Nothing has changed") {
				t.Errorf("dependency line became a note: %q", n.Text)
			}
		}
	})
	t.Run("notes without PR dedupe on text", func(t *testing.T) {
		count := 0
		for _, n := range res.Notes {
			if n.PR == 0 && n.Security == nil {
				count++
			}
		}
		if count != 2 {
			t.Errorf("got %d notes without PR, want 2 (the design note listed twice is one)", count)
		}
	})
	t.Run("security entries", func(t *testing.T) {
		var sec []tracker.Note
		for _, n := range res.Notes {
			if n.Security != nil {
				sec = append(sec, n)
			}
		}
		if len(sec) != 2 {
			t.Fatalf("got %d security notes, want 2", len(sec))
		}
		s := sec[0]
		if s.Version != "v1.40.1" || s.PR != 0 || !slices.Equal(s.CVEs, []string{"CVE-2031-1001"}) || !slices.Equal(s.Kinds, []tracker.Kind{tracker.KindSecurity}) {
			t.Errorf("first security note facts wrong: %+v", s)
		}
		want := tracker.SecurityInfo{
			ID: "CVE-2031-1001", Title: "Widget controller can read any secret",
			Affected: []tracker.ComponentRange{
				{Component: "kube-controller-manager", From: "v1.40.0", To: "v1.40.0"},
				{Component: "kube-controller-manager", From: "v1.39.0", To: "v1.39.4"},
				{Component: "kube-controller-manager", To: "v1.38.?"},
			},
			Fixed: []tracker.ComponentVersion{
				{Component: "kube-controller-manager", Version: "v1.40.1"},
				{Component: "kube-controller-manager", Version: "v1.39.5"},
			},
			CVSS: &tracker.CVSS{Rating: "Medium", Score: 6.5, Vector: "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N"},
		}
		gotJ, _ := json.Marshal(s.Security)
		wantJ, _ := json.Marshal(want)
		if !bytes.Equal(gotJ, wantJ) {
			t.Errorf("security = %s\nwant %s", gotJ, wantJ)
		}
		if !strings.Contains(s.Text, "#### Am I vulnerable?") || strings.Contains(s.Text, "CVE-2031-1002") {
			t.Errorf("security text must keep its level-4 heading and stop before the next CVE: %q", s.Text)
		}
		if f := sec[1].Security.Fixed; len(f) != 3 || f[1].Component != "kubelet" {
			t.Errorf("second CVE fixed versions = %+v", f)
		}
	})
	t.Run("problems", func(t *testing.T) {
		var got []string
		for _, p := range res.Problems {
			got = append(got, p.String())
		}
		want := []string{
			`testdata/CHANGELOG-fixture.md:154: entry without its own PR reference: "A cleanup entry that forgot its PR reference."`,
			`testdata/CHANGELOG-fixture.md:160: unknown kind section "Mystery Kind"; notes marked other`,
			`testdata/CHANGELOG-fixture.md:194: level-1 heading "Changelog since v1.40.0-alpha.1" is not a release version; its content stays with the previous release`,
			`testdata/CHANGELOG-fixture.md:228: entry without its own PR reference: "A design note without a PR, listed once."`,
			`testdata/CHANGELOG-fixture.md:229: entry without its own PR reference: "A design note without a PR, listed once."`,
		}
		if !slices.Equal(got, want) {
			t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
	checkInvariants(t, res)
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestParseKubernetesErrors(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		wantErr bool
		notes   int
	}{
		{"empty", "", true, 0},
		{"garbage", "\x00\xff not markdown at all", true, 0},
		{"only stray level-1 heading", "# Changelog since v1.20.0\n\n## Changes by Kind\n\n### Feature\n\n- x (#1, @a)\n", true, 0},
		{"suffix is not a release", "# v1.25.0-eks-1\n", true, 0},
		{"minimal", "# v1.25.0\n\n## Changes by Kind\n\n### Feature\n\n- Adds a thing. (#1, @a)\n", false, 1},
		{"entries before the first release are ignored", "## Changes by Kind\n\n### Feature\n\n- Early. (#2, @a)\n\n# v1.25.1\n", false, 0},
		{"unclosed TOC ends at first heading", "<!-- BEGIN MUNGE: GENERATED_TOC -->\n- [v1.25.0](#v1250)\n\n# v1.25.0\n\n## Urgent Upgrade Notes\n\n- Act now. (#3, @a)\n", false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := ParseKubernetes("mem://"+tt.name, []byte(tt.src))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				if !strings.Contains(err.Error(), "mem://"+tt.name) {
					t.Errorf("error %q does not name the input", err)
				}
				return
			}
			if len(res.Notes) != tt.notes {
				t.Errorf("got %d notes, want %d: %+v", len(res.Notes), tt.notes, res.Notes)
			}
			checkInvariants(t, res)
		})
	}
}

func TestParseGitHubRelease(t *testing.T) {
	t.Run("sections", func(t *testing.T) {
		res, err := ParseGitHubRelease("etcd", "v3.6.0-rc.1", "https://example.test/etcd/releases/v3.6.0-rc.1", readFixture(t, "github/etcd-v3.6.0-rc.1.md"))
		if err != nil {
			t.Fatal(err)
		}
		golden(t, "github/etcd-v3.6.0-rc.1.golden.json", res)
		if r := res.Releases; len(r) != 1 || r[0].Version != "v3.6.0-rc.1" || !r[0].Prerelease || r[0].Component != "etcd" {
			t.Errorf("releases = %+v", r)
		}
		type want struct {
			pr     int
			kinds  []tracker.Kind
			action bool
		}
		wants := []want{
			{17001, []tracker.Kind{tracker.KindOther, tracker.KindRemoval}, true},
			{17002, []tracker.Kind{tracker.KindOther}, true},
			{17003, []tracker.Kind{tracker.KindSecurity}, false},
			{17004, []tracker.Kind{tracker.KindDeprecation}, false},
			{17005, []tracker.Kind{tracker.KindBug}, false},
			{0, []tracker.Kind{tracker.KindFeature}, false},
			{0, []tracker.Kind{tracker.KindOther}, false},
		}
		if len(res.Notes) != len(wants) {
			t.Fatalf("got %d notes, want %d", len(res.Notes), len(wants))
		}
		for i, w := range wants {
			n := res.Notes[i]
			if n.PR != w.pr || !slices.Equal(n.Kinds, w.kinds) || n.ActionRequired != w.action || n.Version != "v3.6.0" || n.FirstSeen != "v3.6.0-rc.1" || n.Component != "etcd" {
				t.Errorf("note %d = pr %d kinds %v action %v %s/%s, want %+v", i, n.PR, n.Kinds, n.ActionRequired, n.Version, n.FirstSeen, w)
			}
		}
		if got := res.Notes[2].CVEs; !slices.Equal(got, []string{"CVE-2031-4004"}) {
			t.Errorf("cves = %v", got)
		}
		if !strings.Contains(res.Notes[5].Text, "```\n  etcdctl defrag --all\n  ```") && !strings.Contains(res.Notes[5].Text, "```\netcdctl defrag --all\n```") {
			t.Errorf("feature text lost its code block: %q", res.Notes[5].Text)
		}
		checkInvariants(t, res)
	})
	tests := []struct {
		name, file, body string
		wantErr          bool
		notes            int
		kinds            [][]tracker.Kind
		action           []bool
	}{
		{name: "prose only is one note", file: "github/prose-only.md", notes: 1, kinds: [][]tracker.Kind{{tracker.KindOther}}, action: []bool{false}},
		{name: "urgent and removals", file: "github/urgent.md", notes: 2, kinds: [][]tracker.Kind{{}, {tracker.KindRemoval}}, action: []bool{true, false}},
		{name: "empty", body: "", wantErr: true},
		{name: "blank", body: "  \n\n ", wantErr: true},
		{name: "heading only is not an error", body: "## Nothing to see\n", notes: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := []byte(tt.body)
			if tt.file != "" {
				body = readFixture(t, tt.file)
			}
			res, err := ParseGitHubRelease("demo", "2.1.0", "mem://"+tt.name, body)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				if !strings.Contains(err.Error(), "mem://"+tt.name) {
					t.Errorf("error %q does not name the input", err)
				}
				return
			}
			if len(res.Notes) != tt.notes {
				t.Fatalf("got %d notes, want %d", len(res.Notes), tt.notes)
			}
			for i, n := range res.Notes {
				if !slices.Equal(n.Kinds, tt.kinds[i]) || n.ActionRequired != tt.action[i] || n.Version != "2.1.0" {
					t.Errorf("note %d: kinds %v action %v version %s", i, n.Kinds, n.ActionRequired, n.Version)
				}
			}
			checkInvariants(t, res)
		})
	}
	if _, err := ParseGitHubRelease("", "v1", "x", []byte("- a")); err == nil {
		t.Error("missing component accepted")
	}
}

// checkInvariants holds for every result: notes attributed to a final of a
// listed release, CVEs sorted, unique and non-nil, kinds valid and non-nil.
func checkInvariants(t testing.TB, res *Result) {
	t.Helper()
	finals := map[string]bool{}
	for _, r := range res.Releases {
		finals[r.Version] = true
		if v, err := tracker.ParseVersion(r.Version); err == nil {
			finals[v.Final().Core()] = true
		} else if f, _ := finalOf(r.Version); f != "" {
			finals[f] = true
		}
	}
	for i, n := range res.Notes {
		if !finals[n.Version] {
			t.Errorf("note %d version %q is not a listed release or its final", i, n.Version)
		}
		if n.CVEs == nil || n.Kinds == nil {
			t.Errorf("note %d has nil cves or kinds", i)
		}
		if !slices.IsSorted(n.CVEs) || len(slices.Compact(slices.Clone(n.CVEs))) != len(n.CVEs) {
			t.Errorf("note %d cves not sorted/unique: %v", i, n.CVEs)
		}
		for _, k := range n.Kinds {
			if !tracker.ValidKind(k) {
				t.Errorf("note %d has invalid kind %q", i, k)
			}
		}
	}
}

func TestBlankDownloads(t *testing.T) {
	src := []byte("<!-- BEGIN MUNGE: GENERATED_TOC -->\n- [v1.30.0](#v1300)\n<!-- END MUNGE: GENERATED_TOC -->\n# v1.30.0\n\n## Downloads for v1.30.0\n\n### Source Code\n\nfilename | sha512 hash\n[k.tar.gz](https://dl.k8s.io/k.tar.gz) | `abc`\r\n\n## Changelog since v1.29.0\n\n- kept\n")
	got := blankDownloads(src)
	if len(got) != len(src) || bytes.Count(got, []byte("\n")) != bytes.Count(src, []byte("\n")) {
		t.Fatal("blanking must keep offsets and line numbers")
	}
	for _, gone := range []string{"[v1.30.0](#v1300)", "### Source Code", "sha512", "dl.k8s.io"} {
		if bytes.Contains(got, []byte(gone)) {
			t.Errorf("%q not blanked", gone)
		}
	}
	for _, kept := range []string{"BEGIN MUNGE", "END MUNGE", "# v1.30.0", "## Downloads for v1.30.0", "## Changelog since", "- kept", "\r\n"} {
		if !bytes.Contains(got, []byte(kept)) {
			t.Errorf("%q was blanked", kept)
		}
	}
	if plain := []byte("# v1.30.0\n- note\n"); &blankDownloads(plain)[0] != &plain[0] {
		t.Error("input without TOC or downloads should not be copied")
	}
}
