package cve

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fixtureRecords returns the fixture OSV records that parse, by file name.
func fixtureRecords(t *testing.T) map[string][]byte {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join("testdata", "osv"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join("testdata", "osv", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseOSV(e.Name(), b); err == nil && strings.HasSuffix(e.Name(), ".json") {
			out[e.Name()] = b
		}
	}
	if len(out) == 0 {
		t.Fatal("no valid fixture records")
	}
	return out
}

func TestParseOSVDocument(t *testing.T) {
	recs := fixtureRecords(t)
	var one []byte
	var arr bytes.Buffer
	arr.WriteString("[")
	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	i := 0
	for name, b := range recs {
		if one == nil {
			one = b
		}
		if i > 0 {
			arr.WriteString(",")
		}
		arr.Write(b)
		w, _ := zw.Create("vulns/" + name)
		w.Write(b)
		i++
	}
	arr.WriteString(",{\"not\":\"osv\"}]")
	w, _ := zw.Create("vulns/broken.json")
	w.Write([]byte("{truncated"))
	w, _ = zw.Create("README.md")
	w.Write([]byte("ignored"))
	zw.Close()

	tests := []struct {
		name      string
		body      []byte
		records   int
		problems  int
		mentioned string
	}{
		{"one record", one, 1, 0, ""},
		{"array with a bad entry", arr.Bytes(), len(recs), 1, "feed.json["},
		{"zip with a broken file", zbuf.Bytes(), len(recs), 1, "broken.json"},
		{"garbage", []byte("<html>"), 0, 1, "feed.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, errs := ParseOSVDocument("feed.json", tt.body)
			if len(got) != tt.records || len(errs) != tt.problems {
				t.Fatalf("%d records, problems %v; want %d records, %d problems", len(got), errs, tt.records, tt.problems)
			}
			if tt.mentioned != "" && !strings.Contains(errs[0].Error(), tt.mentioned) {
				t.Errorf("problem %q does not say where (%s)", errs[0], tt.mentioned)
			}
		})
	}
}

func TestParseOSVDocumentKeepsPartlyBadRecords(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "osv", "CVE-2099-0003.json"))
	if err != nil {
		t.Fatal(err)
	}
	c, perr := ParseOSV("x", b)
	if perr == nil || c.ID == "" {
		t.Skip("fixture CVE-2099-0003 is expected to be usable with problems")
	}
	got, errs := ParseOSVDocument("feed.json", append(append([]byte("["), b...), ']'))
	if len(got) != 1 || got[0].ID != c.ID || len(errs) == 0 {
		t.Errorf("got %d records, %d problems; want the record kept and its problems reported", len(got), len(errs))
	}
}
