package cve

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/kubedrift/kubedrift/tracker"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestComponentOf(t *testing.T) {
	tests := []struct {
		pkg       string
		component string
		tracked   bool
	}{
		{"k8s.io/apiserver", tracker.ComponentAPIServer, true},
		{"k8s.io/kube-apiserver", tracker.ComponentAPIServer, true},
		{"k8s.io/kubelet", tracker.ComponentKubelet, true},
		{"k8s.io/kubectl", tracker.ComponentKubectl, true},
		{"k8s.io/kube-proxy", tracker.ComponentKubeProxy, true},
		{"k8s.io/controller-manager", tracker.ComponentControllerManager, true},
		{"k8s.io/kube-controller-manager", tracker.ComponentControllerManager, true},
		{"k8s.io/kube-scheduler", tracker.ComponentScheduler, true},
		{"k8s.io/kubernetes", tracker.ComponentKubernetes, true},
		{"k8s.io/client-go", "client-go", false},
		{"k8s.io/ingress-nginx", "ingress-nginx", false},
		{"sigs.k8s.io/secrets-store-csi-driver", "secrets-store-csi-driver", false},
		{"github.com/kubernetes-csi/csi-proxy", "csi-proxy", false},
		{"sigs.k8s.io/example-dashboard", "example-dashboard", false},
		{"some-binary", "some-binary", false},
		{"", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.pkg, func(t *testing.T) {
			c, tr := ComponentOf(tt.pkg)
			if c != tt.component || tr != tt.tracked {
				t.Errorf("ComponentOf(%q) = %q, %v; want %q, %v", tt.pkg, c, tr, tt.component, tt.tracked)
			}
		})
	}
}

func TestParseOSV(t *testing.T) {
	tests := []struct {
		file    string
		wantID  string
		wantErr []string // substrings, all must appear; nil means no error
		check   func(t *testing.T, c tracker.CVE)
	}{
		{
			file:   "osv/CVE-2099-0001.json",
			wantID: "CVE-2099-0001",
			check: func(t *testing.T, c tracker.CVE) {
				want := []tracker.AffectedPackage{
					{Package: "k8s.io/apiserver", Component: "kube-apiserver", Tracked: true, Ranges: []tracker.Range{
						{Fixed: "v1.29.12"}, {Introduced: "v1.30.0", Fixed: "v1.30.8"}, {Introduced: "v1.31.0", Fixed: "v1.31.4"},
					}},
					{Package: "k8s.io/kubelet", Component: "kubelet", Tracked: true, Ranges: []tracker.Range{
						{Introduced: "v1.30.0", Fixed: "v1.30.8"}, {Introduced: "v1.31.0"},
					}},
				}
				if !reflect.DeepEqual(c.Affected, want) {
					t.Errorf("Affected = %+v\nwant %+v", c.Affected, want)
				}
				if c.URL != "https://github.com/kubernetes/kubernetes/issues/999001" {
					t.Errorf("URL = %q, want the kubernetes issue", c.URL)
				}
				// The strongest of the two packages' vectors wins.
				if c.CVSS == nil || c.CVSS.Score != 8.8 || c.CVSS.Rating != "High" {
					t.Errorf("CVSS = %+v, want 8.8 High", c.CVSS)
				}
				if !c.Published.Equal(time.Date(2099, 3, 1, 9, 30, 0, 0, time.UTC)) {
					t.Errorf("Published = %v", c.Published)
				}
				if !reflect.DeepEqual(c.Sources, []string{SourceOSV}) {
					t.Errorf("Sources = %v", c.Sources)
				}
				if c.Summary == "" || c.Details == "" {
					t.Errorf("summary/details not carried: %+v", c)
				}
			},
		},
		{
			file:    "osv/CVE-2099-0002.json",
			wantID:  "CVE-2099-0002",
			wantErr: []string{"CVE-2099-0002.json", `ranges[1]: GIT range with non-semantic version "9f2c1e7d", skipped`},
			check: func(t *testing.T, c tracker.CVE) {
				want := []tracker.AffectedPackage{
					{Package: "sigs.k8s.io/example-dashboard", Component: "example-dashboard", Tracked: false, Ranges: []tracker.Range{
						{Introduced: "v2.1.0", Fixed: "v2.3.8"},
					}},
					{Package: "k8s.io/ingress-nginx", Component: "ingress-nginx", Tracked: false, Ranges: []tracker.Range{{Fixed: "v1.11.2"}}},
				}
				if !reflect.DeepEqual(c.Affected, want) {
					t.Errorf("Affected = %+v\nwant %+v", c.Affected, want)
				}
				if c.CVSS == nil || c.CVSS.Rating != "Medium" || c.CVSS.Vector != "" {
					t.Errorf("CVSS = %+v, want Medium from database_specific", c.CVSS)
				}
				if c.URL != "https://example.invalid/issues/12" {
					t.Errorf("URL = %q, want the only reference", c.URL)
				}
			},
		},
		{
			file:   "osv/CVE-2099-0003.json",
			wantID: "CVE-2099-0003",
			wantErr: []string{
				`published: parsing time "yesterday"`,
				"affected[0] (k8s.io/kube-scheduler): severity[0]: invalid CVSS v3 vector",
				`events[1]: fixed version "1.29" is not semantic`,
				"affected[1]: package has no name, skipped",
			},
			check: func(t *testing.T, c tracker.CVE) {
				if c.CVSS == nil || c.CVSS.Vector != "CVSS:3.1/AV:N/AC:Q/PR:L/UI:N/S:U/C:N/I:N/A:H" || c.CVSS.Score != 0 || c.CVSS.Rating != "" {
					t.Errorf("CVSS = %+v, want the vector only", c.CVSS)
				}
				want := []tracker.AffectedPackage{{Package: "k8s.io/kube-scheduler", Component: "kube-scheduler", Tracked: true,
					Ranges: []tracker.Range{{Introduced: "v1.29.0", Fixed: "v1.29.3"}}}}
				if !reflect.DeepEqual(c.Affected, want) {
					t.Errorf("Affected = %+v\nwant %+v", c.Affected, want)
				}
				if !c.Published.IsZero() {
					t.Errorf("Published = %v, want zero", c.Published)
				}
			},
		},
		{file: "osv/truncated.json", wantErr: []string{"parse OSV testdata/osv/truncated.json", "unexpected end of JSON input"}},
		{file: "osv/not-osv.json", wantErr: []string{"parse OSV testdata/osv/not-osv.json", "not an OSV record: missing id"}},
		{file: "osv/wrong-type.json", wantErr: []string{"testdata/osv/wrong-type.json", "line 3, column ", "cannot unmarshal string"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			name := "testdata/" + tt.file
			c, err := ParseOSV(name, readFixture(t, tt.file))
			if c.ID != tt.wantID {
				t.Errorf("ID = %q, want %q", c.ID, tt.wantID)
			}
			checkErr(t, err, tt.wantErr)
			if tt.check != nil && c.ID != "" {
				tt.check(t, c)
			}
		})
	}
}

func checkErr(t *testing.T, err error, want []string) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Errorf("unexpected error: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("no error, want one containing %q", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q\ndoes not contain %q", err, w)
		}
	}
}

func TestParseOSVNotOSV(t *testing.T) {
	_, err := ParseOSV("x.json", []byte(`{"affected": []}`))
	if !errors.Is(err, ErrNotOSV) {
		t.Errorf("err = %v, want ErrNotOSV", err)
	}
}

func TestParseOSVRanges(t *testing.T) {
	tests := []struct {
		name   string
		events string
		typ    string
		want   []tracker.Range
		errSub string
	}{
		{"sorted flat list", `[{"introduced":"0"},{"fixed":"1.2.3"},{"introduced":"1.3.0"},{"fixed":"1.3.1"}]`, "SEMVER",
			[]tracker.Range{{Fixed: "v1.2.3"}, {Introduced: "v1.3.0", Fixed: "v1.3.1"}}, ""},
		{"open ended", `[{"introduced":"1.5.0"}]`, "SEMVER", []tracker.Range{{Introduced: "v1.5.0"}}, ""},
		{"v prefix kept", `[{"introduced":"v1.5.0"},{"fixed":"v1.5.2"}]`, "SEMVER", []tracker.Range{{Introduced: "v1.5.0", Fixed: "v1.5.2"}}, ""},
		{"pre-release bound", `[{"introduced":"2.0.0-alpha.0"},{"fixed":"2.0.0-alpha.1"}]`, "SEMVER",
			[]tracker.Range{{Introduced: "v2.0.0-alpha.0", Fixed: "v2.0.0-alpha.1"}}, ""},
		{"last affected", `[{"introduced":"1.2.0"},{"last_affected":"1.2.9"}]`, "SEMVER", []tracker.Range{{Introduced: "v1.2.0", Fixed: "v1.2.10"}}, ""},
		{"fixed without introduced", `[{"fixed":"1.2.3"}]`, "SEMVER", []tracker.Range{}, ""},
		{"unknown event", `[{"introduced":"0"},{"patched":"1.2.3"}]`, "SEMVER", []tracker.Range{{}}, `unknown event "patched"`},
		{"two keys", `[{"introduced":"0","fixed":"1.2.3"}]`, "SEMVER", []tracker.Range{}, "want exactly one"},
		{"git", `[{"introduced":"0"},{"fixed":"abc123"}]`, "GIT", []tracker.Range{}, "GIT range with non-semantic version"},
		{"fixed zero", `[{"introduced":"1.0.0"},{"fixed":"0"}]`, "SEMVER", []tracker.Range{{Introduced: "v1.0.0"}}, `fixed version "0" is not semantic`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := `{"id":"CVE-2099-0100","affected":[{"package":{"name":"k8s.io/kubelet"},"ranges":[{"type":"` + tt.typ + `","events":` + tt.events + `}]}]}`
			c, err := ParseOSV("inline.json", []byte(rec))
			if c.ID == "" || len(c.Affected) != 1 {
				t.Fatalf("ParseOSV = %+v, %v", c, err)
			}
			if !reflect.DeepEqual(c.Affected[0].Ranges, tt.want) {
				t.Errorf("Ranges = %+v, want %+v", c.Affected[0].Ranges, tt.want)
			}
			if tt.errSub == "" && err != nil {
				t.Errorf("unexpected error: %v", err)
			}
			if tt.errSub != "" && (err == nil || !strings.Contains(err.Error(), tt.errSub)) {
				t.Errorf("error = %v, want it to contain %q", err, tt.errSub)
			}
		})
	}
}

func TestParseOSVDir(t *testing.T) {
	cves, errs := ParseOSVDir(os.DirFS("testdata"), "osv")
	var ids []string
	for _, c := range cves {
		ids = append(ids, c.ID)
	}
	wantIDs := []string{"CVE-2099-0001", "CVE-2099-0002", "CVE-2099-0003"}
	if !reflect.DeepEqual(ids, wantIDs) {
		t.Errorf("IDs = %v, want %v", ids, wantIDs)
	}
	joined := errors.Join(errs...).Error()
	for _, want := range []string{"osv/truncated.json", "osv/not-osv.json", "osv/wrong-type.json", "osv/CVE-2099-0002.json", "osv/CVE-2099-0003.json"} {
		if !strings.Contains(joined, want) {
			t.Errorf("errors do not name %s:\n%s", want, joined)
		}
	}
	if strings.Contains(joined, "README.txt") || strings.Contains(joined, "CVE-2099-0001.json") {
		t.Errorf("errors name a file that has no problem:\n%s", joined)
	}

	// An in-memory tree shows read errors do not stop the walk.
	_, errs = ParseOSVDir(fstest.MapFS{}, "missing")
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "read OSV directory missing") {
		t.Errorf("missing dir errors = %v", errs)
	}
}

func TestCompareIDs(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"CVE-2019-11243", "CVE-2019-1002100", -1},
		{"CVE-2018-1002105", "CVE-2019-11243", -1},
		{"CVE-2020-8555", "CVE-2020-8555", 0},
		{"GHSA-aaaa", "CVE-2020-8555", 1},
		{"GHSA-aaaa", "GHSA-bbbb", -1},
	}
	for _, tt := range tests {
		t.Run(tt.a+"_"+tt.b, func(t *testing.T) {
			if got := CompareIDs(tt.a, tt.b); got != tt.want {
				t.Errorf("CompareIDs = %d, want %d", got, tt.want)
			}
			if got := CompareIDs(tt.b, tt.a); got != -tt.want {
				t.Errorf("CompareIDs reversed = %d, want %d", got, -tt.want)
			}
		})
	}
}

// osvFacts is what the golden file records of each corpus CVE: facts only,
// never upstream prose.
type osvFacts struct {
	ID        string                    `json:"id"`
	URL       string                    `json:"url"`
	Published time.Time                 `json:"published"`
	CVSS      *tracker.CVSS             `json:"cvss"`
	Affected  []tracker.AffectedPackage `json:"affected"`
}

func TestCorpusOSV(t *testing.T) {
	dir := corpusDir(t, "osv")
	cves, errs := ParseOSVDir(os.DirFS(dir), ".")
	for _, err := range errs {
		t.Errorf("corpus record: %v", err)
	}
	if len(cves) != 47 {
		t.Fatalf("parsed %d corpus records, want 47", len(cves))
	}
	var c tracker.CVE
	for _, x := range cves {
		if x.ID == "CVE-2022-3172" {
			c = x
		}
		for _, a := range x.Affected {
			if _, known := components[a.Package]; !known {
				t.Errorf("%s: package %s has no deliberate mapping", x.ID, a.Package)
			}
			if len(a.Ranges) == 0 {
				t.Errorf("%s: %s has no ranges", x.ID, a.Package)
			}
		}
		if x.CVSS == nil || x.CVSS.Rating == "" || x.CVSS.Score <= 0 {
			t.Errorf("%s: CVSS = %+v, want a scored vector", x.ID, x.CVSS)
		}
	}
	if c.ID == "" {
		t.Fatal("CVE-2022-3172 missing")
	}
	if len(c.Affected) != 1 || c.Affected[0].Package != "k8s.io/apiserver" || c.Affected[0].Component != tracker.ComponentAPIServer || !c.Affected[0].Tracked {
		t.Fatalf("CVE-2022-3172 affected = %+v", c.Affected)
	}
	wantRanges := []tracker.Range{
		{Fixed: "v1.21.14"},
		{Introduced: "v1.22.0", Fixed: "v1.22.14"},
		{Introduced: "v1.23.0", Fixed: "v1.23.11"},
		{Introduced: "v1.24.0", Fixed: "v1.24.5"},
		{Introduced: "v1.25.0", Fixed: "v1.25.1"},
	}
	if !reflect.DeepEqual(c.Affected[0].Ranges, wantRanges) {
		t.Errorf("CVE-2022-3172 ranges = %+v\nwant %+v", c.Affected[0].Ranges, wantRanges)
	}
	if c.CVSS.Score != 5.1 || c.CVSS.Rating != "Medium" {
		t.Errorf("CVE-2022-3172 CVSS = %+v, want 5.1 Medium", c.CVSS)
	}
	if c.URL != "https://github.com/kubernetes/kubernetes/issues/112513" {
		t.Errorf("CVE-2022-3172 URL = %s", c.URL)
	}

	facts := make([]osvFacts, 0, len(cves))
	for _, x := range cves {
		facts = append(facts, osvFacts{ID: x.ID, URL: x.URL, Published: x.Published, CVSS: x.CVSS, Affected: x.Affected})
	}
	golden(t, "corpus-osv.golden.json", facts)
}

func golden(t *testing.T, name string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from the parse result; run go test -update and review the diff", path)
	}
}

func BenchmarkParseOSVDir(b *testing.B) {
	fsys := os.DirFS(corpusDir(b, "osv"))
	for b.Loop() {
		if cves, errs := ParseOSVDir(fsys, "."); len(cves) != 47 || len(errs) != 0 {
			b.Fatalf("got %d records, %v", len(cves), errs)
		}
	}
}

func BenchmarkScoreCVSS3(b *testing.B) {
	for b.Loop() {
		if _, err := ScoreCVSS3("CVSS:3.1/AV:N/AC:H/PR:H/UI:R/S:C/C:L/I:L/A:L"); err != nil {
			b.Fatal(err)
		}
	}
}

func TestParseOSVSeverity(t *testing.T) {
	tests := []struct {
		name   string
		rec    string
		want   *tracker.CVSS
		errSub string
	}{
		{"none", `{"id":"X"}`, nil, ""},
		{"top level v3", `{"id":"X","severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]}`,
			&tracker.CVSS{Rating: "Critical", Score: 9.8, Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}, ""},
		{"v4 kept as vector", `{"id":"X","severity":[{"type":"CVSS_V4","score":"CVSS:4.0/AV:N"}]}`, &tracker.CVSS{Vector: "CVSS:4.0/AV:N"}, ""},
		{"scored v3 beats v4", `{"id":"X","severity":[{"type":"CVSS_V4","score":"CVSS:4.0/AV:N"},{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N"}]}`,
			&tracker.CVSS{Rating: "Medium", Score: 5.3, Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N"}, ""},
		{"unknown type", `{"id":"X","severity":[{"type":"Ubuntu","score":"high"}]}`, nil, `severity[0]: unknown severity type "Ubuntu"`},
		{"database_specific score", `{"id":"X","database_specific":{"cvss_score":7.1}}`, &tracker.CVSS{Rating: "High", Score: 7.1}, ""},
		{"database_specific rating", `{"id":"X","database_specific":{"severity":"CRITICAL","source":"x"}}`, &tracker.CVSS{Rating: "Critical"}, ""},
		{"database_specific out of range", `{"id":"X","database_specific":{"cvss_score":12}}`, nil, "cvss_score 12 out of range"},
		{"database_specific wrong type", `{"id":"X","database_specific":{"severity":3}}`, nil, "database_specific: json: cannot unmarshal number"},
		{"database_specific unrelated", `{"id":"X","database_specific":{"other":[1,2]}}`, nil, ""},
		{"malformed vector keeps vector", `{"id":"X","severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N"}]}`, &tracker.CVSS{Vector: "CVSS:3.1/AV:N"}, "missing base metric AC"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseOSV("inline.json", []byte(tt.rec))
			if c.ID != "X" {
				t.Fatalf("ParseOSV = %+v, %v", c, err)
			}
			if !reflect.DeepEqual(c.CVSS, tt.want) {
				t.Errorf("CVSS = %+v, want %+v", c.CVSS, tt.want)
			}
			if tt.errSub == "" && err != nil {
				t.Errorf("unexpected error: %v", err)
			}
			if tt.errSub != "" && (err == nil || !strings.Contains(err.Error(), tt.errSub)) {
				t.Errorf("error = %v, want it to contain %q", err, tt.errSub)
			}
		})
	}
}
