package config

import (
	"cmp"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/kubedrift/kubedrift/feeds/yamlnode"
)

// maxProblems bounds how many problems one parse lists; a file that is wrong
// everywhere needs rewriting, not a thousand-line report.
const maxProblems = 100

// parser walks the YAML node tree, which keeps the line of every key and
// value, and collects every problem instead of stopping at the first.
type parser struct {
	file    string
	errs    []*Error
	dropped int
	lines   map[string]int
}

func (p *parser) add(line int, format string, args ...any) {
	if len(p.errs) >= maxProblems {
		p.dropped++
		return
	}
	p.errs = append(p.errs, &Error{File: p.file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// err joins the problems in file order.
func (p *parser) err() error {
	slices.SortStableFunc(p.errs, func(a, b *Error) int { return cmp.Compare(a.Line, b.Line) })
	errs := make([]error, 0, len(p.errs)+1)
	for _, e := range p.errs {
		errs = append(errs, e)
	}
	if p.dropped > 0 {
		errs = append(errs, &Error{File: p.file, Msg: fmt.Sprintf("%d more problems not listed", p.dropped)})
	}
	return errors.Join(errs...)
}

// decode parses the single document of the file. It returns a nil node for
// an empty file.
func (p *parser) decode(b []byte) (*yaml.Node, error) {
	d, err := yamlnode.Decode(b)
	if err != nil {
		var prob *yamlnode.Problem
		if !errors.As(err, &prob) {
			return nil, &Error{File: p.file, Msg: "invalid YAML", Err: err}
		}
		msg := prob.Msg
		if prob.MultipleDocuments {
			msg += "; kubedrift reads one"
		}
		return nil, &Error{File: p.file, Line: prob.Line, Msg: msg, Err: prob.Err}
	}
	if d == nil || len(d.Content) == 0 || isNull(deref(d.Content[0])) {
		return nil, nil
	}
	return d.Content[0], nil
}

var (
	deref  = yamlnode.Deref
	isNull = yamlnode.IsNull
)

func kindName(n *yaml.Node) string {
	switch {
	case n == nil:
		return "nothing"
	case isNull(n):
		return "null"
	}
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return strconv.Quote(n.Value)
	case yaml.AliasNode:
		return "an unresolved alias"
	}
	return "a document"
}

// sub names key inside what: "clusters.timeout", or `channel "ops": kinds`
// under a named channel.
func sub(what, key string) string {
	switch {
	case what == "":
		return key
	case strings.HasSuffix(what, `"`):
		return what + ": " + key
	}
	return what + "." + key
}

func prefix(what string) string {
	if what == "" {
		return ""
	}
	return what + ": "
}

// field is one key: value pair of a mapping; path names it in messages.
type field struct {
	key   string
	path  string
	line  int
	value *yaml.Node
}

// valueLine is the line of the value, falling back to the key's.
func (f field) valueLine() int {
	if v := deref(f.value); v != nil && v.Line > 0 {
		return v.Line
	}
	return f.line
}

// fields lists a mapping's pairs, reporting what is not a mapping, duplicate
// and unknown keys, and secrets written inline. secrets maps such inline
// keys to the base of their *_file/*_env replacements.
func (p *parser) fields(n *yaml.Node, line int, what string, known []string, secrets map[string]string) []field {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		if n != nil && n.Line > 0 {
			line = n.Line
		}
		p.add(line, "%swant a mapping, got %s", prefix(what), kindName(n))
		return nil
	}
	var fs []field
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := deref(n.Content[i])
		if k == nil || k.Kind != yaml.ScalarNode {
			p.add(n.Content[i].Line, "%skey must be a plain string", prefix(what))
			continue
		}
		if first, dup := seen[k.Value]; dup {
			p.add(k.Line, "%sduplicate key %q (first at line %d)", prefix(what), k.Value, first)
			continue
		}
		seen[k.Value] = k.Line
		if base, ok := secrets[k.Value]; ok {
			p.add(k.Line, "%s: secrets must come from *_file or *_env (use %s_file or %s_env)", sub(what, k.Value), base, base)
			continue
		}
		if !slices.Contains(known, k.Value) {
			p.add(k.Line, "%sunknown key %q (want one of %s)", prefix(what), k.Value, strings.Join(known, ", "))
			continue
		}
		fs = append(fs, field{key: k.Value, path: sub(what, k.Value), line: k.Line, value: n.Content[i+1]})
	}
	return fs
}

// str returns a scalar value, trimmed. Null counts as "" (an empty key).
func (p *parser) str(f field) (string, bool) {
	v := deref(f.value)
	if isNull(v) {
		return "", true
	}
	if v.Kind != yaml.ScalarNode {
		p.add(f.valueLine(), "%s: want a string, got %s", f.path, kindName(v))
		return "", false
	}
	return strings.TrimSpace(v.Value), true
}

func (p *parser) boolean(f field) (bool, bool) {
	v := deref(f.value)
	if v == nil || v.Kind != yaml.ScalarNode || v.Tag != "!!bool" {
		p.add(f.valueLine(), "%s: want true or false, got %s", f.path, kindName(v))
		return false, false
	}
	var b bool
	if err := v.Decode(&b); err != nil {
		p.add(f.valueLine(), "%s: want true or false, got %s", f.path, kindName(v))
		return false, false
	}
	return b, true
}

// integer reads a whole number within [lo, hi].
func (p *parser) integer(f field, lo, hi int) (int, bool) {
	v := deref(f.value)
	var n int64
	if v == nil || v.Kind != yaml.ScalarNode || v.Tag != "!!int" || v.Decode(&n) != nil {
		p.add(f.valueLine(), "%s: want a whole number, got %s", f.path, kindName(v))
		return 0, false
	}
	if n < int64(lo) || n > int64(hi) {
		p.add(f.valueLine(), "%s: %d is out of range (want %d to %d)", f.path, n, lo, hi)
		return 0, false
	}
	return int(n), true
}

// duration reads a positive Go duration ("90s", "1h30m"); zero is allowed
// only when zeroOK.
func (p *parser) duration(f field, zeroOK bool) (Duration, bool) {
	v := deref(f.value)
	if v == nil || v.Kind != yaml.ScalarNode || isNull(v) {
		p.add(f.valueLine(), "%s: want a duration like 90s or 1h, got %s", f.path, kindName(v))
		return Duration{}, false
	}
	d, err := parseDuration(v.Value)
	if err != nil {
		p.add(f.valueLine(), "%s: %v", f.path, err)
		return Duration{}, false
	}
	if d == 0 && !zeroOK {
		p.add(f.valueLine(), "%s: must be greater than zero", f.path)
		return Duration{}, false
	}
	return Duration{d}, true
}

// list returns the items of a list; null is an empty list.
func (p *parser) list(f field) ([]*yaml.Node, bool) {
	v := deref(f.value)
	if isNull(v) {
		return nil, true
	}
	if v.Kind != yaml.SequenceNode {
		p.add(f.valueLine(), "%s: want a list, got %s", f.path, kindName(v))
		return nil, false
	}
	return v.Content, true
}

// strList reads a list of non-empty strings; each item's line is recorded
// under "path[i]" for later messages.
func (p *parser) strList(f field) ([]string, bool) {
	items, ok := p.list(f)
	var out []string
	for i, it := range items {
		it = deref(it)
		path := fmt.Sprintf("%s[%d]", f.path, i)
		line := f.valueLine()
		if it != nil && it.Line > 0 {
			line = it.Line
		}
		if it == nil || it.Kind != yaml.ScalarNode || isNull(it) || strings.TrimSpace(it.Value) == "" {
			p.add(line, "%s: want a non-empty string, got %s", path, kindName(it))
			ok = false
			continue
		}
		p.lines[path] = line
		out = append(out, strings.TrimSpace(it.Value))
	}
	return out, ok
}

// strMap reads a mapping of strings to strings (labels).
func (p *parser) strMap(f field) (map[string]string, bool) {
	v := deref(f.value)
	if isNull(v) {
		return nil, true
	}
	if v.Kind != yaml.MappingNode {
		p.add(f.valueLine(), "%s: want a mapping, got %s", f.path, kindName(v))
		return nil, false
	}
	ok := true
	m := map[string]string{}
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, val := deref(v.Content[i]), deref(v.Content[i+1])
		if k == nil || k.Kind != yaml.ScalarNode || isNull(k) {
			p.add(v.Content[i].Line, "%s: key must be a plain string", f.path)
			ok = false
			continue
		}
		if _, dup := m[k.Value]; dup {
			p.add(k.Line, "%s: duplicate key %q", f.path, k.Value)
			ok = false
			continue
		}
		if val == nil || val.Kind != yaml.ScalarNode || isNull(val) {
			p.add(k.Line, "%s: %q: want a string, got %s", f.path, k.Value, kindName(val))
			ok = false
			continue
		}
		m[k.Value] = val.Value
	}
	return m, ok
}

var envNameRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// secretSource reads a *_file or *_env key. The value is never quoted in a
// message: a user who pasted the secret itself here must not see it echoed
// into logs.
func (p *parser) secretSource(f field) (string, bool) {
	s, ok := p.str(f)
	if !ok {
		return "", false
	}
	switch {
	case s == "":
		p.add(f.valueLine(), "%s: is empty", f.path)
		return "", false
	case strings.HasSuffix(f.key, "_env") && !envNameRe.MatchString(s):
		p.add(f.valueLine(), "%s: not an environment variable name (letters, digits and _); name the variable here, the secret goes in the environment", f.path)
		return "", false
	case strings.HasSuffix(f.key, "_file") && strings.Contains(s, "://"):
		p.add(f.valueLine(), "%s: looks like a URL, not a file path; put the secret in a file and name the file here", f.path)
		return "", false
	}
	p.lines[f.path] = f.valueLine()
	return s, true
}

// oneOf reports a file and an env key both set for the same secret; a and
// b are the fields, or nil when absent.
func (p *parser) oneOf(what string, a, b *field) bool {
	if a == nil || b == nil {
		return true
	}
	p.add(max(a.line, b.line), "%s%s and %s are both set; use one", prefix(what), a.key, b.key)
	return false
}

// tzLocation loads a zone, refusing names that only work by accident
// (Local depends on the machine).
func tzLocation(name string) (*time.Location, error) {
	if name == "" || name == "Local" {
		return nil, fmt.Errorf("zone %q depends on the machine", name)
	}
	return time.LoadLocation(name)
}

// hasKey reports whether mapping n has one of keys; it lets a block that
// wrote its secret inline skip the "missing destination" that follows from
// refusing it.
func hasKey(n *yaml.Node, keys ...string) bool {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return false
	}
	for i := 0; i < len(n.Content); i += 2 {
		if k := deref(n.Content[i]); k != nil && slices.Contains(keys, k.Value) {
			return true
		}
	}
	return false
}
