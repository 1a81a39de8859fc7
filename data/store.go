package data

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/kubedrift/kubedrift/tracker"
)

// Store is kubedrift's persistence. Implementations are safe for concurrent use.
type Store interface {
	// Apply writes one source's refresh in ONE transaction: releases upserted by
	// (component, version); for every (component, version) in u.NoteScopes all
	// existing notes are replaced by the u.Notes with that (component, version);
	// CVEs upserted by id; support windows upserted by minor; validators saved;
	// the source's state (last success = u.At) recorded. Either all of it lands
	// or none.
	Apply(ctx context.Context, u Update) error
	// RecordFailure records a failed refresh of a source (time, error text)
	// without touching its data.
	RecordFailure(ctx context.Context, source string, at time.Time, err error) error
	// Releases lists releases sorted by version, newest first.
	Releases(ctx context.Context, f ReleaseFilter) ([]tracker.Release, error)
	// Notes lists notes sorted by version (newest first), then PR.
	Notes(ctx context.Context, f NoteFilter) ([]tracker.Note, error)
	// CVEs lists every CVE sorted by id.
	CVEs(ctx context.Context) ([]tracker.CVE, error)
	// SupportWindows lists every minor's window, oldest minor first.
	SupportWindows(ctx context.Context) ([]tracker.SupportWindow, error)
	// Validator returns the stored HTTP validators for a URL ("" when none).
	Validator(ctx context.Context, url string) (etag, lastModified string, err error)
	// Sources lists the refresh state of every source, sorted by name.
	Sources(ctx context.Context) ([]SourceState, error)
	// RecordClusters stores one row per observation (ObservedAt set by caller).
	RecordClusters(ctx context.Context, cs []tracker.Cluster) error
	// Clusters returns the latest observation per name, sorted by name. A failed
	// observation (Error set) keeps the previous good fields and carries the error.
	Clusters(ctx context.Context) ([]tracker.Cluster, error)
	// Meta returns a small key/value ("" when absent).
	Meta(ctx context.Context, key string) (string, error)
	SetMeta(ctx context.Context, key, value string) error
	// Empty reports whether the store holds no releases, notes, CVEs nor windows.
	Empty(ctx context.Context) (bool, error)
	// Export writes a bundle of the upstream facts (see bundle.go).
	Export(ctx context.Context, w io.Writer, opt ExportOptions) error
	// Import verifies a bundle completely, then upserts its content in one
	// transaction. It never deletes.
	Import(ctx context.Context, r io.Reader) (ImportSummary, error)
	Close() error
}

// Update is one source's refresh, applied atomically by Store.Apply.
type Update struct {
	Source   string
	At       time.Time
	Releases []tracker.Release
	// NoteScopes lists the (component, version) pairs whose notes are replaced
	// by the Notes of the same pair. Notes outside every scope are upserted.
	NoteScopes     []NoteScope
	Notes          []tracker.Note
	CVEs           []tracker.CVE
	SupportWindows []tracker.SupportWindow
	Validators     []Validator
}

// NoteScope names the notes of one release.
type NoteScope struct{ Component, Version string }

// Validator holds the HTTP cache validators last seen for a URL.
type Validator struct{ URL, ETag, LastModified string }

// ReleaseFilter selects releases. Zero fields select everything except
// pre-releases.
type ReleaseFilter struct {
	Component          string // "" = every component
	Minor              string // "1.25" or ""
	IncludePrereleases bool
}

// NoteFilter selects notes. Zero fields select everything.
type NoteFilter struct {
	Component string   // "" = every component
	Versions  []string // exact versions ("v1.25.0" and "1.25.0" match alike); nil = all
	Minor     string   // "1.25" or ""
}

// SourceState is the refresh state of one source.
type SourceState struct {
	Source      string
	LastAttempt time.Time
	LastSuccess time.Time
	LastError   string
}

// ExportOptions tunes Export.
type ExportOptions struct {
	// FactsOnly drops upstream prose (note Text, security titles, CVE Summary
	// and Details); used for the committed snapshot.
	FactsOnly bool
	// BuiltAt is recorded in the bundle; zero means now. Export output is
	// byte-identical for the same content and BuiltAt.
	BuiltAt time.Time
	// Compress writes gzip (for transfers); otherwise indented JSON (so a
	// committed snapshot diffs cleanly). Import accepts both.
	Compress bool
}

// ImportSummary counts what an Import wrote.
type ImportSummary struct {
	Releases, Notes, CVEs, SupportWindows int
	BuiltAt                               time.Time
}

// Options tunes Open.
type Options struct {
	// Seed is a bundle (same format as Export) imported when the store is
	// empty on open and was never seeded. The binary passes its embedded
	// snapshot; data holds no global copy.
	Seed []byte
	// ReadOnly opens an existing, up-to-date store for reading only: no
	// migration, no seeding, and every write method fails with ErrReadOnly.
	ReadOnly bool
}

var (
	// ErrSchemaTooNew is returned (wrapped, naming the path and both versions)
	// when the file's schema is newer than this binary knows.
	ErrSchemaTooNew = errors.New("store schema is newer than this kubedrift supports; upgrade kubedrift")
	// ErrReadOnly is returned by write methods of a store opened ReadOnly.
	ErrReadOnly = errors.New("store is opened read-only")
	// ErrBadBundle is wrapped by Import when a bundle is not a complete,
	// intact kubedrift bundle of a supported version.
	ErrBadBundle = errors.New("bad bundle")
)

// Meta keys written by the store itself.
const (
	MetaSnapshotBuiltAt  = "snapshot.built_at"
	MetaBundleImportedAt = "bundle.imported_at"
	MetaSeedImportedAt   = "seed.imported_at"
)

// DefaultPath returns $XDG_STATE_HOME/kubedrift/kubedrift.db, else
// ~/.local/state/kubedrift/kubedrift.db.
func DefaultPath() (string, error) {
	// XDG says relative values are invalid and must be ignored.
	if d := os.Getenv("XDG_STATE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "kubedrift", "kubedrift.db"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("data: default store path: %w", err)
	}
	return filepath.Join(home, ".local", "state", "kubedrift", "kubedrift.db"), nil
}

var _ Store = (*SQLite)(nil)
