package data

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/kubedrift/kubedrift/tracker"
)

// Bundle format, version 1.
//
// A bundle is one JSON document, written either as indented JSON (diffable,
// for the committed snapshot) or gzip-compressed (for transfers); Import tells
// them apart by the gzip magic bytes:
//
//	{
//	  "format": "kubedrift-bundle",
//	  "version": 1,
//	  "built_at": "2026-11-27T08:00:00.000000000Z",
//	  "facts_only": true,
//	  "sha256": "<hex>",
//	  "payload": {"releases": [...], "notes": [...], "cves": [...], "support_windows": [...]}
//	}
//
// sha256 is computed over the line-separated header fields, in this order,
// followed by the payload in compact JSON (whitespace-insensitive, so the
// indented and compressed forms carry the same sum):
//
//	kubedrift-bundle\n1\n<built_at>\n<facts_only>\n<compact payload>
//
// Payload entries use the tracker JSON contracts; notes also carry "key", their
// identity within a release (see NoteKey), since a facts-only note may have no
// text left to derive it from. Every list is sorted, so Export is
// byte-identical for the same content and built_at.
const (
	bundleFormat  = "kubedrift-bundle"
	bundleVersion = 1
	// maxBundleBytes bounds a bundle after decompression, so a hostile
	// file cannot exhaust memory.
	maxBundleBytes = 1 << 30
)

type bundleDoc struct {
	Format    string          `json:"format"`
	Version   int             `json:"version"`
	BuiltAt   string          `json:"built_at"`
	FactsOnly bool            `json:"facts_only"`
	SHA256    string          `json:"sha256"`
	Payload   json.RawMessage `json:"payload"`
}

type bundlePayload struct {
	Releases       []tracker.Release       `json:"releases"`
	Notes          []bundleNote            `json:"notes"`
	CVEs           []tracker.CVE           `json:"cves"`
	SupportWindows []tracker.SupportWindow `json:"support_windows"`
}

type bundleNote struct {
	Key string `json:"key"`
	tracker.Note
}

// bundle is a verified, decoded bundle.
type bundle struct {
	builtAt time.Time
	payload bundlePayload
}

func bundleSum(builtAt string, factsOnly bool, compactPayload []byte) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%d\n%s\n%t\n", bundleFormat, bundleVersion, builtAt, factsOnly)
	h.Write(compactPayload)
	return hex.EncodeToString(h.Sum(nil))
}

// Export implements Store. It reads everything in one read transaction, so the
// bundle is a consistent snapshot even while a sync writes.
func (s *SQLite) Export(ctx context.Context, w io.Writer, opt ExportOptions) error {
	const op = "export"
	p, err := s.exportPayload(ctx, opt.FactsOnly)
	if err != nil {
		return fmt.Errorf("data: %s: %w", op, err)
	}
	raw, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("data: %s: encode payload: %w", op, err)
	}
	builtAt := opt.BuiltAt
	if builtAt.IsZero() {
		builtAt = s.now()
	}
	doc := bundleDoc{
		Format:    bundleFormat,
		Version:   bundleVersion,
		BuiltAt:   builtAt.UTC().Format(timeLayout),
		FactsOnly: opt.FactsOnly,
		Payload:   raw,
	}
	doc.SHA256 = bundleSum(doc.BuiltAt, doc.FactsOnly, raw)
	out, err := json.MarshalIndent(doc, "", " ")
	if err != nil {
		return fmt.Errorf("data: %s: encode bundle: %w", op, err)
	}
	out = append(out, '\n')
	if opt.Compress {
		var buf bytes.Buffer
		// The gzip header's time and name stay empty, keeping output deterministic.
		zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		if err != nil {
			return fmt.Errorf("data: %s: %w", op, err)
		}
		if _, err := zw.Write(out); err != nil {
			return fmt.Errorf("data: %s: compress: %w", op, err)
		}
		if err := zw.Close(); err != nil {
			return fmt.Errorf("data: %s: compress: %w", op, err)
		}
		out = buf.Bytes()
	}
	if _, err := w.Write(out); err != nil {
		return fmt.Errorf("data: %s: write bundle: %w", op, err)
	}
	return nil
}

func (s *SQLite) exportPayload(ctx context.Context, factsOnly bool) (bundlePayload, error) {
	var p bundlePayload
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return p, err
	}
	defer tx.Rollback() //nolint:errcheck // read-only
	rows, err := tx.QueryContext(ctx, `SELECT component, version, date, prerelease, url FROM releases`)
	if err != nil {
		return p, fmt.Errorf("read releases: %w", err)
	}
	p.Releases, err = scanAll(rows, func(rows *sql.Rows) (tracker.Release, error) {
		var r tracker.Release
		var date string
		if err := rows.Scan(&r.Component, &r.Version, &date, &r.Prerelease, &r.URL); err != nil {
			return r, err
		}
		r.Date, err = parseTime(date)
		return r, err
	})
	if err != nil {
		return p, fmt.Errorf("read releases: %w", err)
	}
	sortReleases(p.Releases)
	// Group by component so that the snapshot reads naturally.
	sortStableByComponent(p.Releases)

	notes, err := s.notes(ctx, tx, "read notes", NoteFilter{})
	if err != nil {
		return p, err
	}
	p.Notes = make([]bundleNote, len(notes))
	for i, k := range notes {
		n := k.note
		if factsOnly {
			n.Text = ""
			if n.Security != nil {
				sec := *n.Security
				sec.Title = ""
				n.Security = &sec
			}
		}
		p.Notes[i] = bundleNote{Key: k.key, Note: n}
	}
	if p.CVEs, err = s.cves(ctx, tx); err != nil {
		return p, fmt.Errorf("read cves: %w", err)
	}
	if factsOnly {
		for i := range p.CVEs {
			p.CVEs[i].Summary, p.CVEs[i].Details = "", ""
		}
	}
	if p.SupportWindows, err = s.windows(ctx, tx); err != nil {
		return p, fmt.Errorf("read support windows: %w", err)
	}
	// Lists are never null in a bundle.
	p.Releases, p.CVEs, p.SupportWindows = nonNil(p.Releases), nonNil(p.CVEs), nonNil(p.SupportWindows)
	return p, nil
}

func sortStableByComponent(rs []tracker.Release) {
	byComp := make(map[string][]tracker.Release)
	var comps []string
	for _, r := range rs {
		if _, ok := byComp[r.Component]; !ok {
			comps = append(comps, r.Component)
		}
		byComp[r.Component] = append(byComp[r.Component], r)
	}
	slices.Sort(comps)
	rs = rs[:0]
	for _, c := range comps {
		rs = append(rs, byComp[c]...)
	}
}

// readBundle reads and fully verifies a bundle without touching any store.
func readBundle(r io.Reader) (*bundle, error) {
	br := bufio.NewReader(r)
	var src io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%w: gzip: %w", ErrBadBundle, err)
		}
		defer zr.Close()
		src = zr
	}
	// Reading to the end first makes gzip check its CRC and length, so a
	// truncated or damaged transfer is caught before anything is decoded.
	raw, err := io.ReadAll(io.LimitReader(src, maxBundleBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: read: %w", ErrBadBundle, err)
	}
	if len(raw) > maxBundleBytes {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrBadBundle, maxBundleBytes)
	}
	var doc bundleDoc
	dec := json.NewDecoder(bytes.NewReader(raw))
	// The header is strict: a renamed key (say a damaged "facts_only") must
	// not silently fall back to its zero value. The payload is a RawMessage,
	// covered by the checksum instead.
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrBadBundle, describeJSONError(raw, err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: unexpected data after the document at byte %d", ErrBadBundle, dec.InputOffset())
	}
	if doc.Format != bundleFormat {
		return nil, fmt.Errorf("%w: format %q, want %q", ErrBadBundle, doc.Format, bundleFormat)
	}
	if doc.Version > bundleVersion {
		return nil, fmt.Errorf("%w: bundle version %d is newer than this kubedrift supports (%d); upgrade kubedrift",
			ErrBadBundle, doc.Version, bundleVersion)
	}
	if doc.Version != bundleVersion {
		return nil, fmt.Errorf("%w: unsupported bundle version %d", ErrBadBundle, doc.Version)
	}
	if len(doc.Payload) == 0 {
		return nil, fmt.Errorf("%w: no payload", ErrBadBundle)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, doc.Payload); err != nil {
		return nil, fmt.Errorf("%w: payload: %w", ErrBadBundle, err)
	}
	if got := bundleSum(doc.BuiltAt, doc.FactsOnly, compact.Bytes()); got != doc.SHA256 {
		return nil, fmt.Errorf("%w: checksum mismatch (bundle says %.12s…, content is %.12s…): damaged or modified",
			ErrBadBundle, doc.SHA256, got)
	}
	b := &bundle{}
	if b.builtAt, err = time.Parse(time.RFC3339Nano, doc.BuiltAt); err != nil {
		return nil, fmt.Errorf("%w: built_at: %w", ErrBadBundle, err)
	}
	if err := json.Unmarshal(doc.Payload, &b.payload); err != nil {
		return nil, fmt.Errorf("%w: payload: %w", ErrBadBundle, err)
	}
	if err := validatePayload(&b.payload); err != nil {
		return nil, fmt.Errorf("%w: invalid entries: %w", ErrBadBundle, err)
	}
	return b, nil
}

// describeJSONError adds the line of a syntax error, which json omits.
func describeJSONError(raw []byte, err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line := 1 + bytes.Count(raw[:min(int(se.Offset), len(raw))], []byte("\n"))
		return "line " + strconv.Itoa(line) + ": " + err.Error()
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return "truncated: " + err.Error()
	}
	return err.Error()
}

func validatePayload(p *bundlePayload) error {
	var pr problems
	for i, r := range p.Releases {
		checkRelease(&pr, i, r)
	}
	for i, n := range p.Notes {
		checkNote(&pr, i, n.Note)
		if !noteKeyRe.MatchString(n.Key) {
			pr.addf("note %d (%s %s): bad key %q", i, n.Component, n.Version, n.Key)
		}
	}
	for i, c := range p.CVEs {
		checkCVE(&pr, i, c)
	}
	for i, w := range p.SupportWindows {
		checkWindow(&pr, i, w)
	}
	return pr.err()
}

// Import implements Store. The bundle is verified completely (format,
// version, checksum, entries) before the store is touched; then everything is
// upserted in one transaction. Prose missing from a facts-only bundle never
// erases prose already stored.
func (s *SQLite) Import(ctx context.Context, r io.Reader) (ImportSummary, error) {
	b, err := readBundle(r)
	if err != nil {
		return ImportSummary{}, fmt.Errorf("data: import: %w", err)
	}
	return s.importBundle(ctx, b, "")
}

// importBundle writes a verified bundle; extraMeta, when set, is one more
// meta key stamped with the import time (the seed marker).
func (s *SQLite) importBundle(ctx context.Context, b *bundle, extraMeta string) (ImportSummary, error) {
	const op = "import"
	p := b.payload
	keys := make([]string, len(p.Notes))
	notes := make([]tracker.Note, len(p.Notes))
	for i, n := range p.Notes {
		keys[i], notes[i] = n.Key, n.Note
	}
	now := fmtTime(s.now())
	err := s.write(ctx, op, func(tx *sql.Tx) error {
		if err := writeReleases(ctx, tx, p.Releases, "bundle"); err != nil {
			return fmt.Errorf("data: %s: %w", op, err)
		}
		if err := writeNotes(ctx, tx, mergeNote, notes, keys); err != nil {
			return fmt.Errorf("data: %s: %w", op, err)
		}
		if err := writeCVEs(ctx, tx, mergeCVE, p.CVEs); err != nil {
			return fmt.Errorf("data: %s: %w", op, err)
		}
		if err := writeWindows(ctx, tx, p.SupportWindows); err != nil {
			return fmt.Errorf("data: %s: %w", op, err)
		}
		meta := [][2]string{{MetaSnapshotBuiltAt, fmtTime(b.builtAt)}, {MetaBundleImportedAt, now}}
		if extraMeta != "" {
			meta = append(meta, [2]string{extraMeta, now})
		}
		for _, kv := range meta {
			if _, err := tx.ExecContext(ctx, upsertMeta, kv[0], kv[1]); err != nil {
				return fmt.Errorf("data: %s: set meta %q: %w", op, kv[0], err)
			}
		}
		return nil
	})
	if err != nil {
		return ImportSummary{}, err
	}
	return ImportSummary{
		Releases: len(p.Releases), Notes: len(p.Notes), CVEs: len(p.CVEs),
		SupportWindows: len(p.SupportWindows), BuiltAt: b.builtAt,
	}, nil
}

// BundleBuiltAt verifies a bundle held in memory (the embedded snapshot) and
// returns when it was built.
func BundleBuiltAt(b []byte) (time.Time, error) {
	bd, err := readBundle(bytes.NewReader(b))
	if err != nil {
		return time.Time{}, err
	}
	return bd.builtAt, nil
}
