package data

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kubedrift/kubedrift/tracker"
)

const (
	upsertRelease = `INSERT INTO releases (component, version, minor, date, prerelease, url, source)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (component, version) DO UPDATE SET
	minor = excluded.minor, prerelease = excluded.prerelease, source = excluded.source,
	-- Sources know different facts of a release (GitHub its date, a changelog
	-- only its version): one that does not know a fact keeps the stored one.
	date = CASE WHEN excluded.date = '' THEN releases.date ELSE excluded.date END,
	url = CASE WHEN excluded.url = '' THEN releases.url ELSE excluded.url END`

	noteInsert = `INSERT INTO notes (component, version, note_key, minor, first_seen, kinds,
	action_required, cves, pr, sigs, text, url, security)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (component, version, note_key) DO UPDATE SET
	minor = excluded.minor, first_seen = excluded.first_seen, kinds = excluded.kinds,
	action_required = excluded.action_required, cves = excluded.cves, pr = excluded.pr,
	sigs = excluded.sigs, url = excluded.url, `
	// A sync owns its notes: it overwrites everything.
	upsertNote = noteInsert + `text = excluded.text, security = excluded.security`
	// A bundle may be facts-only: it must not erase prose a sync already stored.
	mergeNote = noteInsert + `
	text = CASE WHEN excluded.text = '' THEN notes.text ELSE excluded.text END,
	security = CASE
		WHEN excluded.security != '' AND notes.security != ''
			AND coalesce(json_extract(excluded.security, '$.title'), '') = ''
			AND coalesce(json_extract(notes.security, '$.title'), '') != ''
		THEN json_set(excluded.security, '$.title', json_extract(notes.security, '$.title'))
		ELSE excluded.security END`

	cveInsert = `INSERT INTO cves (id, summary, url, published, modified, cvss, details, affected, sources)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET
	url = excluded.url, published = excluded.published, modified = excluded.modified,
	cvss = excluded.cvss, affected = excluded.affected, sources = excluded.sources, `
	upsertCVE = cveInsert + `summary = excluded.summary, details = excluded.details`
	mergeCVE  = cveInsert + `
	summary = CASE WHEN excluded.summary = '' THEN cves.summary ELSE excluded.summary END,
	details = CASE WHEN excluded.details = '' THEN cves.details ELSE excluded.details END`

	upsertWindow = `INSERT INTO support_windows (minor, released, maintenance_start, end_of_life)
VALUES (?, ?, ?, ?)
ON CONFLICT (minor) DO UPDATE SET
	released = excluded.released, maintenance_start = excluded.maintenance_start,
	end_of_life = excluded.end_of_life`

	upsertValidator = `INSERT INTO validators (url, etag, last_modified, source, updated_at)
VALUES (?, ?, ?, ?, ?)
ON CONFLICT (url) DO UPDATE SET
	etag = excluded.etag, last_modified = excluded.last_modified,
	source = excluded.source, updated_at = excluded.updated_at`

	upsertMeta = `INSERT INTO meta (key, value) VALUES (?, ?)
ON CONFLICT (key) DO UPDATE SET value = excluded.value`
)

// Apply implements Store.
func (s *SQLite) Apply(ctx context.Context, u Update) error {
	op := fmt.Sprintf("apply source %q", u.Source)
	if err := validateUpdate(u); err != nil {
		return fmt.Errorf("data: %s: invalid update: %w", op, err)
	}
	return s.write(ctx, op, func(tx *sql.Tx) error {
		if err := writeReleases(ctx, tx, u.Releases, u.Source); err != nil {
			return fmt.Errorf("data: %s: %w", op, err)
		}
		del, err := tx.PrepareContext(ctx, `DELETE FROM notes WHERE component = ? AND version = ?`)
		if err != nil {
			return fmt.Errorf("data: %s: prepare note scope: %w", op, err)
		}
		defer del.Close()
		for _, sc := range u.NoteScopes {
			if _, err := del.ExecContext(ctx, sc.Component, sc.Version); err != nil {
				return fmt.Errorf("data: %s: clear notes of %s %s: %w", op, sc.Component, sc.Version, err)
			}
		}
		if err := writeNotes(ctx, tx, upsertNote, u.Notes, nil); err != nil {
			return fmt.Errorf("data: %s: %w", op, err)
		}
		if err := writeCVEs(ctx, tx, upsertCVE, u.CVEs); err != nil {
			return fmt.Errorf("data: %s: %w", op, err)
		}
		if err := writeWindows(ctx, tx, u.SupportWindows); err != nil {
			return fmt.Errorf("data: %s: %w", op, err)
		}
		if err := execEach(ctx, tx, upsertValidator, u.Validators, func(v Validator) ([]any, string) {
			return []any{v.URL, v.ETag, v.LastModified, u.Source, fmtTime(u.At)}, "validator for " + redactURL(v.URL)
		}); err != nil {
			return fmt.Errorf("data: %s: %w", op, err)
		}
		at := fmtTime(u.At)
		if _, err := tx.ExecContext(ctx, `INSERT INTO sources (source, last_attempt, last_success, last_error)
VALUES (?, ?, ?, '')
ON CONFLICT (source) DO UPDATE SET
	last_attempt = excluded.last_attempt, last_success = excluded.last_success, last_error = ''`,
			u.Source, at, at); err != nil {
			return fmt.Errorf("data: %s: record source state: %w", op, err)
		}
		return nil
	})
}

// execEach runs one prepared statement for every item; args returns the
// statement arguments and a description of the item for errors.
func execEach[T any](ctx context.Context, tx *sql.Tx, query string, items []T, args func(T) ([]any, string)) error {
	if len(items) == 0 {
		return nil
	}
	st, err := tx.PrepareContext(ctx, query)
	if err != nil {
		return fmt.Errorf("prepare: %w", err)
	}
	defer st.Close()
	for _, it := range items {
		a, what := args(it)
		if _, err := st.ExecContext(ctx, a...); err != nil {
			return fmt.Errorf("write %s: %w", what, err)
		}
	}
	return nil
}

func writeReleases(ctx context.Context, tx *sql.Tx, rs []tracker.Release, source string) error {
	return execEach(ctx, tx, upsertRelease, rs, func(r tracker.Release) ([]any, string) {
		return []any{r.Component, r.Version, minorOf(r.Version), fmtTime(r.Date), r.Prerelease, r.URL, source},
			"release " + r.Component + " " + r.Version
	})
}

// writeNotes writes notes with query (upsertNote or mergeNote). keys, when
// not nil, holds each note's key (a bundle carries them, because a facts-only
// note without PR has no text left to hash).
func writeNotes(ctx context.Context, tx *sql.Tx, query string, ns []tracker.Note, keys []string) error {
	if len(ns) == 0 {
		return nil
	}
	st, err := tx.PrepareContext(ctx, query)
	if err != nil {
		return fmt.Errorf("prepare notes: %w", err)
	}
	defer st.Close()
	for i, n := range ns {
		key := NoteKey(n)
		if keys != nil {
			key = keys[i]
		}
		a, err := noteArgs(n, key)
		if err == nil {
			_, err = st.ExecContext(ctx, a...)
		}
		if err != nil {
			return fmt.Errorf("write note %s %s %s: %w", n.Component, n.Version, key, err)
		}
	}
	return nil
}

func noteArgs(n tracker.Note, key string) ([]any, error) {
	kinds := n.Kinds
	if kinds == nil {
		kinds = []tracker.Kind{}
	}
	cves := n.CVEs
	if cves == nil {
		cves = []string{}
	}
	sigs := n.SIGs
	if sigs == nil {
		sigs = []string{}
	}
	var errs []error
	enc := func(v any) string {
		s, err := toJSON(v)
		errs = append(errs, err)
		return s
	}
	sec := ""
	if n.Security != nil {
		sec = enc(n.Security)
	}
	a := []any{n.Component, n.Version, key, minorOf(n.Version), n.FirstSeen, enc(kinds),
		n.ActionRequired, enc(cves), n.PR, enc(sigs), n.Text, n.URL, sec}
	return a, errors.Join(errs...)
}

func writeCVEs(ctx context.Context, tx *sql.Tx, query string, cs []tracker.CVE) error {
	if len(cs) == 0 {
		return nil
	}
	st, err := tx.PrepareContext(ctx, query)
	if err != nil {
		return fmt.Errorf("prepare cves: %w", err)
	}
	defer st.Close()
	for _, c := range cs {
		affected := c.Affected
		if affected == nil {
			affected = []tracker.AffectedPackage{}
		}
		sources := c.Sources
		if sources == nil {
			sources = []string{}
		}
		var cvss string
		aff, err1 := toJSON(affected)
		src, err2 := toJSON(sources)
		var err3 error
		if c.CVSS != nil {
			cvss, err3 = toJSON(c.CVSS)
		}
		err := errors.Join(err1, err2, err3)
		if err == nil {
			_, err = st.ExecContext(ctx, c.ID, c.Summary, c.URL, fmtTime(c.Published), fmtTime(c.Modified),
				cvss, c.Details, aff, src)
		}
		if err != nil {
			return fmt.Errorf("write cve %s: %w", c.ID, err)
		}
	}
	return nil
}

func writeWindows(ctx context.Context, tx *sql.Tx, ws []tracker.SupportWindow) error {
	return execEach(ctx, tx, upsertWindow, ws, func(w tracker.SupportWindow) ([]any, string) {
		return []any{w.Minor, fmtTime(w.Released), fmtTime(w.MaintenanceStart), fmtTime(w.EndOfLife)},
			"support window " + w.Minor
	})
}

// RecordFailure implements Store.
func (s *SQLite) RecordFailure(ctx context.Context, source string, at time.Time, err error) error {
	op := fmt.Sprintf("record failure of source %q", source)
	if strings.TrimSpace(source) == "" {
		return fmt.Errorf("data: %s: empty source", op)
	}
	msg := "unknown error"
	if err != nil {
		msg = err.Error()
	}
	return s.write(ctx, op, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO sources (source, last_attempt, last_success, last_error)
VALUES (?, ?, '', ?)
ON CONFLICT (source) DO UPDATE SET last_attempt = excluded.last_attempt, last_error = excluded.last_error`,
			source, fmtTime(at), msg); err != nil {
			return fmt.Errorf("data: %s: %w", op, err)
		}
		return nil
	})
}

// RecordClusters implements Store.
func (s *SQLite) RecordClusters(ctx context.Context, cs []tracker.Cluster) error {
	const op = "record clusters"
	var p problems
	for i, c := range cs {
		if strings.TrimSpace(c.Name) == "" {
			p.addf("cluster %d: empty name", i)
		}
		if c.ObservedAt.IsZero() {
			p.addf("cluster %d (%s): zero observed_at", i, c.Name)
		}
	}
	if err := p.err(); err != nil {
		return fmt.Errorf("data: %s: %w", op, err)
	}
	return s.write(ctx, op, func(tx *sql.Tx) error {
		if err := insertObservations(ctx, tx, op, cs); err != nil {
			return err
		}
		// Only the latest observation and the latest good one are ever read:
		// keep just those, so a service scanning every few minutes does not
		// grow the store without bound.
		for _, c := range cs {
			if _, err := tx.ExecContext(ctx, `DELETE FROM cluster_observations WHERE name = ?1 AND id NOT IN (
	SELECT id FROM (SELECT id FROM cluster_observations WHERE name = ?1 ORDER BY observed_at DESC, id DESC LIMIT 1)
	UNION
	SELECT id FROM (SELECT id FROM cluster_observations WHERE name = ?1 AND error = '' ORDER BY observed_at DESC, id DESC LIMIT 1))`, c.Name); err != nil {
				return fmt.Errorf("data: %s: prune %s: %w", op, c.Name, err)
			}
		}
		return nil
	})
}

func insertObservations(ctx context.Context, tx *sql.Tx, op string, cs []tracker.Cluster) error {
	return execEachErr(ctx, tx, `INSERT INTO cluster_observations (name, observed_at, source, distribution,
	version, control_plane_versions, nodes, labels, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, cs,
		func(c tracker.Cluster) ([]any, error) {
			cp, err1 := toJSON(nonNil(c.ControlPlaneVersions))
			nodes, err2 := toJSON(nonNil(c.Nodes))
			labels := c.Labels
			if labels == nil {
				labels = map[string]string{}
			}
			lb, err3 := toJSON(labels)
			return []any{c.Name, fmtTime(c.ObservedAt), c.Source, c.Distribution, c.Version, cp, nodes, lb, c.Error},
				errors.Join(err1, err2, err3)
		}, func(c tracker.Cluster) string { return "data: " + op + ": cluster " + c.Name })
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// execEachErr is execEach for argument builders that can fail.
func execEachErr[T any](ctx context.Context, tx *sql.Tx, query string, items []T,
	args func(T) ([]any, error), what func(T) string) error {
	if len(items) == 0 {
		return nil
	}
	st, err := tx.PrepareContext(ctx, query)
	if err != nil {
		return fmt.Errorf("%s: prepare: %w", what(items[0]), err)
	}
	defer st.Close()
	for _, it := range items {
		a, err := args(it)
		if err == nil {
			_, err = st.ExecContext(ctx, a...)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", what(it), err)
		}
	}
	return nil
}

// SetMeta implements Store.
func (s *SQLite) SetMeta(ctx context.Context, key, value string) error {
	op := fmt.Sprintf("set meta %q", key)
	if key == "" {
		return fmt.Errorf("data: %s: empty key", op)
	}
	return s.write(ctx, op, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, upsertMeta, key, value); err != nil {
			return fmt.Errorf("data: %s: %w", op, err)
		}
		return nil
	})
}
