package data

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/kubedrift/kubedrift/tracker"
)

// versionRanks maps each distinct version to its position newest-first, so
// that sorting parses every version once instead of once per comparison.
func versionRanks(versions []string) map[string]int {
	distinct := slices.Clone(versions)
	slices.Sort(distinct)
	distinct = slices.Compact(distinct)
	slices.SortStableFunc(distinct, func(a, b string) int { return tracker.CompareVersionStrings(b, a) })
	ranks := make(map[string]int, len(distinct))
	for i, v := range distinct {
		ranks[v] = i
	}
	return ranks
}

func normMinor(op, m string) (string, error) {
	if m == "" {
		return "", nil
	}
	mm, err := tracker.ParseMinor(m)
	if err != nil {
		return "", fmt.Errorf("data: %s: minor filter: %w", op, err)
	}
	return mm.String(), nil
}

// Releases implements Store.
func (s *SQLite) Releases(ctx context.Context, f ReleaseFilter) ([]tracker.Release, error) {
	const op = "list releases"
	minor, err := normMinor(op, f.Minor)
	if err != nil {
		return nil, err
	}
	rows, err := s.r.QueryContext(ctx, `SELECT component, version, date, prerelease, url FROM releases
WHERE (?1 = '' OR component = ?1) AND (?2 = '' OR minor = ?2) AND (?3 OR prerelease = 0)`,
		f.Component, minor, f.IncludePrereleases)
	if err != nil {
		return nil, fmt.Errorf("data: %s: %w", op, err)
	}
	out, err := scanAll(rows, func(rows *sql.Rows) (tracker.Release, error) {
		var r tracker.Release
		var date string
		if err := rows.Scan(&r.Component, &r.Version, &date, &r.Prerelease, &r.URL); err != nil {
			return r, err
		}
		r.Date, err = parseTime(date)
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("data: %s: %w", op, err)
	}
	sortReleases(out)
	return out, nil
}

// sortReleases orders newest first; equal versions by component, then text.
func sortReleases(rs []tracker.Release) {
	vs := make([]string, len(rs))
	for i, r := range rs {
		vs[i] = r.Version
	}
	rank := versionRanks(vs)
	slices.SortFunc(rs, func(a, b tracker.Release) int {
		return cmp.Or(cmp.Compare(rank[a.Version], rank[b.Version]),
			cmp.Compare(a.Component, b.Component), cmp.Compare(a.Version, b.Version))
	})
}

// scanAll reads every row with scan and closes rows.
func scanAll[T any](rows *sql.Rows, scan func(*sql.Rows) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

const noteColumns = `component, version, note_key, first_seen, kinds, action_required, cves, pr, sigs, text, url, security`

// keyedNote is a note with its stored key.
type keyedNote struct {
	key  string
	note tracker.Note
}

func scanNote(rows *sql.Rows) (keyedNote, error) {
	var k keyedNote
	n := &k.note
	var kinds, cves, sigs, sec string
	if err := rows.Scan(&n.Component, &n.Version, &k.key, &n.FirstSeen, &kinds, &n.ActionRequired,
		&cves, &n.PR, &sigs, &n.Text, &n.URL, &sec); err != nil {
		return k, err
	}
	// Kinds and CVEs are never nil so that JSON output prints [] rather than null.
	n.Kinds, n.CVEs = []tracker.Kind{}, []string{}
	err := errors.Join(fromJSON(kinds, &n.Kinds), fromJSON(cves, &n.CVEs), fromJSON(sigs, &n.SIGs))
	if len(n.SIGs) == 0 {
		n.SIGs = nil
	}
	if sec != "" {
		n.Security = new(tracker.SecurityInfo)
		err = errors.Join(err, fromJSON(sec, n.Security))
	}
	if err != nil {
		return k, fmt.Errorf("note %s %s %s: %w", n.Component, n.Version, k.key, err)
	}
	return k, nil
}

// Notes implements Store.
func (s *SQLite) Notes(ctx context.Context, f NoteFilter) ([]tracker.Note, error) {
	const op = "list notes"
	ks, err := s.notes(ctx, s.r, op, f)
	if err != nil {
		return nil, err
	}
	out := make([]tracker.Note, len(ks))
	for i, k := range ks {
		out[i] = k.note
	}
	return out, nil
}

type querier interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}

func (s *SQLite) notes(ctx context.Context, q querier, op string, f NoteFilter) ([]keyedNote, error) {
	minor, err := normMinor(op, f.Minor)
	if err != nil {
		return nil, err
	}
	var where []string
	var args []any
	if f.Component != "" {
		where = append(where, "component = ?")
		args = append(args, f.Component)
	}
	if minor != "" {
		where = append(where, "minor = ?")
		args = append(args, minor)
	}
	if f.Versions != nil {
		// "1.25.0" and "v1.25.0" name the same release.
		in := make([]string, 0, 2*len(f.Versions))
		for _, v := range f.Versions {
			v = strings.TrimSpace(v)
			bare := strings.TrimPrefix(v, "v")
			in = append(in, "?", "?")
			args = append(args, bare, "v"+bare)
		}
		if len(in) == 0 {
			return nil, nil
		}
		where = append(where, "version IN ("+strings.Join(in, ", ")+")")
	}
	query := "SELECT " + noteColumns + " FROM notes"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("data: %s: %w", op, err)
	}
	out, err := scanAll(rows, scanNote)
	if err != nil {
		return nil, fmt.Errorf("data: %s: %w", op, err)
	}
	sortNotes(out)
	return out, nil
}

// sortNotes orders by version (newest first), then PR, then component and key,
// so that the order is total and exports are deterministic.
func sortNotes(ns []keyedNote) {
	vs := make([]string, len(ns))
	for i, n := range ns {
		vs[i] = n.note.Version
	}
	rank := versionRanks(vs)
	slices.SortFunc(ns, func(a, b keyedNote) int {
		return cmp.Or(cmp.Compare(rank[a.note.Version], rank[b.note.Version]),
			cmp.Compare(a.note.PR, b.note.PR), cmp.Compare(a.note.Component, b.note.Component),
			cmp.Compare(a.note.Version, b.note.Version), cmp.Compare(a.key, b.key))
	})
}

// CVEs implements Store.
func (s *SQLite) CVEs(ctx context.Context) ([]tracker.CVE, error) {
	out, err := s.cves(ctx, s.r)
	if err != nil {
		return nil, fmt.Errorf("data: list cves: %w", err)
	}
	return out, nil
}

func (s *SQLite) cves(ctx context.Context, q querier) ([]tracker.CVE, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, summary, url, published, modified, cvss, details, affected, sources FROM cves`)
	if err != nil {
		return nil, err
	}
	out, err := scanAll(rows, func(rows *sql.Rows) (tracker.CVE, error) {
		var c tracker.CVE
		var pub, mod, cvss, aff, src string
		if err := rows.Scan(&c.ID, &c.Summary, &c.URL, &pub, &mod, &cvss, &c.Details, &aff, &src); err != nil {
			return c, err
		}
		var e1, e2, e3, e4 error
		c.Published, e1 = parseTime(pub)
		c.Modified, e2 = parseTime(mod)
		c.Affected = []tracker.AffectedPackage{}
		e3 = errors.Join(fromJSON(aff, &c.Affected), fromJSON(src, &c.Sources))
		if len(c.Sources) == 0 {
			c.Sources = nil
		}
		if cvss != "" {
			c.CVSS = new(tracker.CVSS)
			e4 = fromJSON(cvss, c.CVSS)
		}
		if err := errors.Join(e1, e2, e3, e4); err != nil {
			return c, fmt.Errorf("cve %s: %w", c.ID, err)
		}
		return c, nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b tracker.CVE) int { return compareCVEIDs(a.ID, b.ID) })
	return out, nil
}

// compareCVEIDs orders CVE-YYYY-N ids by year, then number, so that
// CVE-2023-2431 comes before CVE-2023-25000; other ids sort as text after them.
func compareCVEIDs(a, b string) int {
	ya, na, oka := splitCVE(a)
	yb, nb, okb := splitCVE(b)
	switch {
	case oka && okb:
		return cmp.Or(cmp.Compare(ya, yb), cmp.Compare(na, nb), cmp.Compare(a, b))
	case oka:
		return -1
	case okb:
		return 1
	}
	return cmp.Compare(a, b)
}

func splitCVE(id string) (year, num int, ok bool) {
	rest, found := strings.CutPrefix(id, "CVE-")
	if !found {
		return 0, 0, false
	}
	ys, ns, found := strings.Cut(rest, "-")
	if !found {
		return 0, 0, false
	}
	y, err1 := strconv.Atoi(ys)
	n, err2 := strconv.Atoi(ns)
	return y, n, err1 == nil && err2 == nil
}

// SupportWindows implements Store.
func (s *SQLite) SupportWindows(ctx context.Context) ([]tracker.SupportWindow, error) {
	out, err := s.windows(ctx, s.r)
	if err != nil {
		return nil, fmt.Errorf("data: list support windows: %w", err)
	}
	return out, nil
}

func (s *SQLite) windows(ctx context.Context, q querier) ([]tracker.SupportWindow, error) {
	rows, err := q.QueryContext(ctx, `SELECT minor, released, maintenance_start, end_of_life FROM support_windows`)
	if err != nil {
		return nil, err
	}
	out, err := scanAll(rows, func(rows *sql.Rows) (tracker.SupportWindow, error) {
		var w tracker.SupportWindow
		var rel, ms, eol string
		if err := rows.Scan(&w.Minor, &rel, &ms, &eol); err != nil {
			return w, err
		}
		var e1, e2, e3 error
		w.Released, e1 = parseTime(rel)
		w.MaintenanceStart, e2 = parseTime(ms)
		w.EndOfLife, e3 = parseTime(eol)
		return w, errors.Join(e1, e2, e3)
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b tracker.SupportWindow) int {
		ma, ea := tracker.ParseMinor(a.Minor)
		mb, eb := tracker.ParseMinor(b.Minor)
		if ea != nil || eb != nil {
			return cmp.Compare(a.Minor, b.Minor)
		}
		return cmp.Or(ma.Compare(mb), cmp.Compare(a.Minor, b.Minor))
	})
	return out, nil
}

// Validator implements Store.
func (s *SQLite) Validator(ctx context.Context, url string) (etag, lastModified string, err error) {
	err = s.r.QueryRowContext(ctx, `SELECT etag, last_modified FROM validators WHERE url = ?`, url).
		Scan(&etag, &lastModified)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", nil
	}
	if err != nil {
		return "", "", fmt.Errorf("data: read validator for %s: %w", redactURL(url), err)
	}
	return etag, lastModified, nil
}

// Sources implements Store.
func (s *SQLite) Sources(ctx context.Context) ([]SourceState, error) {
	const op = "list sources"
	rows, err := s.r.QueryContext(ctx, `SELECT source, last_attempt, last_success, last_error FROM sources ORDER BY source`)
	if err != nil {
		return nil, fmt.Errorf("data: %s: %w", op, err)
	}
	out, err := scanAll(rows, func(rows *sql.Rows) (SourceState, error) {
		var st SourceState
		var la, ls string
		if err := rows.Scan(&st.Source, &la, &ls, &st.LastError); err != nil {
			return st, err
		}
		var e1, e2 error
		st.LastAttempt, e1 = parseTime(la)
		st.LastSuccess, e2 = parseTime(ls)
		return st, errors.Join(e1, e2)
	})
	if err != nil {
		return nil, fmt.Errorf("data: %s: %w", op, err)
	}
	return out, nil
}

const clusterColumns = `name, observed_at, source, distribution, version, control_plane_versions, nodes, labels, error`

func scanCluster(rows *sql.Rows) (tracker.Cluster, error) {
	var c tracker.Cluster
	var at, cp, nodes, labels string
	if err := rows.Scan(&c.Name, &at, &c.Source, &c.Distribution, &c.Version, &cp, &nodes, &labels, &c.Error); err != nil {
		return c, err
	}
	var err error
	c.ObservedAt, err = parseTime(at)
	err = errors.Join(err, fromJSON(cp, &c.ControlPlaneVersions), fromJSON(nodes, &c.Nodes), fromJSON(labels, &c.Labels))
	if len(c.ControlPlaneVersions) == 0 {
		c.ControlPlaneVersions = nil
	}
	if len(c.Nodes) == 0 {
		c.Nodes = nil
	}
	if len(c.Labels) == 0 {
		c.Labels = nil
	}
	if err != nil {
		return c, fmt.Errorf("cluster %s: %w", c.Name, err)
	}
	return c, nil
}

// latestClusters picks, per name, the newest observation (by time, then by
// insertion order), optionally among successful ones only.
func latestClusters(okOnly bool) string {
	where := ""
	if okOnly {
		where = "WHERE error = ''"
	}
	return `SELECT ` + clusterColumns + ` FROM (
	SELECT *, row_number() OVER (PARTITION BY name ORDER BY observed_at DESC, id DESC) AS rn
	FROM cluster_observations ` + where + `
) WHERE rn = 1 ORDER BY name`
}

// Clusters implements Store. When the latest observation of a cluster failed,
// the result holds the fields (ObservedAt included) of its last good
// observation, with the failure's Error; a cluster never read successfully
// comes back with its name, source, failure time and error only.
func (s *SQLite) Clusters(ctx context.Context) ([]tracker.Cluster, error) {
	const op = "list clusters"
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("data: %s: %w", op, err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only
	read := func(okOnly bool) ([]tracker.Cluster, error) {
		rows, err := tx.QueryContext(ctx, latestClusters(okOnly))
		if err != nil {
			return nil, err
		}
		return scanAll(rows, scanCluster)
	}
	latest, err := read(false)
	if err != nil {
		return nil, fmt.Errorf("data: %s: %w", op, err)
	}
	good, err := read(true)
	if err != nil {
		return nil, fmt.Errorf("data: %s: %w", op, err)
	}
	lastGood := make(map[string]tracker.Cluster, len(good))
	for _, c := range good {
		lastGood[c.Name] = c
	}
	for i, c := range latest {
		if c.Error == "" {
			continue
		}
		if g, ok := lastGood[c.Name]; ok {
			g.Error = c.Error
			latest[i] = g
		}
	}
	return latest, nil
}

// Meta implements Store.
func (s *SQLite) Meta(ctx context.Context, key string) (string, error) {
	var v string
	err := s.r.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("data: read meta %q: %w", key, err)
	}
	return v, nil
}

// Empty implements Store.
func (s *SQLite) Empty(ctx context.Context) (bool, error) {
	var found int
	err := s.r.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM releases) OR EXISTS (SELECT 1 FROM notes)
	OR EXISTS (SELECT 1 FROM cves) OR EXISTS (SELECT 1 FROM support_windows)`).Scan(&found)
	if err != nil {
		return false, fmt.Errorf("data: check whether %s is empty: %w", s.path, err)
	}
	return found == 0, nil
}
