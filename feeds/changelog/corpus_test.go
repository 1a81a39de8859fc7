package changelog

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"testing"

	"github.com/kubedrift/kubedrift/tracker"
)

// corpusDir finds ../shared/corpus next to the module root, or skips.
func corpusDir(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Skip("upstream corpus not available: no go.mod above the package directory")
		}
		dir = parent
	}
	c := filepath.Join(dir, "..", "shared", "corpus")
	if _, err := os.Stat(filepath.Join(c, "kubernetes", "CHANGELOG-1.25.md")); err != nil {
		tb.Skipf("upstream corpus not available at %s (only present in the project workspace): %v", c, err)
	}
	return c
}

type relnote struct {
	PR             int      `json:"pr_number"`
	Kinds          []string `json:"kinds"`
	ActionRequired bool     `json:"action_required"`
	SIGs           []string `json:"sigs"`
}

// upstreamKind maps a kind of upstream's relnotes to the changelog section
// kubedrift reads it from: "regression" is listed under Bug or Regression,
// "flake" under Other (Cleanup or Flake).
func upstreamKind(k string) tracker.Kind {
	switch k {
	case "regression":
		return tracker.KindBug
	case "flake":
		return tracker.KindCleanup
	}
	return tracker.Kind(k)
}

func TestCorpusKubernetes125(t *testing.T) {
	dir := corpusDir(t)
	name := filepath.Join(dir, "kubernetes", "CHANGELOG-1.25.md")
	src, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	res, err := ParseKubernetes(name, src)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "relnotes", "release-notes-1.25.0.json"))
	if err != nil {
		t.Fatal(err)
	}
	var upstream map[string]relnote
	if err := json.Unmarshal(raw, &upstream); err != nil {
		t.Fatalf("decode relnotes: %v", err)
	}
	for _, p := range res.Problems {
		t.Logf("problem: %s", p)
	}
	checkInvariants(t, res)

	if len(res.Releases) != 7 {
		t.Errorf("got %d releases, want 7 (v1.25.0, rc.1, rc.0, beta.0, alpha.3, alpha.2, alpha.1)", len(res.Releases))
	}
	if len(res.Problems) != 0 {
		t.Errorf("got %d problems on the real changelog, want 0", len(res.Problems))
	}
	byPR := notesByPR(res.Notes)
	if len(byPR) != len(res.Notes) {
		t.Errorf("%d notes but %d distinct PRs: every 1.25 entry has a PR", len(res.Notes), len(byPR))
	}
	if len(res.Notes) != 225 {
		t.Errorf("got %d notes, want 225", len(res.Notes))
	}

	// Every own-PR reference in the file (link paired with an author) is a note.
	refs := map[int]bool{}
	for _, m := range regexp.MustCompile(`\[#(\d+)\]\(https://github\.com/kubernetes/kubernetes/pull/\d+\), \[@`).FindAllSubmatch(src, -1) {
		pr, _ := strconv.Atoi(string(m[1]))
		refs[pr] = true
		if n, ok := byPR[pr]; !ok || n.Version != "v1.25.0" {
			t.Errorf("PR %d listed in the file: found %v, version %q", pr, ok, n.Version)
		}
	}
	if len(refs) != len(byPR) {
		t.Errorf("file lists %d distinct PRs, parse has %d", len(refs), len(byPR))
	}
	// An entry whose second paragraph fell out of the list keeps it.
	if txt := byPR[109111].Text; !regexp.MustCompile(`(?s)^End-to-end testing.*ginkgo -procs=N.*\[SIG API Machinery`).MatchString(txt) {
		t.Errorf("PR 109111 text not rebuilt across its under-indented paragraph: %.200q", txt)
	}

	// Every labelled PR the file links is found and attributed to v1.25.0.
	absent, found := 0, 0
	for _, u := range upstream {
		linked := regexp.MustCompile(`kubernetes/kubernetes/pull/` + strconv.Itoa(u.PR) + `\)`).Match(src)
		n, ok := byPR[u.PR]
		switch {
		case !linked:
			absent++
			if ok {
				t.Errorf("PR %d is not in the file but became a note", u.PR)
			}
		case !ok:
			t.Errorf("PR %d is listed in the file but not found", u.PR)
		default:
			found++
			if n.Version != "v1.25.0" {
				t.Errorf("PR %d attributed to %s, want v1.25.0", u.PR, n.Version)
			}
		}
	}
	t.Logf("relnotes: %d PRs, %d found in the changelog, %d labelled but absent from the file", len(upstream), found, absent)
	if found != 220 || absent != 6 {
		t.Errorf("found %d / absent %d, want 220 / 6", found, absent)
	}

	// The section a note is listed under is one of upstream's kinds.
	agree, compared, unlabelled := 0, 0, 0
	for _, n := range res.Notes {
		u, ok := upstream[strconv.Itoa(n.PR)]
		if !ok {
			unlabelled++
			continue
		}
		var want []tracker.Kind
		for _, k := range u.Kinds {
			want = append(want, upstreamKind(k))
		}
		var listed []tracker.Kind
		for _, k := range n.Kinds {
			if k != tracker.KindRemoval && k != tracker.KindSecurity {
				listed = append(listed, k)
			}
		}
		if len(listed) == 0 {
			continue // only under Urgent Upgrade Notes
		}
		compared++
		ok = true
		for _, k := range listed {
			if !slices.Contains(want, k) {
				ok = false
				t.Logf("PR %d listed as %v, upstream kinds %v", n.PR, listed, u.Kinds)
			}
		}
		if ok {
			agree++
		}
		if n.ActionRequired && !u.ActionRequired {
			t.Errorf("PR %d is under Urgent Upgrade Notes but not action_required upstream", n.PR)
		}
		if len(n.SIGs) > 0 && !slices.Equal(sortedCopy(n.SIGs), sortedCopy(u.SIGs)) {
			t.Errorf("PR %d sigs %v, upstream %v", n.PR, n.SIGs, u.SIGs)
		}
	}
	t.Logf("kinds: %d of %d notes listed under a kind section agree with upstream; %d notes have no upstream label", agree, compared, unlabelled)
	if unlabelled != 5 || compared != 212 {
		t.Errorf("unlabelled %d / compared %d, want 5 / 212", unlabelled, compared)
	}
	if agree*100 < compared*99 {
		t.Errorf("only %d of %d notes have a section kind upstream agrees with, want >= 99%%", agree, compared)
	}

	// Urgent Upgrade Notes: every note there is action_required, and only
	// those (the PRs of the four Urgent sections, read from the file).
	var action []int
	for _, n := range res.Notes {
		if n.ActionRequired {
			action = append(action, n.PR)
		}
	}
	slices.Sort(action)
	wantAction := []int{108797, 109111, 109938, 110333, 111119, 111618, 111619, 111620}
	if !slices.Equal(action, wantAction) {
		t.Errorf("action_required PRs = %v, want %v", action, wantAction)
	}

	t.Run("named removals", func(t *testing.T) {
		for _, tt := range []struct {
			pr    int
			kinds []tracker.Kind
		}{
			{109798, []tracker.Kind{tracker.KindDeprecation, tracker.KindRemoval}}, // PodSecurityPolicy
			{111618, []tracker.Kind{tracker.KindRemoval}},                          // flocker
			{111619, []tracker.Kind{tracker.KindRemoval}},                          // quobyte
			{111620, []tracker.Kind{tracker.KindRemoval}},                          // storageos
		} {
			if got := byPR[tt.pr].Kinds; !slices.Equal(got, tt.kinds) {
				t.Errorf("PR %d kinds = %v, want %v", tt.pr, got, tt.kinds)
			}
		}
	})

	t.Run("removal set", func(t *testing.T) {
		var got []int
		for _, n := range res.Notes {
			if n.HasKind(tracker.KindRemoval) {
				got = append(got, n.PR)
				t.Logf("removal %d: %.80s", n.PR, n.Text)
			}
		}
		slices.Sort(got)
		// Verified by reading each entry: these remove a flag, plugin,
		// feature gate, field, metric, annotation support or stop serving
		// APIs in 1.25.
		want := []int{
			108476, 108624, 108797, 109254, 109388, 109435, 109602, 109612,
			109798, 109819, 110013, 110104, 110310, 110337, 110534, 110940,
			110957, 111618, 111619, 111620,
		}
		if !slices.Equal(got, want) {
			t.Errorf("removal PRs = %v\nwant %v", got, want)
		}
	})

	t.Run("no security notes in a .0 changelog", func(t *testing.T) {
		for _, n := range res.Notes {
			if n.HasKind(tracker.KindSecurity) {
				t.Errorf("PR %d marked security: %.80s", n.PR, n.Text)
			}
		}
	})
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}
