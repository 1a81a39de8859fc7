package data

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kubedrift/kubedrift/tracker"
)

func TestOpenCreatesDirectoryAndSchema(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "kubedrift")
	path := filepath.Join(dir, "kubedrift.db")
	s, err := Open(ctxBG, path, Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o700 {
		t.Errorf("directory mode = %o, want 700", perm)
	}
	v, err := schemaVersion(ctxBG, s.r)
	if err != nil || v != latestSchema {
		t.Errorf("schema version = %d, %v; want %d", v, err, latestSchema)
	}
	var mode string
	if err := s.r.QueryRowContext(ctxBG, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
	var fk int
	if err := s.w.QueryRowContext(ctxBG, "PRAGMA foreign_keys").Scan(&fk); err != nil || fk != 1 {
		t.Errorf("foreign_keys = %d, %v; want 1", fk, err)
	}
	empty, err := s.Empty(ctxBG)
	if err != nil || !empty {
		t.Errorf("Empty = %v, %v; want true", empty, err)
	}
	if s.Path() != path {
		t.Errorf("Path = %q, want %q", s.Path(), path)
	}
}

func TestOpenRefuses(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, path string)
		opt     Options
		is      error
		want    []string
	}{
		{
			name: "garbage bytes",
			prepare: func(t *testing.T, path string) {
				if err := os.WriteFile(path, []byte("this is a kubeconfig, not a database\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			},
			want: []string{"not a SQLite database"},
		},
		{
			name: "short garbage",
			prepare: func(t *testing.T, path string) {
				if err := os.WriteFile(path, []byte{0x1f, 0x8b}, 0o600); err != nil {
					t.Fatal(err)
				}
			},
			want: []string{"not a SQLite database"},
		},
		{
			name: "schema too new",
			prepare: func(t *testing.T, path string) {
				s, err := Open(ctxBG, path, Options{})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := s.w.ExecContext(ctxBG, fmt.Sprintf("PRAGMA user_version = %d", latestSchema+7)); err != nil {
					t.Fatal(err)
				}
				s.Close()
			},
			is:   ErrSchemaTooNew,
			want: []string{fmt.Sprintf("schema version %d", latestSchema+7), fmt.Sprintf("up to %d", latestSchema)},
		},
		{
			name: "schema too new read-only",
			prepare: func(t *testing.T, path string) {
				s, err := Open(ctxBG, path, Options{})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := s.w.ExecContext(ctxBG, fmt.Sprintf("PRAGMA user_version = %d", latestSchema+1)); err != nil {
					t.Fatal(err)
				}
				s.Close()
			},
			opt:  Options{ReadOnly: true},
			is:   ErrSchemaTooNew,
			want: []string{fmt.Sprintf("schema version %d", latestSchema+1)},
		},
		{
			name: "damaged database",
			prepare: func(t *testing.T, path string) {
				b := append([]byte("SQLite format 3\x00"), bytes.Repeat([]byte{0xa5}, 4080)...)
				if err := os.WriteFile(path, b, 0o600); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name: "directory",
			prepare: func(t *testing.T, path string) {
				if err := os.Mkdir(path, 0o700); err != nil {
					t.Fatal(err)
				}
			},
			want: []string{"directory"},
		},
		{
			name:    "read-only missing file",
			prepare: func(*testing.T, string) {},
			opt:     Options{ReadOnly: true},
			is:      os.ErrNotExist,
		},
		{
			name: "read-only old schema",
			prepare: func(t *testing.T, path string) {
				s, err := open(ctxBG, path, false)
				if err != nil {
					t.Fatal(err)
				}
				if err := migrateTo(ctxBG, s.w, path, 1); err != nil {
					t.Fatal(err)
				}
				s.Close()
			},
			opt:  Options{ReadOnly: true},
			want: []string{"needs migrating"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "k.db")
			tt.prepare(t, path)
			s, err := Open(ctxBG, path, tt.opt)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded, want error")
			}
			t.Logf("error: %v", err)
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
			for _, w := range append(tt.want, path) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestOpenEmptyPath(t *testing.T) {
	if _, err := Open(ctxBG, "", Options{}); err == nil || !strings.Contains(err.Error(), "empty store path") {
		t.Fatalf("Open(\"\") = %v", err)
	}
}

func TestDefaultPath(t *testing.T) {
	tests := []struct {
		name, xdg, home, want string
	}{
		{"xdg", "/x/state", "/home/u", "/x/state/kubedrift/kubedrift.db"},
		{"relative xdg ignored", "rel/state", "/home/u", "/home/u/.local/state/kubedrift/kubedrift.db"},
		{"no xdg", "", "/home/u", "/home/u/.local/state/kubedrift/kubedrift.db"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("XDG_STATE_HOME", tt.xdg)
			t.Setenv("HOME", tt.home)
			got, err := DefaultPath()
			if err != nil || got != tt.want {
				t.Errorf("DefaultPath() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// TestMigrateFromEveryVersion builds a file at each earlier schema version,
// writes what that version can hold, and checks Open upgrades it intact.
func TestMigrateFromEveryVersion(t *testing.T) {
	u := fixture(t)
	obs := []tracker.Cluster{{Name: "prod-eu", Source: "inventory:x.yaml", Distribution: "eks",
		Version: "v1.24.3-eks-1", ObservedAt: date("2026-03-01T10:00:00Z")}}
	for k := 0; k < latestSchema; k++ {
		t.Run(fmt.Sprintf("from v%d", k), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "k.db")
			old, err := open(ctxBG, path, false)
			if err != nil {
				t.Fatal(err)
			}
			if err := migrateTo(ctxBG, old.w, path, k); err != nil {
				t.Fatal(err)
			}
			if k >= 1 {
				if err := old.Apply(ctxBG, u); err != nil {
					t.Fatalf("Apply at v%d: %v", k, err)
				}
				if err := old.SetMeta(ctxBG, "k", "v"); err != nil {
					t.Fatal(err)
				}
			}
			if k >= 2 {
				if err := old.RecordClusters(ctxBG, obs); err != nil {
					t.Fatalf("RecordClusters at v%d: %v", k, err)
				}
			}
			if v, _ := schemaVersion(ctxBG, old.r); v != k {
				t.Fatalf("built version %d, want %d", v, k)
			}
			old.Close()

			s, err := Open(ctxBG, path, Options{})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer s.Close()
			if v, _ := schemaVersion(ctxBG, s.r); v != latestSchema {
				t.Fatalf("after Open: version %d, want %d", v, latestSchema)
			}
			notes, err := s.Notes(ctxBG, NoteFilter{})
			if err != nil {
				t.Fatal(err)
			}
			clusters, err := s.Clusters(ctxBG)
			if err != nil {
				t.Fatal(err)
			}
			wantNotes, wantClusters := 0, 0
			if k >= 1 {
				wantNotes = len(u.Notes)
				if m, _ := s.Meta(ctxBG, "k"); m != "v" {
					t.Errorf("meta lost: %q", m)
				}
			}
			if k >= 2 {
				wantClusters = 1
			}
			if len(notes) != wantNotes || len(clusters) != wantClusters {
				t.Errorf("after upgrade: %d notes, %d clusters; want %d, %d", len(notes), len(clusters), wantNotes, wantClusters)
			}
			// The newest tables exist and honour their constraints.
			if _, err := s.w.ExecContext(ctxBG, `INSERT INTO deliveries (advisory_id, channel, key_hash, created_at, updated_at)
VALUES ('nope', 'slack', 'h', 'x', 'x')`); err == nil {
				t.Error("delivery without advisory accepted: foreign keys off?")
			}
		})
	}
}

func TestReadOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.db")
	s, err := Open(ctxBG, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(ctxBG, fixture(t)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	ro, err := Open(ctxBG, path, Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("Open read-only: %v", err)
	}
	defer ro.Close()
	if n, err := ro.Notes(ctxBG, NoteFilter{}); err != nil || len(n) == 0 {
		t.Errorf("Notes read-only = %d, %v", len(n), err)
	}
	writes := map[string]error{
		"Apply":          ro.Apply(ctxBG, fixture(t)),
		"SetMeta":        ro.SetMeta(ctxBG, "a", "b"),
		"RecordFailure":  ro.RecordFailure(ctxBG, "s", time.Now(), errors.New("x")),
		"RecordClusters": ro.RecordClusters(ctxBG, []tracker.Cluster{{Name: "a", ObservedAt: time.Now()}}),
	}
	for name, err := range writes {
		if !errors.Is(err, ErrReadOnly) {
			t.Errorf("%s on read-only store: %v, want ErrReadOnly", name, err)
		}
	}
}

func TestReleases(t *testing.T) {
	s := openTemp(t, Options{})
	u := fixture(t)
	if err := s.Apply(ctxBG, u); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		f    ReleaseFilter
		want []string // component/version
	}{
		{"all finals", ReleaseFilter{}, []string{"etcd/v3.5.6", "kubernetes/v1.25.10", "kubernetes/v1.25.1", "kubernetes/v1.25.0", "kubernetes/v1.24.9"}},
		{"with prereleases", ReleaseFilter{IncludePrereleases: true}, []string{"etcd/v3.5.6", "kubernetes/v1.26.0-alpha.1",
			"kubernetes/v1.25.10", "kubernetes/v1.25.1", "kubernetes/v1.25.0", "kubernetes/v1.25.0-rc.1", "kubernetes/v1.24.9"}},
		{"component and minor", ReleaseFilter{Component: "kubernetes", Minor: "1.25", IncludePrereleases: true},
			[]string{"kubernetes/v1.25.10", "kubernetes/v1.25.1", "kubernetes/v1.25.0", "kubernetes/v1.25.0-rc.1"}},
		{"minor with v", ReleaseFilter{Component: "kubernetes", Minor: "v1.24"}, []string{"kubernetes/v1.24.9"}},
		{"unknown component", ReleaseFilter{Component: "nope"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Releases(ctxBG, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, r := range got {
				ids = append(ids, r.Component+"/"+r.Version)
			}
			if !slices.Equal(ids, tt.want) {
				t.Errorf("got %v\nwant %v", ids, tt.want)
			}
		})
	}
	// Every field round-trips.
	got, err := s.Releases(ctxBG, ReleaseFilter{IncludePrereleases: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range u.Releases {
		i := slices.IndexFunc(got, func(r tracker.Release) bool { return r.Component == w.Component && r.Version == w.Version })
		if i < 0 || got[i] != normRelease(w) {
			t.Errorf("release %s %s: got %+v, want %+v", w.Component, w.Version, got, normRelease(w))
		}
	}
	if _, err := s.Releases(ctxBG, ReleaseFilter{Minor: "one.two"}); err == nil || !strings.Contains(err.Error(), "list releases") {
		t.Errorf("bad minor filter: %v", err)
	}
}

func noteIDs(ns []tracker.Note) []string {
	var ids []string
	for _, n := range ns {
		ids = append(ids, fmt.Sprintf("%s#%d", n.Version, n.PR))
	}
	return ids
}

func TestNotes(t *testing.T) {
	s := openTemp(t, Options{})
	u := fixture(t)
	if err := s.Apply(ctxBG, u); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		f    NoteFilter
		want []string
	}{
		{"all", NoteFilter{}, []string{"v1.25.1#0", "v1.25.1#4301", "v1.25.0#0", "v1.25.0#3999", "v1.25.0#4100", "v1.25.0#4200", "v1.24.9#4302"}},
		{"minor", NoteFilter{Component: "kubernetes", Minor: "1.24"}, []string{"v1.24.9#4302"}},
		{"versions", NoteFilter{Versions: []string{"v1.25.1", "1.24.9"}}, []string{"v1.25.1#0", "v1.25.1#4301", "v1.24.9#4302"}},
		{"empty versions list", NoteFilter{Versions: []string{}}, nil},
		{"version and minor disagree", NoteFilter{Versions: []string{"v1.25.1"}, Minor: "1.24"}, nil},
		{"other component", NoteFilter{Component: "etcd"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Notes(ctxBG, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if ids := noteIDs(got); !slices.Equal(ids, tt.want) {
				t.Errorf("got %v\nwant %v", ids, tt.want)
			}
		})
	}
	got, err := s.Notes(ctxBG, NoteFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range u.Notes {
		w = normNote(w)
		i := slices.IndexFunc(got, func(n tracker.Note) bool { return NoteKey(n) == NoteKey(w) && n.Version == w.Version })
		if i < 0 {
			t.Errorf("note %s %d missing", w.Version, w.PR)
			continue
		}
		if !jsonEq(t, got[i], w) {
			t.Errorf("note round trip:\n got %s\nwant %s", mustJSON(t, got[i]), mustJSON(t, w))
		}
	}
	// The JSON contract: cves prints [] even when the fixture said null.
	for _, n := range got {
		if !strings.Contains(mustJSON(t, n), `"cves":[`) || !strings.Contains(mustJSON(t, n), `"kinds":[`) {
			t.Errorf("note %d JSON lacks array cves/kinds: %s", n.PR, mustJSON(t, n))
		}
	}
}

func TestApplyReplacesNoteScopes(t *testing.T) {
	s := openTemp(t, Options{})
	if err := s.Apply(ctxBG, fixture(t)); err != nil {
		t.Fatal(err)
	}
	// A second refresh of v1.25.0 has one changed note and one outside any scope.
	u := Update{
		Source:     "changelog-1.25",
		At:         date("2026-03-02T10:00:00Z"),
		NoteScopes: []NoteScope{{"kubernetes", "v1.25.0"}},
		Notes: []tracker.Note{
			{Component: "kubernetes", Version: "v1.25.0", FirstSeen: "v1.25.0", Kinds: []tracker.Kind{tracker.KindFeature}, PR: 3999, Text: "Sprockets resize live (reworded)."},
			{Component: "kubernetes", Version: "v1.25.10", FirstSeen: "v1.25.10", Kinds: []tracker.Kind{tracker.KindBug}, PR: 5000, Text: "Patch fix."},
		},
	}
	if err := s.Apply(ctxBG, u); err != nil {
		t.Fatal(err)
	}
	got, err := s.Notes(ctxBG, NoteFilter{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"v1.25.10#5000", "v1.25.1#0", "v1.25.1#4301", "v1.25.0#3999", "v1.24.9#4302"}
	if ids := noteIDs(got); !slices.Equal(ids, want) {
		t.Fatalf("got %v\nwant %v", ids, want)
	}
	if got[3].Text != "Sprockets resize live (reworded)." {
		t.Errorf("sync did not overwrite text: %q", got[3].Text)
	}
}

func TestApplyRejectsInvalidUpdate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Update)
		want   []string
	}{
		{"no source", func(u *Update) { u.Source = "" }, []string{"empty source"}},
		{"no time", func(u *Update) { u.At = time.Time{} }, []string{"zero time"}},
		{"bad release version", func(u *Update) { u.Releases[1].Version = "1.25" }, []string{"release 1", `"1.25"`}},
		{"bad note kind", func(u *Update) { u.Notes[2].Kinds = []tracker.Kind{"bugz"} }, []string{"note 2", `unknown kind "bugz"`}},
		{"bad first_seen", func(u *Update) { u.Notes[0].FirstSeen = "rc1" }, []string{"note 0", "first_seen"}},
		{"bad scope", func(u *Update) { u.NoteScopes[0].Component = "" }, []string{"note scope 0"}},
		{"cve id", func(u *Update) { u.CVEs[1].ID = " " }, []string{"cve 1: empty id"}},
		{"window", func(u *Update) { u.SupportWindows[0].Minor = "latest" }, []string{"support window 0"}},
		{"validator", func(u *Update) { u.Validators[0].URL = "" }, []string{"validator 0"}},
		{"several at once", func(u *Update) { u.Releases[0].Component = ""; u.Notes[1].PR = -1 },
			[]string{"release 0", "empty component", "note 1", "negative PR"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTemp(t, Options{})
			u := fixture(t)
			tt.mutate(&u)
			err := s.Apply(ctxBG, u)
			if err == nil {
				t.Fatal("Apply accepted an invalid update")
			}
			for _, w := range append(tt.want, "data: apply source") {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if empty, _ := s.Empty(ctxBG); !empty {
				t.Error("invalid update partly written")
			}
		})
	}
}

// TestApplyAllOrNothing makes the database refuse one CVE late in the
// transaction and checks that nothing of the update landed.
func TestApplyAllOrNothing(t *testing.T) {
	s := openTemp(t, Options{})
	if _, err := s.w.ExecContext(ctxBG, `CREATE TRIGGER refuse BEFORE INSERT ON cves
WHEN NEW.id = 'CVE-2098-1001' BEGIN SELECT RAISE(ABORT, 'refused by test'); END`); err != nil {
		t.Fatal(err)
	}
	err := s.Apply(ctxBG, fixture(t))
	if err == nil || !strings.Contains(err.Error(), "refused by test") || !strings.Contains(err.Error(), "CVE-2098-1001") {
		t.Fatalf("Apply = %v, want the trigger's error naming the CVE", err)
	}
	if empty, _ := s.Empty(ctxBG); !empty {
		t.Error("failed Apply left data behind")
	}
	if src, _ := s.Sources(ctxBG); len(src) != 0 {
		t.Errorf("failed Apply recorded source state %+v", src)
	}
	if etag, _, _ := s.Validator(ctxBG, "https://example.test/releases"); etag != "" {
		t.Error("failed Apply saved a validator")
	}
}

func TestCVEsAndWindows(t *testing.T) {
	s := openTemp(t, Options{})
	u := fixture(t)
	if err := s.Apply(ctxBG, u); err != nil {
		t.Fatal(err)
	}
	cves, err := s.CVEs(ctxBG)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range cves {
		ids = append(ids, c.ID)
	}
	if want := []string{"CVE-2098-1001", "CVE-2099-999", "CVE-2099-25000"}; !slices.Equal(ids, want) {
		t.Errorf("CVE order %v, want %v", ids, want)
	}
	for _, w := range u.CVEs {
		i := slices.IndexFunc(cves, func(c tracker.CVE) bool { return c.ID == w.ID })
		if !jsonEq(t, cves[i], normCVE(w)) {
			t.Errorf("cve round trip:\n got %s\nwant %s", mustJSON(t, cves[i]), mustJSON(t, normCVE(w)))
		}
	}
	// Upsert by id replaces the record.
	changed := u.CVEs[2]
	changed.Summary = "Old one, revised"
	if err := s.Apply(ctxBG, Update{Source: "osv", At: date("2026-03-03T00:00:00Z"), CVEs: []tracker.CVE{changed}}); err != nil {
		t.Fatal(err)
	}
	if cves, _ = s.CVEs(ctxBG); len(cves) != 3 || cves[0].Summary != "Old one, revised" {
		t.Errorf("after upsert: %+v", cves)
	}

	ws, err := s.SupportWindows(ctxBG)
	if err != nil {
		t.Fatal(err)
	}
	var minors []string
	for _, w := range ws {
		minors = append(minors, w.Minor)
		i := slices.IndexFunc(u.SupportWindows, func(x tracker.SupportWindow) bool { return x.Minor == w.Minor })
		if w != normWindow(u.SupportWindows[i]) {
			t.Errorf("window %s: got %+v want %+v", w.Minor, w, u.SupportWindows[i])
		}
	}
	if want := []string{"1.24", "1.25", "1.26"}; !slices.Equal(minors, want) {
		t.Errorf("window order %v, want %v", minors, want)
	}
}

func TestValidatorsAndSources(t *testing.T) {
	s := openTemp(t, Options{})
	u := fixture(t)
	if err := s.Apply(ctxBG, u); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ url, etag, lm string }{
		{"https://example.test/CHANGELOG-1.25.md", `"abc123"`, "Tue, 23 Aug 2022 10:00:00 GMT"},
		{"https://example.test/releases", `W/"r1"`, ""},
		{"https://example.test/unknown", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			etag, lm, err := s.Validator(ctxBG, tt.url)
			if err != nil || etag != tt.etag || lm != tt.lm {
				t.Errorf("Validator = %q, %q, %v; want %q, %q", etag, lm, err, tt.etag, tt.lm)
			}
		})
	}

	t1 := date("2026-03-01T11:00:00Z")
	if err := s.RecordFailure(ctxBG, "fixture", t1, errors.New("GET https://example.test/releases: 503")); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordFailure(ctxBG, "osv", t1, nil); err != nil {
		t.Fatal(err)
	}
	got, err := s.Sources(ctxBG)
	if err != nil {
		t.Fatal(err)
	}
	want := []SourceState{
		{Source: "fixture", LastAttempt: t1, LastSuccess: u.At, LastError: "GET https://example.test/releases: 503"},
		{Source: "osv", LastAttempt: t1, LastError: "unknown error"},
	}
	if !jsonEq(t, got, want) {
		t.Errorf("Sources:\n got %+v\nwant %+v", got, want)
	}
	// The failure left the data alone, and a later success clears the error.
	if n, _ := s.Notes(ctxBG, NoteFilter{}); len(n) != len(u.Notes) {
		t.Errorf("RecordFailure touched notes: %d", len(n))
	}
	u.At = date("2026-03-01T12:00:00Z")
	if err := s.Apply(ctxBG, u); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Sources(ctxBG)
	if got[0].LastError != "" || !got[0].LastSuccess.Equal(u.At) || !got[0].LastAttempt.Equal(u.At) {
		t.Errorf("after success: %+v", got[0])
	}
	if err := s.RecordFailure(ctxBG, "", t1, errors.New("x")); err == nil {
		t.Error("RecordFailure accepted an empty source")
	}
}

func TestClusters(t *testing.T) {
	s := openTemp(t, Options{})
	t0 := date("2026-03-01T10:00:00Z")
	good := tracker.Cluster{
		Name: "prod-eu", Source: "kubeconfig:prod-eu", Distribution: "eks", Version: "v1.24.3-eks-a1",
		ControlPlaneVersions: []string{"v1.24.3-eks-a1", "v1.24.2-eks-a1"},
		Nodes:                []tracker.Node{{Name: "n1", KubeletVersion: "v1.23.9-eks-b2", Pool: "general"}},
		Labels:               map[string]string{"env": "prod"}, ObservedAt: t0,
	}
	newer := good
	newer.Version, newer.ObservedAt = "v1.24.4-eks-a1", t0.Add(time.Hour)
	failed := tracker.Cluster{Name: "prod-eu", Source: "kubeconfig:prod-eu", ObservedAt: t0.Add(2 * time.Hour), Error: "dial tcp: connection refused"}
	neverOK := tracker.Cluster{Name: "lab", Source: "inventory:clusters.yaml", ObservedAt: t0, Error: "no such context"}
	dev := tracker.Cluster{Name: "dev", Version: "v1.27.4+k3s1", Distribution: "k3s", ObservedAt: t0}

	steps := []struct {
		name   string
		record []tracker.Cluster
		want   []tracker.Cluster
	}{
		{"first", []tracker.Cluster{good, dev}, []tracker.Cluster{dev, good}},
		{"newer observation wins", []tracker.Cluster{newer}, []tracker.Cluster{dev, newer}},
		{"older observation recorded late does not win", []tracker.Cluster{good}, []tracker.Cluster{dev, newer}},
		{"failure keeps last good fields", []tracker.Cluster{failed, neverOK}, []tracker.Cluster{dev, withErr(newer, failed.Error), neverOK}},
		{"recovery", []tracker.Cluster{{Name: "prod-eu", Version: "v1.25.0", ObservedAt: t0.Add(3 * time.Hour)}},
			[]tracker.Cluster{dev, neverOK, {Name: "prod-eu", Version: "v1.25.0", ObservedAt: t0.Add(3 * time.Hour)}}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if err := s.RecordClusters(ctxBG, st.record); err != nil {
				t.Fatal(err)
			}
			got, err := s.Clusters(ctxBG)
			if err != nil {
				t.Fatal(err)
			}
			slices.SortFunc(st.want, func(a, b tracker.Cluster) int { return strings.Compare(a.Name, b.Name) })
			if !jsonEq(t, got, st.want) {
				t.Errorf("Clusters:\n got %s\nwant %s", mustJSON(t, got), mustJSON(t, st.want))
			}
		})
	}
	bad := []tracker.Cluster{{Name: "", ObservedAt: t0}, {Name: "x"}}
	err := s.RecordClusters(ctxBG, bad)
	if err == nil || !strings.Contains(err.Error(), "cluster 0: empty name") || !strings.Contains(err.Error(), "cluster 1 (x): zero observed_at") {
		t.Errorf("RecordClusters(bad) = %v", err)
	}
}

func withErr(c tracker.Cluster, msg string) tracker.Cluster {
	c.Error = msg
	return c
}

func TestMetaAndEmpty(t *testing.T) {
	s := openTemp(t, Options{})
	steps := []struct {
		key, value string
	}{
		{"snapshot.built_at", "2026-01-01T00:00:00Z"},
		{"snapshot.built_at", "2026-02-01T00:00:00Z"},
		{"other", ""},
	}
	for _, st := range steps {
		if err := s.SetMeta(ctxBG, st.key, st.value); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Meta(ctxBG, st.key); err != nil || got != st.value {
			t.Errorf("Meta(%q) = %q, %v; want %q", st.key, got, err, st.value)
		}
	}
	if got, err := s.Meta(ctxBG, "absent"); err != nil || got != "" {
		t.Errorf("Meta(absent) = %q, %v", got, err)
	}
	if err := s.SetMeta(ctxBG, "", "x"); err == nil {
		t.Error("SetMeta accepted an empty key")
	}
	// Meta and sources alone do not make a store non-empty; any fact does.
	for _, u := range []Update{
		{Source: "a", At: time.Now(), Releases: fixture(t).Releases[:1]},
		{Source: "a", At: time.Now(), Notes: fixture(t).Notes[:1]},
		{Source: "a", At: time.Now(), CVEs: fixture(t).CVEs[:1]},
		{Source: "a", At: time.Now(), SupportWindows: fixture(t).SupportWindows[:1]},
	} {
		s := openTemp(t, Options{})
		if empty, _ := s.Empty(ctxBG); !empty {
			t.Fatal("new store not empty")
		}
		if err := s.Apply(ctxBG, u); err != nil {
			t.Fatal(err)
		}
		if empty, err := s.Empty(ctxBG); err != nil || empty {
			t.Errorf("Empty after %+v = %v, %v", u, empty, err)
		}
	}
}

// TestErrorsNameOperation checks that failures say what was being done.
func TestErrorsNameOperation(t *testing.T) {
	s := openTemp(t, Options{})
	s.Close()
	calls := []struct {
		op   string
		call func() error
	}{
		{"data: apply source \"fixture\"", func() error { return s.Apply(ctxBG, fixture(t)) }},
		{"data: record failure of source \"x\"", func() error { return s.RecordFailure(ctxBG, "x", time.Now(), errors.New("e")) }},
		{"data: list releases", func() error { _, err := s.Releases(ctxBG, ReleaseFilter{}); return err }},
		{"data: list notes", func() error { _, err := s.Notes(ctxBG, NoteFilter{}); return err }},
		{"data: list cves", func() error { _, err := s.CVEs(ctxBG); return err }},
		{"data: list support windows", func() error { _, err := s.SupportWindows(ctxBG); return err }},
		{"data: read validator for https://x", func() error { _, _, err := s.Validator(ctxBG, "https://x"); return err }},
		{"data: list sources", func() error { _, err := s.Sources(ctxBG); return err }},
		{"data: record clusters", func() error {
			return s.RecordClusters(ctxBG, []tracker.Cluster{{Name: "a", ObservedAt: time.Now()}})
		}},
		{"data: list clusters", func() error { _, err := s.Clusters(ctxBG); return err }},
		{"data: read meta \"k\"", func() error { _, err := s.Meta(ctxBG, "k"); return err }},
		{"data: set meta \"k\"", func() error { return s.SetMeta(ctxBG, "k", "v") }},
		{"data: check whether", func() error { _, err := s.Empty(ctxBG); return err }},
		{"data: export", func() error { return s.Export(ctxBG, &strings.Builder{}, ExportOptions{}) }},
		{"data: import", func() error { _, err := s.Import(ctxBG, strings.NewReader("{}")); return err }},
	}
	for _, c := range calls {
		t.Run(c.op, func(t *testing.T) {
			err := c.call()
			if err == nil || !strings.HasPrefix(err.Error(), c.op) {
				t.Errorf("error = %v, want prefix %q", err, c.op)
			}
		})
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://api.github.com/repos/kubernetes/kubernetes/releases", "https://api.github.com/repos/kubernetes/kubernetes/releases"},
		{"https://user:s3cret@example.test/feed.json?token=abc#frag", "https://example.test/feed.json?REDACTED"},
		{"://bad", "<unparseable URL>"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := redactURL(tt.in); got != tt.want {
				t.Errorf("redactURL(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestOpenFromEmptyFile(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, path string)
	}{
		{"missing", func(*testing.T, string) {}},
		{"zero bytes", func(t *testing.T, path string) {
			if err := os.WriteFile(path, nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "k.db")
			tt.prepare(t, path)
			s, err := Open(ctxBG, path, Options{})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer s.Close()
			if v, err := schemaVersion(ctxBG, s.r); err != nil || v != SchemaVersion() {
				t.Errorf("schema %d, %v; want %d", v, err, SchemaVersion())
			}
			if err := s.Apply(ctxBG, fixture(t)); err != nil {
				t.Errorf("Apply on new store: %v", err)
			}
		})
	}
}

func TestApplyKeepsKnownReleaseFacts(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, filepath.Join(t.TempDir(), "kd.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	day := time.Date(2023, 6, 14, 0, 0, 0, 0, time.UTC)
	if err := st.Apply(ctx, Update{Source: "github", At: day, Releases: []tracker.Release{{Component: "kubernetes", Version: "v1.27.3", Date: day, URL: "https://github.com/kubernetes/kubernetes/releases/tag/v1.27.3"}}}); err != nil {
		t.Fatal(err)
	}
	// A changelog knows the version only: it must not erase the date or URL.
	if err := st.Apply(ctx, Update{Source: "changelog", At: day, Releases: []tracker.Release{{Component: "kubernetes", Version: "v1.27.3"}}}); err != nil {
		t.Fatal(err)
	}
	rs, err := st.Releases(ctx, ReleaseFilter{Component: "kubernetes"})
	if err != nil || len(rs) != 1 {
		t.Fatalf("releases %v, %v", rs, err)
	}
	if !rs[0].Date.Equal(day) || rs[0].URL == "" {
		t.Errorf("release lost facts: %+v", rs[0])
	}
}

func TestRecordClustersKeepsOnlyWhatIsRead(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, filepath.Join(t.TempDir(), "kd.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for i, c := range []tracker.Cluster{
		{Name: "a", Version: "v1.27.1", ObservedAt: t0},
		{Name: "a", Version: "v1.27.2", ObservedAt: t0.Add(time.Hour)},
		{Name: "a", Error: "timed out", ObservedAt: t0.Add(2 * time.Hour)},
		{Name: "a", Error: "timed out again", ObservedAt: t0.Add(3 * time.Hour)},
	} {
		if err := st.RecordClusters(ctx, []tracker.Cluster{c}); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
	}
	var rows int
	if err := st.r.QueryRowContext(ctx, `SELECT count(*) FROM cluster_observations`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 2 {
		t.Errorf("%d observations kept, want 2 (the latest and the latest good)", rows)
	}
	cs, err := st.Clusters(ctx)
	if err != nil || len(cs) != 1 || cs[0].Version != "v1.27.2" || cs[0].Error != "timed out again" {
		t.Errorf("clusters %+v, %v; want the last good version with the latest error", cs, err)
	}
}
