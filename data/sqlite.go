package data

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"time"

	// Registers the pure-Go "sqlite" driver.
	_ "modernc.org/sqlite"
)

// SQLite is the embedded Store: one SQLite file in WAL mode.
//
// It holds two pools on the same file. Writes go through w, limited to one
// connection: SQLite admits a single writer anyway, and funnelling every write
// transaction through one connection makes writers queue in Go instead of
// spinning on SQLITE_BUSY. Its transactions begin IMMEDIATE so that the write
// lock is taken up front and another process's writer waits (busy_timeout)
// rather than failing on a lock upgrade. Reads go through r, several
// query-only connections that WAL lets run alongside the writer, each seeing
// the last committed state.
type SQLite struct {
	path     string
	w        *sql.DB // nil when read-only
	r        *sql.DB
	readOnly bool
	// now is the clock for bookkeeping timestamps; tests replace it.
	now func() time.Time
}

// sqliteMagic opens every SQLite 3 database file.
var sqliteMagic = []byte("SQLite format 3\x00")

// Open opens (creating when missing, with a 0700 parent directory) the store
// at path, applies pending schema migrations, and imports opt.Seed when the
// store is empty and was never seeded.
func Open(ctx context.Context, path string, opt Options) (*SQLite, error) {
	s, err := open(ctx, path, opt.ReadOnly)
	if err != nil {
		return nil, err
	}
	if !opt.ReadOnly {
		if err := migrateTo(ctx, s.w, s.path, latestSchema); err != nil {
			s.Close()
			return nil, err
		}
		if err := s.seed(ctx, opt.Seed); err != nil {
			s.Close()
			return nil, err
		}
		return s, nil
	}
	v, err := schemaVersion(ctx, s.r)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("data: open %s: read schema version: %w", s.path, err)
	}
	switch {
	case v > latestSchema:
		s.Close()
		return nil, fmt.Errorf("data: open %s: schema version %d, this kubedrift knows up to %d: %w",
			s.path, v, latestSchema, ErrSchemaTooNew)
	case v < latestSchema:
		s.Close()
		return nil, fmt.Errorf("data: open %s read-only: schema version %d needs migrating to %d; open it once read-write",
			s.path, v, latestSchema)
	}
	return s, nil
}

// open connects both pools without migrating.
func open(ctx context.Context, path string, readOnly bool) (*SQLite, error) {
	if path == "" {
		return nil, errors.New("data: open: empty store path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("data: open %s: %w", path, err)
	}
	if err := checkFile(abs, readOnly); err != nil {
		return nil, err
	}
	s := &SQLite{path: abs, readOnly: readOnly, now: time.Now}
	// Percent-encode the path: the driver hands "file:" names to SQLite as URIs.
	base := "file:" + (&url.URL{Path: filepath.ToSlash(abs)}).EscapedPath() +
		"?_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)"
	if !readOnly {
		// synchronous=NORMAL in WAL mode keeps every commit atomic and durable
		// across a process crash; only an OS crash may lose the last commits.
		w, err := sql.Open("sqlite", base+"&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate")
		if err != nil {
			return nil, fmt.Errorf("data: open %s: %w", abs, err)
		}
		w.SetMaxOpenConns(1)
		w.SetConnMaxIdleTime(0)
		s.w = w
		// Connect now so that WAL mode is set before readers attach, and a bad
		// file fails here, naming the path.
		if err := pingRead(ctx, w); err != nil {
			s.Close()
			return nil, fmt.Errorf("data: open %s: %w", abs, err)
		}
	}
	rdsn := base + "&_pragma=query_only(1)"
	if readOnly {
		rdsn += "&mode=ro"
	}
	r, err := sql.Open("sqlite", rdsn)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("data: open %s: %w", abs, err)
	}
	r.SetMaxOpenConns(max(4, runtime.GOMAXPROCS(0)))
	r.SetMaxIdleConns(max(4, runtime.GOMAXPROCS(0)))
	s.r = r
	if err := pingRead(ctx, r); err != nil {
		s.Close()
		return nil, fmt.Errorf("data: open %s: %w", abs, err)
	}
	return s, nil
}

// pingRead forces a connection and reads the header, which is where SQLite
// notices a file that is not a database.
func pingRead(ctx context.Context, db *sql.DB) error {
	_, err := schemaVersion(ctx, db)
	return err
}

// checkFile refuses a file that is not SQLite before the driver gets a chance
// to produce a less helpful message, and creates the parent directory.
func checkFile(path string, readOnly bool) error {
	f, err := os.Open(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if readOnly {
			return fmt.Errorf("data: open %s read-only: %w", path, err)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return fmt.Errorf("data: open %s: create directory: %w", path, err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("data: open %s: %w", path, err)
	}
	defer f.Close()
	head := make([]byte, len(sqliteMagic))
	n, err := io.ReadFull(f, head)
	switch {
	case n == 0 && errors.Is(err, io.EOF):
		return nil // an empty file is a valid, empty database
	case err != nil && !errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("data: open %s: %w", path, err)
	case !bytes.Equal(head[:n], sqliteMagic):
		return fmt.Errorf("data: open %s: not a SQLite database (unexpected file header)", path)
	}
	return nil
}

// Path returns the absolute path of the store file.
func (s *SQLite) Path() string { return s.path }

// Close closes both pools.
func (s *SQLite) Close() error {
	var errs []error
	if s.r != nil {
		errs = append(errs, s.r.Close())
	}
	if s.w != nil {
		errs = append(errs, s.w.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("data: close %s: %w", s.path, err)
	}
	return nil
}

// write runs fn in one write transaction, committing when fn returns nil.
func (s *SQLite) write(ctx context.Context, op string, fn func(*sql.Tx) error) error {
	if s.readOnly {
		return fmt.Errorf("data: %s: %s: %w", op, s.path, ErrReadOnly)
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("data: %s: begin: %w", op, err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback() //nolint:errcheck // the fn error is what matters
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("data: %s: commit: %w", op, err)
	}
	return nil
}

// seed imports the seed bundle into a store that is empty and never seeded.
func (s *SQLite) seed(ctx context.Context, seed []byte) error {
	if len(seed) == 0 {
		return nil
	}
	done, err := s.Meta(ctx, MetaSeedImportedAt)
	if err != nil {
		return fmt.Errorf("data: open %s: seed: %w", s.path, err)
	}
	if done != "" {
		return nil
	}
	empty, err := s.Empty(ctx)
	if err != nil {
		return fmt.Errorf("data: open %s: seed: %w", s.path, err)
	}
	if !empty {
		return nil
	}
	b, err := readBundle(bytes.NewReader(seed))
	if err != nil {
		return fmt.Errorf("data: open %s: seed: %w", s.path, err)
	}
	if _, err := s.importBundle(ctx, b, MetaSeedImportedAt); err != nil {
		return fmt.Errorf("data: open %s: seed: %w", s.path, err)
	}
	return nil
}
