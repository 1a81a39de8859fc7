package schedule

import (
	"bytes"
	"strings"
)

// lineIndex locates the entries of a top-level YAML list ("schedules:",
// "branches:") by line, so that errors about content can point at the
// entry. The YAML decoders report lines only for syntax errors. It reads the
// block-style layout upstream uses; when the layout is anything else (flow
// style, anchors) and the count does not match the decoded list, it knows no
// lines and errors go without them.
type lineIndex struct {
	lines  []string
	starts []int // 1-based line of each entry's "-"
}

func newLineIndex(b []byte, key string, n int) lineIndex {
	li := lineIndex{lines: strings.Split(string(bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))), "\n")}
	inList, itemIndent := false, -1
	for i, l := range li.lines {
		t := strings.TrimLeft(l, " ")
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		indent := len(l) - len(t)
		item := t == "-" || strings.HasPrefix(t, "- ")
		if !inList {
			if indent == 0 && strings.HasPrefix(t, key+":") && strings.TrimSpace(stripComment(t[len(key)+1:])) == "" {
				inList = true
			}
			continue
		}
		if itemIndent < 0 {
			if !item {
				break
			}
			itemIndent = indent
		}
		if indent < itemIndent || (indent == itemIndent && !item) {
			break
		}
		if indent == itemIndent && item {
			li.starts = append(li.starts, i+1)
		}
	}
	if len(li.starts) != n {
		li.starts = nil
	}
	return li
}

// entry returns the first line of entry i and the first line after it, or
// 0, 0 when unknown.
func (li lineIndex) entry(i int) (start, end int) {
	if i >= len(li.starts) {
		return 0, 0
	}
	end = len(li.lines) + 1
	if i+1 < len(li.starts) {
		end = li.starts[i+1]
	}
	return li.starts[i], end
}

// find returns the line in [start, end) that sets key to value, or start
// when there is none.
func (li lineIndex) find(start, end int, key, value string) int {
	if start <= 0 || value == "" {
		return start
	}
	for n := start; n < end && n <= len(li.lines); n++ {
		t := strings.TrimLeft(li.lines[n-1], " ")
		t = strings.TrimLeft(strings.TrimPrefix(t, "-"), " ")
		rest, ok := strings.CutPrefix(t, key+":")
		if !ok {
			continue
		}
		v := strings.Trim(strings.TrimSpace(stripComment(rest)), `"'`)
		if v == value {
			return n
		}
	}
	return start
}

// stripComment drops a trailing " # comment"; enough for the scalars found in
// these files, which hold no quoted "#".
func stripComment(s string) string {
	if i := strings.Index(s, " #"); i >= 0 {
		return s[:i]
	}
	return s
}
