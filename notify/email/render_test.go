package email

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/yuin/goldmark"

	"github.com/kubedrift/kubedrift/notify"
	"github.com/kubedrift/kubedrift/tracker"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func days(n int) *int { return &n }

// Note texts below are invented for the tests; they only imitate the shape of
// upstream release notes.
func testDigest() notify.Digest {
	gen := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	pspRemoval := tracker.Note{
		Component: "kubernetes", Version: "v1.25.0", Kinds: []tracker.Kind{tracker.KindDeprecation, tracker.KindRemoval},
		PR: 90001, URL: "https://github.com/kubernetes/kubernetes/pull/90001",
		Text: "The `PodSecurityPolicy` admission plugin is gone. Move workloads to **Pod Security Admission** before upgrading.",
	}
	pspAction := tracker.Note{
		Component: "kubernetes", Version: "v1.25.0", Kinds: []tracker.Kind{tracker.KindRemoval}, ActionRequired: true,
		PR: 90002, URL: "https://github.com/kubernetes/kubernetes/pull/90002",
		Text: "Clusters that still define PSP objects must delete them first:\n\n- list them with `kubectl get psp`\n- see [the migration guide](https://kubernetes.io/docs/tasks/configure-pod-container/migrate-from-psp/)",
	}
	flowRemoval := tracker.Note{
		Component: "kubernetes", Version: "v1.29.0", Kinds: []tracker.Kind{tracker.KindRemoval, tracker.KindAPIChange},
		PR: 90003, URL: "https://github.com/kubernetes/kubernetes/pull/90003",
		Text: "The `flowcontrol.apiserver.k8s.io/v1beta2` API version is no longer served; use `v1beta3`.",
	}
	flowAction := tracker.Note{
		Component: "kubernetes", Version: "v1.29.0", ActionRequired: true,
		PR: 90004, URL: "https://github.com/kubernetes/kubernetes/pull/90004",
		Text: "Kubelets now refuse a `--cloud-provider` flag set to a legacy value; remove it from node configuration.",
	}
	return notify.Digest{
		GeneratedAt: gen,
		PeriodStart: gen.AddDate(0, 0, -7),
		Clusters: []tracker.ClusterDrift{
			{
				Name: "prod-eu", Distribution: "eks", Version: "v1.24.3-eks-4a1b2c",
				Nodes:       tracker.NodeSummary{Min: "v1.22.9", Max: "v1.24.3", Count: 12},
				Support:     tracker.Support{Status: tracker.SupportEOL, EndOfLife: "2024-07-28", DaysLeft: days(-852)},
				LatestPatch: "v1.24.17", Latest: "v1.31.4",
				PatchesBehind: 14, MinorsBehind: 7,
				Skew: []tracker.SkewViolation{{Kind: "kubelet-too-old", Detail: "2 nodes run kubelet v1.22.9, more than 2 minors behind kube-apiserver v1.24.3", Nodes: []string{"n1", "n2"}}},
				CVEs: []tracker.CVEExposure{{ID: "CVE-2022-3172", FixedIn: "v1.24.5", Components: []string{"kube-apiserver"}, Status: tracker.ExposureFixedInMinor, Severity: "Medium", Score: 5.1, URL: "https://github.com/kubernetes/kubernetes/issues/112513", MayBeBackported: true}},
				Path: []tracker.Step{
					{From: "v1.24.3", To: "v1.25.16", ActionRequired: []tracker.Note{pspAction}, Removals: []tracker.Note{pspRemoval},
						Deprecations: []tracker.Note{{Version: "v1.25.0", Text: "deprecated thing"}}, CVEsFixed: []string{"CVE-2022-3172"},
						KubeletsFirst: []string{"pool-legacy (needs 1.23)"},
						Links:         []string{"https://github.com/kubernetes/kubernetes/blob/master/CHANGELOG/CHANGELOG-1.25.md#v12516"}},
					{From: "v1.25.16", To: "v1.26.15"},
				},
				Labels: map[string]string{"env": "prod"},
			},
			{
				Name: "payments-us", Distribution: "vanilla", Version: "v1.30.2",
				Nodes:       tracker.NodeSummary{Min: "v1.30.2", Max: "v1.30.2", Count: 5},
				Support:     tracker.Support{Status: tracker.SupportSupported, EndOfLife: "2027-06-28", DaysLeft: days(213)},
				LatestPatch: "v1.30.6", Latest: "v1.31.4",
				PatchesBehind: 4, MinorsBehind: 1,
				CVEs: []tracker.CVEExposure{
					{ID: "CVE-2026-10001", FixedIn: "v1.30.6", Components: []string{"kube-apiserver"}, Status: tracker.ExposureFixedInMinor, Severity: "High", Score: 8.1},
					{ID: "CVE-2026-10002", Components: []string{"kubelet"}, Status: tracker.ExposureNoFix, Severity: "Low", Score: 3.1},
				},
				Path: []tracker.Step{{From: "v1.30.2", To: "v1.30.6", CVEsFixed: []string{"CVE-2026-10001"}}},
			},
			{
				Name: "staging", Distribution: "k3s", Version: "v1.28.4+k3s1",
				Nodes:       tracker.NodeSummary{Min: "v1.28.4+k3s1", Max: "v1.28.4+k3s1", Count: 3},
				Support:     tracker.Support{Status: tracker.SupportMaintenance, EndOfLife: "2026-12-22", MaintenanceStart: "2026-10-28", DaysLeft: days(25)},
				LatestPatch: "v1.28.4", Latest: "v1.31.4",
				PatchesBehind: 0, MinorsBehind: 3,
				Path: []tracker.Step{{From: "v1.28.4+k3s1", To: "v1.29.11", ActionRequired: []tracker.Note{flowAction}, Removals: []tracker.Note{flowRemoval},
					Links: []string{"https://github.com/kubernetes/kubernetes/blob/master/CHANGELOG/CHANGELOG-1.29.md#v12911"}}},
				Warnings: []string{"node \"edge-7\": kubelet version: \"v1.28\" is not a version"},
			},
			{
				Name: "dev-lab", Distribution: "vanilla", Version: "v1.31.4",
				Nodes:   tracker.NodeSummary{Min: "v1.31.4", Max: "v1.31.4", Count: 2},
				Support: tracker.Support{Status: tracker.SupportSupported, EndOfLife: "2027-10-28", DaysLeft: days(335)},
				Latest:  "v1.31.4",
			},
		},
		NewCVEs: []tracker.CVE{
			{ID: "CVE-2026-10001", Summary: "Invented: apiserver admission bypass", URL: "https://github.com/kubernetes/kubernetes/issues/130001",
				Published: gen.AddDate(0, 0, -3), CVSS: &tracker.CVSS{Rating: "High", Score: 8.1}},
			{ID: "CVE-2026-10003", Summary: "Invented: kubectl cp path traversal", URL: "https://github.com/kubernetes/kubernetes/issues/130003",
				Published: gen.AddDate(0, 0, -1), CVSS: &tracker.CVSS{Rating: "Medium", Score: 5.5}},
		},
		Advisories: []tracker.Advisory{
			{ID: "eol/prod-eu/1.24", Kind: tracker.AdvisoryEOL, Severity: tracker.SeverityHigh, Cluster: "prod-eu", Version: "v1.24.3-eks-4a1b2c", Target: "v1.25.16",
				Subject: "1.24", Title: "Kubernetes 1.24 reached end of life on 2024-07-28", DueDate: "2024-07-28"},
			{ID: "eol/staging/1.28", Kind: tracker.AdvisoryEOL, Severity: tracker.SeverityMedium, Cluster: "staging", Version: "v1.28.4+k3s1",
				Subject: "1.28", Title: "Kubernetes 1.28 reaches end of life in 25 days", DueDate: "2026-12-22"},
			{ID: "removal/staging/v1.29.11", Kind: tracker.AdvisoryRemoval, Severity: tracker.SeverityMedium, Cluster: "staging", Version: "v1.28.4+k3s1", Target: "v1.29.11",
				Subject: "v1.29.11", Title: "Upgrading to v1.29.11 removes 1 API or feature", Notes: []tracker.Note{flowRemoval},
				Links: []string{"https://github.com/kubernetes/kubernetes/blob/master/CHANGELOG/CHANGELOG-1.29.md#v12911"}},
			{ID: "skew/prod-eu/kubelet-too-old", Kind: tracker.AdvisorySkew, Severity: tracker.SeverityHigh, Cluster: "prod-eu",
				Subject: "kubelet-too-old", Title: "2 kubelets are too old for kube-apiserver v1.24.3", Detail: "Nodes: n1, n2"},
			{ID: "security/payments-us/CVE-2026-10001", Kind: tracker.AdvisorySecurityFix, Severity: tracker.SeverityHigh, Cluster: "payments-us",
				Subject: "CVE-2026-10001", Title: "CVE-2026-10001 is fixed in v1.30.6"},
		},
		DeliveryProblems: []string{"slack #platform-alerts: 3 attempts failed, last HTTP 500; next try 2026-11-27 09:00 UTC"},
	}
}

func testBatch() notify.Batch {
	d := testDigest()
	return notify.Batch{
		ID: "b-2026-11-27-0800", Channel: "email", GeneratedAt: d.GeneratedAt,
		Advisories: []tracker.Advisory{
			{ID: "security/payments-us/CVE-2026-10001", Kind: tracker.AdvisorySecurityFix, Severity: tracker.SeverityCritical, Cluster: "payments-us",
				Version: "v1.30.2", Target: "v1.30.6", Subject: "CVE-2026-10001", Title: "CVE-2026-10001 is fixed in v1.30.6",
				CVEs:  d.Clusters[1].CVEs[:1],
				Links: []string{"https://github.com/kubernetes/kubernetes/issues/130001"}},
			d.Advisories[2],
			{ID: "new-release/1.32", Kind: tracker.AdvisoryNewRelease, Severity: tracker.SeverityInfo, Subject: "v1.32.0", Title: "Kubernetes v1.32.0 is released",
				Links: []string{"https://github.com/kubernetes/kubernetes/releases/tag/v1.32.0"}},
		},
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update to create it): %v", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file; run go test ./notify/email -update and review the diff\n--- got ---\n%s", name, got)
	}
}

func TestRenderGolden(t *testing.T) {
	dsubj, dtext, dhtml, err := RenderDigest(testDigest())
	if err != nil {
		t.Fatal(err)
	}
	bsubj, btext, bhtml, err := RenderBatch(testBatch())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ file, got string }{
		{"digest.golden.txt", "Subject: " + dsubj + "\n\n" + dtext},
		{"digest.golden.html", dhtml},
		{"batch.golden.txt", "Subject: " + bsubj + "\n\n" + btext},
		{"batch.golden.html", bhtml},
	} {
		t.Run(tc.file, func(t *testing.T) { golden(t, tc.file, tc.got) })
	}
}

func TestRenderDigestContent(t *testing.T) {
	subj, text, html, err := RenderDigest(testDigest())
	if err != nil {
		t.Fatal(err)
	}
	if want := "[kubedrift] Weekly digest 2026-11-27: 4 clusters, 3 behind, 1 end of life, 1 EOL within 60 days, 2 exposed to CVEs, 2 new CVEs"; subj != want {
		t.Errorf("subject = %q, want %q", subj, want)
	}
	for _, tc := range []struct {
		name string
		part string
		want []string
	}{
		{"text summary", text, []string{"4 clusters | 3 behind | 1 end of life | 1 EOL within 60 days | 2 exposed to CVEs | 2 new CVEs"}},
		{"text eol cluster", text, []string{"prod-eu (eks) v1.24.3-eks-4a1b2c", "Support: eol, end of life 2024-07-28 (852 days ago)", "14 patches and 7 minors behind"}},
		{"text next step blockers", text, []string{"Next step v1.24.3 → v1.25.16:", "Action required (1):", "Removals (1):", "(v1.25.0 #90001 https://github.com/kubernetes/kubernetes/pull/90001)", "Upgrade kubelets first: pool-legacy (needs 1.23)", "Deprecations: 1"}},
		{"text later steps only summarized", text, []string{"Upgrade path: v1.24.3-eks-4a1b2c → v1.25.16 → v1.26.15"}},
		{"text cves", text, []string{"CVE-2026-10001: fixed in v1.30.6; kube-apiserver; high 8.1", "CVE-2026-10002: no fix released; kubelet; low 3.1", "the provider may have backported the fix"}},
		{"text new cves", text, []string{"- CVE-2026-10001 (high 8.1): Invented: apiserver admission bypass", "Affects: payments-us", "- CVE-2026-10003 (medium 5.5)", "Affects no cluster of the fleet."}},
		{"text sections", text, []string{"END OF LIFE", "REMOVALS AHEAD", "OTHER OPEN ADVISORIES", "DELIVERY PROBLEMS", "slack #platform-alerts: 3 attempts failed"}},
		{"html cluster", html, []string{"prod-eu", "v1.24.3 → v1.25.16", "Move workloads to <strong>Pod Security Admission</strong>", `<a href="https://kubernetes.io/docs/tasks/configure-pod-container/migrate-from-psp/">the migration guide</a>`, "Nothing pending."}},
		{"html links", html, []string{`href="https://github.com/kubernetes/kubernetes/pull/90001"`, `href="https://github.com/kubernetes/kubernetes/issues/130001"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, w := range tc.want {
				if !strings.Contains(tc.part, w) {
					t.Errorf("missing %q", w)
				}
			}
		})
	}
	// Security advisories are covered per cluster; they are not repeated.
	if strings.Contains(text, "CVE-2026-10001 is fixed in v1.30.6") {
		t.Error("security advisory repeated in the digest's advisory sections")
	}
	for _, bad := range []string{"<style", "<link", "<script", "<img", "class="} {
		if strings.Contains(html, bad) {
			t.Errorf("html contains %q; mail clients need inline styles and no remote content", bad)
		}
	}
}

func TestRenderBatchSubject(t *testing.T) {
	one := testBatch()
	one.Advisories = one.Advisories[:1]
	many := testBatch()
	for i := range 4 {
		many.Advisories = append(many.Advisories, tracker.Advisory{Kind: tracker.AdvisoryEOL, Severity: tracker.SeverityLow, Cluster: "c" + string(rune('a'+i)), Title: "t"})
	}
	for _, tc := range []struct {
		name string
		b    notify.Batch
		want string
	}{
		{"one advisory", one, "[kubedrift] critical: CVE-2026-10001 is fixed in v1.30.6 (payments-us)"},
		{"three", testBatch(), "[kubedrift] 3 advisories, highest critical: payments-us, staging, fleet-wide"},
		{"many clusters", many, "[kubedrift] 7 advisories, highest critical: payments-us, staging, fleet-wide, 4 more"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			subj, _, _, err := RenderBatch(tc.b)
			if err != nil {
				t.Fatal(err)
			}
			if subj != tc.want {
				t.Errorf("subject = %q, want %q", subj, tc.want)
			}
		})
	}
}

func TestRenderErrors(t *testing.T) {
	if _, _, _, err := RenderDigest(notify.Digest{}); err == nil || !strings.Contains(err.Error(), "generation time") {
		t.Errorf("RenderDigest(zero) error = %v, want one about the generation time", err)
	}
	if _, _, _, err := RenderBatch(notify.Batch{ID: "b1"}); err == nil || !strings.Contains(err.Error(), `"b1"`) {
		t.Errorf("RenderBatch(empty) error = %v, want one naming the batch", err)
	}
	// An empty fleet still renders.
	_, text, _, err := RenderDigest(notify.Digest{GeneratedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil || !strings.Contains(text, "No clusters are configured.") {
		t.Errorf("empty digest: err %v, text %q", err, text)
	}
}

func TestHostileNotes(t *testing.T) {
	huge := strings.Repeat("Lorem ipsum <b>dolor</b> sit amet. ", 200*1024/35)
	// At most maxNotes entries, so every one is shown in each list.
	hostile := []string{
		"Before\n\n<script>\nalert(1)\n</script>\n\nafter",
		"inline <script>alert(1)</script> text",
		`<img src=x onerror="alert(1)">`,
		"look ![x](https://evil.example/pixel.png) here",
		"[x](javascript:alert(1)) and [y](JAVASCRIPT:alert(1)) and [z](vbscript:msgbox) and [d](data:text/html;base64,PHNjcmlwdD4=)",
		"a &lt; b and 1 &amp;&lt; 2",
		"\x1b[31mred\x1b[0m \u202eevil\u202c and a NUL \x00 here",
		huge,
	}
	d := testDigest()
	var notes []tracker.Note
	for i, s := range hostile {
		notes = append(notes, tracker.Note{Version: "v1.25.0", PR: 100 + i, Text: s, URL: "javascript:alert(2)"})
	}
	d.Clusters[0].Path[0].ActionRequired = notes[:4]
	d.Clusters[0].Path[0].Removals = notes[4:]
	d.Clusters[0].Name = `<b onmouseover="x">prod</b>`
	d.Advisories[0].Links = []string{"javascript:alert(3)", "https://ok.example/x"}
	d.Advisories[0].Notes = notes
	b := testBatch()
	b.Advisories[1].Notes = notes

	_, dtext, dhtml, err := RenderDigest(d)
	if err != nil {
		t.Fatal(err)
	}
	_, btext, bhtml, err := RenderBatch(b)
	if err != nil {
		t.Fatal(err)
	}
	for name, h := range map[string]string{"digest": dhtml, "batch": bhtml} {
		t.Run(name+" html", func(t *testing.T) {
			checkHTML(t, name, h)
			low := strings.ToLower(h)
			for _, bad := range []string{"&amp;lt;", "<script", "onerror", "<b ", "javascript:", "vbscript:", "data:text", "<img", "\x1b", "\u202e", "\x00", "<b>"} {
				if strings.Contains(low, bad) {
					t.Errorf("html contains %q", bad)
				}
			}
			wants := []string{"a &lt; b", "&amp;&lt; 2", "Before", "after", "look x here", "inline <!-- raw HTML omitted -->alert(1)<!-- raw HTML omitted --> text"}
			if name == "digest" {
				wants = append(wants, "&lt;b onmouseover=", "https://ok.example/x")
			}
			for _, want := range wants {
				if !strings.Contains(h, want) {
					t.Errorf("html lacks %q", want)
				}
			}
			if len(h) > 150*1024 {
				t.Errorf("html is %d bytes: a huge note must be shortened", len(h))
			}
			if !strings.Contains(h, "[note shortened]") {
				t.Error("shortened note not marked")
			}
		})
	}
	for name, txt := range map[string]string{"digest": dtext, "batch": btext} {
		t.Run(name+" text", func(t *testing.T) {
			for _, bad := range []string{"\x1b", "\u202e", "\x00", "javascript:alert(2)", "javascript:alert(3)"} {
				if strings.Contains(txt, bad) {
					t.Errorf("text contains %q", bad)
				}
			}
			if !strings.Contains(txt, "[31mred") || !strings.Contains(txt, "a &lt; b") {
				t.Error("text part should keep the markdown source, minus control characters")
			}
			if len(txt) > 150*1024 {
				t.Errorf("text is %d bytes: a huge note must be shortened", len(txt))
			}
		})
	}
}

func TestRenderMarkdownLinks(t *testing.T) {
	for _, tc := range []struct {
		name, in  string
		want, not []string
	}{
		{"https kept", "[pr](https://github.com/kubernetes/kubernetes/pull/1)", []string{`<a href="https://github.com/kubernetes/kubernetes/pull/1">pr</a>`}, nil},
		{"http kept", "<http://example.com/a>", []string{`<a href="http://example.com/a">http://example.com/a</a>`}, nil},
		{"javascript unwrapped", "[x](javascript:alert(1))", []string{"<p>x</p>"}, []string{"<a", "javascript"}},
		{"relative unwrapped", "[x](/docs)", []string{"<p>x</p>"}, []string{"<a"}},
		{"email autolink is text", "<sec@example.com>", []string{"sec@example.com"}, []string{"<a", "mailto"}},
		{"image becomes alt text", "![logo *bold*](https://x.example/l.png)", []string{"logo <em>bold</em>"}, []string{"<img", "x.example"}},
		{"nested link in emphasis", "*see [x](file:///etc/passwd)*", []string{"<em>see x</em>"}, []string{"file:"}},
		{"raw html dropped", "a <span onclick=x>b</span> c", []string{"a ", "b", " c"}, []string{"<span", "onclick"}},
		{"code keeps text", "`<script>`", []string{"<code>&lt;script&gt;</code>"}, []string{"<script"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := renderMarkdown(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(h), w) {
					t.Errorf("renderMarkdown(%q) = %q, lacks %q", tc.in, h, w)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(string(h), n) {
					t.Errorf("renderMarkdown(%q) = %q, contains %q", tc.in, h, n)
				}
			}
		})
	}
}

// TestGoldmarkDefaults pins the goldmark behaviour renderMarkdown builds on:
// without WithUnsafe raw HTML is omitted and javascript: destinations are
// emptied even before kubedrift's own link filter.
func TestGoldmarkDefaults(t *testing.T) {
	var buf strings.Builder
	if err := goldmark.Convert([]byte("[x](javascript:alert(1)) <script>alert(1)</script>"), &buf); err != nil {
		t.Fatal(err)
	}
	got := buf.String()
	if strings.Contains(got, "javascript:") || strings.Contains(got, "<script") || !strings.Contains(got, `<a href="">x</a>`) {
		t.Errorf("goldmark defaults changed: %q", got)
	}
}

func TestClean(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain", "plain"},
		{"a\x1b[31mb", "a[31mb"},
		{"keep\nlines\tand tabs", "keep\nlines\tand tabs"},
		{"cr\r\nlf", "cr\nlf"},
		{"bidi\u202eoverride\u2066x\u2069", "bidioverridex"},
		{"bad utf8 \xff!", "bad utf8 !"},
		{"c1 \u0085 control", "c1  control"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			if got := clean(tc.in); got != tc.want {
				t.Errorf("clean(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
	if got := cleanLine("a\nb\r\n\tc"); got != "a b c" {
		t.Errorf("cleanLine = %q", got)
	}
}

func TestTruncate(t *testing.T) {
	s := strings.Repeat("é", 10) // 2 bytes each
	for _, n := range []int{0, 1, 2, 3, 19, 20, 25} {
		got, cut := truncate(s, n)
		if len(got) > n || !strings.HasPrefix(s, got) || cut != (len(s) > n) || strings.ContainsRune(got, '\uFFFD') {
			t.Errorf("truncate(%d) = %q, %v", n, got, cut)
		}
	}
}

func BenchmarkRenderDigest(b *testing.B) {
	d := testDigest()
	for b.Loop() {
		if _, _, _, err := RenderDigest(d); err != nil {
			b.Fatal(err)
		}
	}
}

// corpusDir finds ../shared/corpus next to the module root, or skips.
func corpusDir(t *testing.T) string {
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
			t.Skip("no go.mod above the package directory; cannot locate ../shared/corpus")
		}
		dir = parent
	}
	c := filepath.Join(dir, "..", "shared", "corpus")
	if _, err := os.Stat(c); err != nil {
		t.Skipf("upstream corpus not found at %s (only present in the kubedrift workspace): %v", c, err)
	}
	return c
}

// TestRenderUpstreamNotes renders every v1.25.0 release note upstream
// published (real markdown, with PR and author links) into a digest and
// checks the HTML keeps their links and stays free of raw HTML.
func TestRenderUpstreamNotes(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(corpusDir(t), "relnotes", "release-notes-1.25.0.json"))
	if err != nil {
		t.Fatal(err)
	}
	var entries map[string]struct {
		Markdown string `json:"markdown"`
		PRURL    string `json:"pr_url"`
		PR       int    `json:"pr_number"`
	}
	if err := json.Unmarshal(raw, &entries); err != nil {
		t.Fatalf("release-notes-1.25.0.json: %v", err)
	}
	if len(entries) < 100 {
		t.Fatalf("only %d notes in the corpus file", len(entries))
	}
	var notes []tracker.Note
	for _, e := range entries {
		notes = append(notes, tracker.Note{Version: "v1.25.0", PR: e.PR, URL: e.PRURL, Text: e.Markdown})
	}
	var linked int
	for _, n := range notes {
		h, err := renderMarkdown(n.Text)
		if err != nil {
			t.Fatalf("PR %d: %v", n.PR, err)
		}
		s := string(h)
		if strings.Contains(s, "<script") || strings.Contains(s, "raw HTML omitted") {
			t.Errorf("PR %d: unexpected raw HTML handling in %q", n.PR, s)
		}
		for _, part := range strings.Split(s, `href="`)[1:] {
			if !strings.HasPrefix(part, "https://") && !strings.HasPrefix(part, "http://") {
				t.Errorf("PR %d: non-http link %.40q", n.PR, part)
			}
		}
		if strings.Contains(s, `href="https://github.com/`) {
			linked++
		}
	}
	// Upstream entries end with "([#NNN](pr-url), [@user](user-url))".
	if linked < len(notes)/2 {
		t.Errorf("only %d of %d upstream notes kept their GitHub links", linked, len(notes))
	}
	d := testDigest()
	d.Clusters[0].Path[0].Removals = notes
	if _, _, html, err := RenderDigest(d); err != nil || !strings.Contains(html, "… and ") {
		t.Errorf("digest with %d upstream notes: err %v; want the list capped with a pointer to the changelog", len(notes), err)
	}
}
