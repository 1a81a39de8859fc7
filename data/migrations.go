package data

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations are forward-only: migrations[i] takes the schema from version i
// to i+1. The version lives in PRAGMA user_version, which SQLite keeps in the
// file header and changes inside the same transaction as the DDL, so a crash
// never leaves a half-applied migration recorded as done. Never edit a
// released migration; append a new one.
var migrations = []string{
	// v1: upstream facts, feed bookkeeping, metadata. Times are TEXT in a
	// fixed-width UTC format (see fmtTime) so that they sort as strings; ""
	// is the zero time. List-valued fields are JSON columns: they are always
	// read and written whole with their row.
	`
CREATE TABLE releases (
	component  TEXT NOT NULL,
	version    TEXT NOT NULL,
	minor      TEXT NOT NULL,
	date       TEXT NOT NULL DEFAULT '',
	prerelease INTEGER NOT NULL DEFAULT 0,
	url        TEXT NOT NULL DEFAULT '',
	source     TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (component, version)
);
CREATE INDEX releases_minor ON releases (component, minor);

CREATE TABLE notes (
	component       TEXT NOT NULL,
	version         TEXT NOT NULL,
	note_key        TEXT NOT NULL,
	minor           TEXT NOT NULL,
	first_seen      TEXT NOT NULL DEFAULT '',
	kinds           TEXT NOT NULL DEFAULT '[]',
	action_required INTEGER NOT NULL DEFAULT 0,
	cves            TEXT NOT NULL DEFAULT '[]',
	pr              INTEGER NOT NULL DEFAULT 0,
	sigs            TEXT NOT NULL DEFAULT '[]',
	text            TEXT NOT NULL DEFAULT '',
	url             TEXT NOT NULL DEFAULT '',
	security        TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (component, version, note_key)
);
CREATE INDEX notes_minor ON notes (component, minor);

CREATE TABLE cves (
	id        TEXT PRIMARY KEY,
	summary   TEXT NOT NULL DEFAULT '',
	url       TEXT NOT NULL DEFAULT '',
	published TEXT NOT NULL DEFAULT '',
	modified  TEXT NOT NULL DEFAULT '',
	cvss      TEXT NOT NULL DEFAULT '',
	details   TEXT NOT NULL DEFAULT '',
	affected  TEXT NOT NULL DEFAULT '[]',
	sources   TEXT NOT NULL DEFAULT '[]'
);

CREATE TABLE support_windows (
	minor             TEXT PRIMARY KEY,
	released          TEXT NOT NULL DEFAULT '',
	maintenance_start TEXT NOT NULL DEFAULT '',
	end_of_life       TEXT NOT NULL DEFAULT ''
);

CREATE TABLE validators (
	url           TEXT PRIMARY KEY,
	etag          TEXT NOT NULL DEFAULT '',
	last_modified TEXT NOT NULL DEFAULT '',
	source        TEXT NOT NULL DEFAULT '',
	updated_at    TEXT NOT NULL DEFAULT ''
);

CREATE TABLE sources (
	source       TEXT PRIMARY KEY,
	last_attempt TEXT NOT NULL DEFAULT '',
	last_success TEXT NOT NULL DEFAULT '',
	last_error   TEXT NOT NULL DEFAULT ''
);

CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
`,
	// v2: cluster observations, one row each, so a failed read can fall back
	// to the last good one and history stays inspectable.
	`
CREATE TABLE cluster_observations (
	id                     INTEGER PRIMARY KEY AUTOINCREMENT,
	name                   TEXT NOT NULL,
	observed_at            TEXT NOT NULL,
	source                 TEXT NOT NULL DEFAULT '',
	distribution           TEXT NOT NULL DEFAULT '',
	version                TEXT NOT NULL DEFAULT '',
	control_plane_versions TEXT NOT NULL DEFAULT '[]',
	nodes                  TEXT NOT NULL DEFAULT '[]',
	labels                 TEXT NOT NULL DEFAULT '{}',
	error                  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX cluster_observations_latest ON cluster_observations (name, observed_at, id);
`,
	// v3: the notifier's outbox. An advisory is stored once under its stable
	// id; key_hash is the hash of what would be sent, so a changed advisory is
	// delivered again. One delivery row per (advisory, channel) tracks retries.
	`
CREATE TABLE advisories (
	id          TEXT PRIMARY KEY,
	kind        TEXT NOT NULL,
	cluster     TEXT NOT NULL DEFAULT '',
	key_hash    TEXT NOT NULL,
	payload     TEXT NOT NULL DEFAULT '{}',
	first_seen  TEXT NOT NULL,
	last_seen   TEXT NOT NULL,
	resolved_at TEXT NOT NULL DEFAULT ''
);
CREATE INDEX advisories_cluster ON advisories (cluster, kind);

CREATE TABLE deliveries (
	advisory_id     TEXT NOT NULL REFERENCES advisories (id) ON DELETE CASCADE,
	channel         TEXT NOT NULL,
	key_hash        TEXT NOT NULL,
	state           TEXT NOT NULL DEFAULT 'pending'
	                CHECK (state IN ('pending', 'sent', 'failed', 'abandoned')),
	attempts        INTEGER NOT NULL DEFAULT 0,
	last_error      TEXT NOT NULL DEFAULT '',
	created_at      TEXT NOT NULL,
	updated_at      TEXT NOT NULL,
	next_attempt_at TEXT NOT NULL DEFAULT '',
	sent_at         TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (advisory_id, channel)
);
CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at);
CREATE INDEX deliveries_channel ON deliveries (channel, state);
`,
	// v4: batch deliveries. A channel receives one message per cycle holding
	// many advisories, which v3's per-(advisory, channel) rows cannot
	// represent, nor keep the exact payload to re-send after a crash. An
	// outbox row is one batch for one channel, written before it is sent;
	// outbox_items lists the advisory fingerprints it carries; delivered keeps
	// the last fingerprint each channel accepted per advisory, for dedup. At
	// most one pending row per (channel, batch_id), so enqueueing the same
	// batch twice is harmless; delivered and failed rows stay as history.
	`
CREATE TABLE outbox (
	id              INTEGER PRIMARY KEY AUTOINCREMENT,
	channel         TEXT NOT NULL,
	batch_id        TEXT NOT NULL,
	payload         TEXT NOT NULL,
	state           TEXT NOT NULL DEFAULT 'pending'
	                CHECK (state IN ('pending', 'delivered', 'failed')),
	attempts        INTEGER NOT NULL DEFAULT 0,
	last_error      TEXT NOT NULL DEFAULT '',
	created_at      TEXT NOT NULL,
	updated_at      TEXT NOT NULL,
	next_attempt_at TEXT NOT NULL DEFAULT '',
	delivered_at    TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX outbox_pending_batch ON outbox (channel, batch_id) WHERE state = 'pending';
CREATE INDEX outbox_due ON outbox (state, next_attempt_at, id);
CREATE INDEX outbox_updated ON outbox (updated_at);

CREATE TABLE outbox_items (
	delivery_id INTEGER NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
	advisory_id TEXT NOT NULL,
	fingerprint TEXT NOT NULL,
	PRIMARY KEY (delivery_id, advisory_id)
);

CREATE TABLE delivered (
	channel      TEXT NOT NULL,
	advisory_id  TEXT NOT NULL,
	fingerprint  TEXT NOT NULL,
	delivered_at TEXT NOT NULL,
	delivery_id  INTEGER NOT NULL,
	PRIMARY KEY (channel, advisory_id)
);
`,
}

// latestSchema is the schema version this build creates and understands.
var latestSchema = len(migrations)

// SchemaVersion returns the store schema version this build creates and
// understands (for version output and diagnostics).
func SchemaVersion() int { return latestSchema }

// schemaVersion reads PRAGMA user_version.
func schemaVersion(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (int, error) {
	var v int
	if err := q.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return 0, err
	}
	return v, nil
}

// migrateTo applies migrations up to version target, each in its own
// transaction. It re-reads the version inside the transaction, so two
// processes opening the same file at once do not apply a step twice (the
// writer pool begins IMMEDIATE transactions, which take the write lock first).
// Tests call it with a target below latestSchema to build older files.
func migrateTo(ctx context.Context, db *sql.DB, path string, target int) error {
	for {
		done, err := migrateStep(ctx, db, path, target)
		if err != nil || done {
			return err
		}
	}
}

func migrateStep(ctx context.Context, db *sql.DB, path string, target int) (done bool, err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("data: migrate %s: begin: %w", path, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	v, err := schemaVersion(ctx, tx)
	if err != nil {
		return false, fmt.Errorf("data: migrate %s: read schema version: %w", path, err)
	}
	if v > len(migrations) {
		return false, fmt.Errorf("data: open %s: schema version %d, this kubedrift knows up to %d: %w",
			path, v, len(migrations), ErrSchemaTooNew)
	}
	if v >= target {
		return true, nil
	}
	if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
		return false, fmt.Errorf("data: migrate %s to schema %d: %w", path, v+1, err)
	}
	// PRAGMA takes no bound parameters; v+1 is our own integer.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v+1)); err != nil {
		return false, fmt.Errorf("data: migrate %s to schema %d: record version: %w", path, v+1, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("data: migrate %s to schema %d: commit: %w", path, v+1, err)
	}
	return false, nil
}
