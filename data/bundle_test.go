package data

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kubedrift/kubedrift/tracker"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

var builtAt = date("2026-03-05T06:07:08Z")

func export(t testing.TB, s *SQLite, opt ExportOptions) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := s.Export(ctxBG, &buf, opt); err != nil {
		t.Fatalf("Export: %v", err)
	}
	return buf.Bytes()
}

// state captures everything a bundle or sync can change, for before/after
// comparisons.
func state(t testing.TB, s *SQLite) string {
	t.Helper()
	full := export(t, s, ExportOptions{BuiltAt: builtAt})
	var meta []string
	for _, k := range []string{MetaSnapshotBuiltAt, MetaBundleImportedAt, MetaSeedImportedAt} {
		v, err := s.Meta(ctxBG, k)
		if err != nil {
			t.Fatal(err)
		}
		meta = append(meta, k+"="+v)
	}
	return string(full) + strings.Join(meta, "\n")
}

// fixtureProse lists every piece of prose in the fixture, which a facts-only
// bundle must not contain.
func fixtureProse(u Update) []string {
	var out []string
	for _, n := range u.Notes {
		out = append(out, n.Text)
		if n.Security != nil {
			out = append(out, n.Security.Title)
		}
	}
	for _, c := range u.CVEs {
		out = append(out, c.Summary)
		if c.Details != "" {
			out = append(out, c.Details)
		}
	}
	return out
}

func TestExportGoldenAndDeterministic(t *testing.T) {
	s := openTemp(t, Options{})
	u := fixture(t)
	if err := s.Apply(ctxBG, u); err != nil {
		t.Fatal(err)
	}
	got := export(t, s, ExportOptions{FactsOnly: true, BuiltAt: builtAt})
	golden := filepath.Join("testdata", "bundle.golden.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("facts-only export differs from %s (run go test -update after checking the change)", golden)
	}
	for _, p := range fixtureProse(u) {
		if bytes.Contains(got, []byte(p)) {
			t.Errorf("facts-only bundle contains prose %q", p)
		}
	}

	// The same content applied in another order, into another file, exports
	// byte for byte the same, compressed or not.
	other := openTemp(t, Options{})
	rev := fixture(t)
	for i, j := 0, len(rev.Notes)-1; i < j; i, j = i+1, j-1 {
		rev.Notes[i], rev.Notes[j] = rev.Notes[j], rev.Notes[i]
	}
	for i, j := 0, len(rev.Releases)-1; i < j; i, j = i+1, j-1 {
		rev.Releases[i], rev.Releases[j] = rev.Releases[j], rev.Releases[i]
	}
	if err := other.Apply(ctxBG, rev); err != nil {
		t.Fatal(err)
	}
	for _, opt := range []ExportOptions{
		{FactsOnly: true, BuiltAt: builtAt},
		{BuiltAt: builtAt},
		{BuiltAt: builtAt, Compress: true},
	} {
		if !bytes.Equal(export(t, s, opt), export(t, other, opt)) {
			t.Errorf("export %+v not deterministic", opt)
		}
	}
}

func TestImportRoundTrip(t *testing.T) {
	src := openTemp(t, Options{})
	if err := src.Apply(ctxBG, fixture(t)); err != nil {
		t.Fatal(err)
	}
	wantNotes, _ := src.Notes(ctxBG, NoteFilter{})
	wantCVEs, _ := src.CVEs(ctxBG)
	wantRel, _ := src.Releases(ctxBG, ReleaseFilter{IncludePrereleases: true})
	wantWin, _ := src.SupportWindows(ctxBG)
	for _, compress := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "gzip"}[compress], func(t *testing.T) {
			b := export(t, src, ExportOptions{BuiltAt: builtAt, Compress: compress})
			if compress != (b[0] == 0x1f) {
				t.Fatalf("compress=%v but bundle starts with %q", compress, b[:2])
			}
			dst := openTemp(t, Options{})
			now := date("2026-04-01T00:00:00Z")
			dst.now = func() time.Time { return now }
			sum, err := dst.Import(ctxBG, bytes.NewReader(b))
			if err != nil {
				t.Fatalf("Import: %v", err)
			}
			want := ImportSummary{Releases: 7, Notes: 7, CVEs: 3, SupportWindows: 3, BuiltAt: builtAt}
			if !jsonEq(t, sum, want) || !sum.BuiltAt.Equal(builtAt) {
				t.Errorf("summary %+v, want %+v", sum, want)
			}
			gotNotes, _ := dst.Notes(ctxBG, NoteFilter{})
			gotCVEs, _ := dst.CVEs(ctxBG)
			gotRel, _ := dst.Releases(ctxBG, ReleaseFilter{IncludePrereleases: true})
			gotWin, _ := dst.SupportWindows(ctxBG)
			for name, pair := range map[string][2]any{
				"notes": {gotNotes, wantNotes}, "cves": {gotCVEs, wantCVEs},
				"releases": {gotRel, wantRel}, "windows": {gotWin, wantWin},
			} {
				if !jsonEq(t, pair[0], pair[1]) {
					t.Errorf("%s differ after round trip:\n got %s\nwant %s", name, mustJSON(t, pair[0]), mustJSON(t, pair[1]))
				}
			}
			for k, v := range map[string]string{MetaSnapshotBuiltAt: fmtTime(builtAt), MetaBundleImportedAt: fmtTime(now)} {
				if got, _ := dst.Meta(ctxBG, k); got != v {
					t.Errorf("meta %s = %q, want %q", k, got, v)
				}
			}
			// Importing the same bundle again changes nothing.
			before := export(t, dst, ExportOptions{BuiltAt: builtAt})
			if _, err := dst.Import(ctxBG, bytes.NewReader(b)); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(before, export(t, dst, ExportOptions{BuiltAt: builtAt})) {
				t.Error("second import changed the store")
			}
		})
	}
}

// TestImportFactsOnlyKeepsProse: a facts-only bundle updates facts but never
// erases prose a sync stored; a sync overwrites everything.
func TestImportFactsOnlyKeepsProse(t *testing.T) {
	s := openTemp(t, Options{})
	u := fixture(t)
	if err := s.Apply(ctxBG, u); err != nil {
		t.Fatal(err)
	}
	full, _ := s.Notes(ctxBG, NoteFilter{})
	fullCVEs, _ := s.CVEs(ctxBG)

	// A facts-only bundle in which one fact changed.
	src := openTemp(t, Options{})
	changed := fixture(t)
	changed.Notes[0].ActionRequired = false
	if err := src.Apply(ctxBG, changed); err != nil {
		t.Fatal(err)
	}
	facts := export(t, src, ExportOptions{FactsOnly: true, BuiltAt: builtAt})
	if _, err := s.Import(ctxBG, bytes.NewReader(facts)); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Notes(ctxBG, NoteFilter{})
	if len(got) != len(full) {
		t.Fatalf("%d notes after import, want %d", len(got), len(full))
	}
	for i := range got {
		if got[i].Text != full[i].Text || got[i].Text == "" {
			t.Errorf("note %s#%d text = %q, want %q", got[i].Version, got[i].PR, got[i].Text, full[i].Text)
		}
		if got[i].Security != nil && got[i].Security.Title != full[i].Security.Title {
			t.Errorf("security title lost: %q", got[i].Security.Title)
		}
		if got[i].PR == 4100 && got[i].ActionRequired {
			t.Error("facts-only import did not update action_required")
		}
	}
	gotCVEs, _ := s.CVEs(ctxBG)
	if !jsonEq(t, gotCVEs, fullCVEs) {
		t.Errorf("CVE prose changed by facts-only import:\n got %s\nwant %s", mustJSON(t, gotCVEs), mustJSON(t, fullCVEs))
	}

	// Into a fresh store, the same bundle yields notes without prose.
	fresh := openTemp(t, Options{})
	if _, err := fresh.Import(ctxBG, bytes.NewReader(facts)); err != nil {
		t.Fatal(err)
	}
	fn, _ := fresh.Notes(ctxBG, NoteFilter{})
	if len(fn) != len(full) {
		t.Fatalf("fresh store: %d notes, want %d (text-keyed notes must keep their keys)", len(fn), len(full))
	}
	for _, n := range fn {
		if n.Text != "" {
			t.Errorf("facts-only import produced text %q", n.Text)
		}
	}
	// A sync afterwards brings prose back and overwrites, text-keyed notes included.
	if err := fresh.Apply(ctxBG, u); err != nil {
		t.Fatal(err)
	}
	fn, _ = fresh.Notes(ctxBG, NoteFilter{})
	if !jsonEq(t, fn, full) {
		t.Errorf("after sync:\n got %s\nwant %s", mustJSON(t, fn), mustJSON(t, full))
	}
}

// reencode rewrites a plain bundle's header through fn and fixes nothing
// else, to build bundles that are intact but say something unwelcome.
func reencode(t *testing.T, b []byte, fn func(map[string]any)) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	fn(doc)
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestImportRefusesBadBundles(t *testing.T) {
	src := openTemp(t, Options{})
	if err := src.Apply(ctxBG, fixture(t)); err != nil {
		t.Fatal(err)
	}
	plain := export(t, src, ExportOptions{BuiltAt: builtAt})
	gz := export(t, src, ExportOptions{BuiltAt: builtAt, Compress: true})

	// The target already holds different data, which must survive every refusal.
	dst := openTemp(t, Options{})
	if err := dst.Apply(ctxBG, Update{Source: "x", At: builtAt, Releases: []tracker.Release{{Component: "kubernetes", Version: "v1.30.0"}}}); err != nil {
		t.Fatal(err)
	}
	before := state(t, dst)

	type badCase struct {
		name string
		b    []byte
		want string
	}
	var cases []badCase
	// Every byte of the header, then a sample of the payload (every byte
	// would only slow the race detector down).
	hdr := bytes.Index(plain, []byte(`"payload"`)) + 12
	for i := 0; i < len(plain); i++ {
		if i > hdr && i%5 != 0 {
			continue
		}
		b := bytes.Clone(plain)
		b[i] ^= 0x01
		cases = append(cases, badCase{name: "plain flip", b: b})
	}
	// gzip's own header (magic, flags, mtime, xfl, os) is outside its CRC;
	// everything after it is covered.
	for i := 10; i < len(gz); i += 2 {
		b := bytes.Clone(gz)
		b[i] ^= 0x10
		cases = append(cases, badCase{name: "gzip flip", b: b})
	}
	for _, n := range []int{0, 1, 2, 10, 50, len(plain) / 3, len(plain) / 2, len(plain) - 3, len(plain) - 2} {
		cases = append(cases, badCase{name: "plain truncated", b: plain[:n]})
	}
	for _, n := range []int{1, 2, 9, 11, 20, len(gz) / 2, len(gz) - 8, len(gz) - 4, len(gz) - 1} {
		cases = append(cases, badCase{name: "gzip truncated", b: gz[:n], want: "bad bundle"})
	}
	cases = append(cases,
		badCase{"newer version", reencode(t, plain, func(d map[string]any) { d["version"] = 2 }), "bundle version 2 is newer"},
		badCase{"other format", reencode(t, plain, func(d map[string]any) { d["format"] = "pluto" }), `format "pluto"`},
		badCase{"no payload", reencode(t, plain, func(d map[string]any) { delete(d, "payload") }), "no payload"},
		badCase{"payload edited", reencode(t, plain, func(d map[string]any) {
			d["payload"].(map[string]any)["releases"] = []any{}
		}), "checksum mismatch"},
		badCase{"trailing data", append(bytes.Clone(plain), []byte(`{"more":1}`)...), "after the document"},
		badCase{"not json", []byte("kubedrift\n"), "line 1"},
	)
	// An intact bundle with an invalid entry is refused as a whole.
	{
		var doc bundleDoc
		if err := json.Unmarshal(plain, &doc); err != nil {
			t.Fatal(err)
		}
		var p bundlePayload
		if err := json.Unmarshal(doc.Payload, &p); err != nil {
			t.Fatal(err)
		}
		p.Notes[1].Kinds = []tracker.Kind{"nonsense"}
		p.Releases[0].Version = "latest"
		raw, _ := json.Marshal(p)
		doc.Payload = raw
		doc.SHA256 = bundleSum(doc.BuiltAt, doc.FactsOnly, raw)
		b, _ := json.Marshal(doc)
		cases = append(cases, badCase{"invalid entries", b, `unknown kind "nonsense"`})
	}

	harmless := 0
	for _, c := range cases {
		if c.name == "gzip flip" && bytes.Equal(gunzip(t, c.b), gunzip(t, gz)) {
			// A flip in bits the decompressor ignores (padding after the last
			// block) leaves the content intact: nothing to refuse.
			harmless++
			continue
		}
		_, err := dst.Import(ctxBG, bytes.NewReader(c.b))
		if err == nil {
			t.Errorf("%s: bundle accepted", c.name)
			continue
		}
		if !errors.Is(err, ErrBadBundle) || !strings.HasPrefix(err.Error(), "data: import: ") {
			t.Errorf("%s: error %v is not a data: import: ErrBadBundle", c.name, err)
		}
		if c.want != "" && !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q does not mention %q", c.name, err, c.want)
		}
	}
	if harmless > 0 {
		t.Logf("%d gzip flips hit bits the decompressor ignores; content unchanged", harmless)
		if harmless > 3 {
			t.Errorf("%d undetected gzip flips", harmless)
		}
	}
	if after := state(t, dst); after != before {
		t.Error("a refused bundle changed the store")
	}
	t.Logf("refused %d damaged bundles (plain %d bytes, gzip %d bytes)", len(cases), len(plain), len(gz))
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		return nil
	}
	return out
}

func TestSeed(t *testing.T) {
	src := openTemp(t, Options{})
	if err := src.Apply(ctxBG, fixture(t)); err != nil {
		t.Fatal(err)
	}
	seed := export(t, src, ExportOptions{FactsOnly: true, BuiltAt: builtAt, Compress: true})

	path := filepath.Join(t.TempDir(), "k.db")
	s, err := Open(ctxBG, path, Options{Seed: seed})
	if err != nil {
		t.Fatalf("Open with seed: %v", err)
	}
	notes, _ := s.Notes(ctxBG, NoteFilter{})
	if len(notes) != len(fixture(t).Notes) {
		t.Fatalf("seeded %d notes, want %d", len(notes), len(fixture(t).Notes))
	}
	if v, _ := s.Meta(ctxBG, MetaSnapshotBuiltAt); v != fmtTime(builtAt) {
		t.Errorf("snapshot.built_at = %q", v)
	}
	seededAt, _ := s.Meta(ctxBG, MetaSeedImportedAt)
	if seededAt == "" {
		t.Error("seed not recorded")
	}
	// Empty the store by hand: a later open must not seed again.
	for _, tbl := range []string{"notes", "releases", "cves", "support_windows"} {
		if _, err := s.w.ExecContext(ctxBG, "DELETE FROM "+tbl); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	s, err = Open(ctxBG, path, Options{Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if empty, _ := s.Empty(ctxBG); !empty {
		t.Error("second open imported the seed again")
	}

	// A store with data (here from a sync) is never seeded.
	synced := filepath.Join(t.TempDir(), "k.db")
	s2, err := Open(ctxBG, synced, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.Apply(ctxBG, Update{Source: "x", At: builtAt, Releases: []tracker.Release{{Component: "kubernetes", Version: "v1.30.0"}}}); err != nil {
		t.Fatal(err)
	}
	s2.Close()
	s2, err = Open(ctxBG, synced, Options{Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if rel, _ := s2.Releases(ctxBG, ReleaseFilter{}); len(rel) != 1 {
		t.Errorf("non-empty store was seeded: %d releases", len(rel))
	}

	// A damaged seed fails Open with a message naming the path.
	bad := bytes.Clone(seed)
	bad[len(bad)/2] ^= 0xff
	_, err = Open(ctxBG, filepath.Join(t.TempDir(), "k.db"), Options{Seed: bad})
	if err == nil || !errors.Is(err, ErrBadBundle) || !strings.Contains(err.Error(), "seed") {
		t.Errorf("Open with damaged seed = %v", err)
	}
}

// TestGzipReaderCatchesTruncatedTrailer guards the assumption the truncation
// checks rest on: a gzip stream cut inside its trailer is an error.
func TestGzipReaderCatchesTruncatedTrailer(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(strings.Repeat("kubedrift ", 100)))
	zw.Close()
	_, err := readBundle(bytes.NewReader(buf.Bytes()[:buf.Len()-1]))
	if err == nil {
		t.Fatal("truncated gzip accepted")
	}
}

// FuzzReadBundle: arbitrary input never panics, and whatever is accepted
// holds only valid entries.
func FuzzReadBundle(f *testing.F) {
	s := openTemp(f, Options{})
	u := fixture(f)
	if err := s.Apply(ctxBG, u); err != nil {
		f.Fatal(err)
	}
	f.Add(export(f, s, ExportOptions{BuiltAt: builtAt}))
	f.Add(export(f, s, ExportOptions{BuiltAt: builtAt, FactsOnly: true, Compress: true}))
	f.Add([]byte(`{"format":"kubedrift-bundle","version":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := readBundle(bytes.NewReader(b))
		if err != nil {
			if !errors.Is(err, ErrBadBundle) {
				t.Fatalf("error %v does not wrap ErrBadBundle", err)
			}
			return
		}
		if err := validatePayload(&got.payload); err != nil {
			t.Fatalf("accepted bundle with invalid entries: %v", err)
		}
	})
}
