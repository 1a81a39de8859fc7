package cve

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"path"

	"github.com/kubedrift/kubedrift/tracker"
)

// ParseOSVDocument reads what an OSV source serves: one record, a JSON array
// of records, or a zip of record files (the shape OSV publishes per
// ecosystem). Bad records are reported, named, and skipped.
func ParseOSVDocument(name string, body []byte) ([]tracker.CVE, []error) {
	trimmed := bytes.TrimSpace(body)
	switch {
	case bytes.HasPrefix(body, []byte("PK\x03\x04")):
		zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
		if err != nil {
			return nil, []error{fmt.Errorf("%s: read zip: %w", name, err)}
		}
		var out []tracker.CVE
		var errs []error
		for _, f := range zr.File {
			if f.FileInfo().IsDir() || path.Ext(f.Name) != ".json" {
				continue
			}
			b, err := readZipFile(f)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %s: %w", name, f.Name, err))
				continue
			}
			c, err := ParseOSV(name+"#"+f.Name, b)
			out, errs = keep(out, errs, c, err)
		}
		return out, errs
	case bytes.HasPrefix(trimmed, []byte("[")):
		var raw []json.RawMessage
		if err := json.Unmarshal(trimmed, &raw); err != nil {
			return nil, []error{fmt.Errorf("%s: %w", name, err)}
		}
		var out []tracker.CVE
		var errs []error
		for i, r := range raw {
			c, err := ParseOSV(fmt.Sprintf("%s[%d]", name, i), r)
			out, errs = keep(out, errs, c, err)
		}
		return out, errs
	}
	c, err := ParseOSV(name, body)
	return keep(nil, nil, c, err)
}

// keep adds a parsed record and its problems: ParseOSV returns a usable
// record with the problems of its parts (a bad CVSS vector), and no record
// only when the whole file is unusable.
func keep(out []tracker.CVE, errs []error, c tracker.CVE, err error) ([]tracker.CVE, []error) {
	if err != nil {
		errs = append(errs, err)
	}
	if c.ID != "" {
		out = append(out, c)
	}
	return out, errs
}

// maxOSVRecord bounds one record read from a zip (zip bombs).
const maxOSVRecord = 8 << 20

func readZipFile(f *zip.File) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxOSVRecord+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxOSVRecord {
		return nil, fmt.Errorf("record larger than %d bytes", maxOSVRecord)
	}
	return b, nil
}
