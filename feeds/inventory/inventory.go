package inventory

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/kubedrift/kubedrift/feeds/yamlnode"

	"github.com/kubedrift/kubedrift/tracker"
)

// MaxNodes bounds how many nodes one file may describe once pools are expanded,
// so that a mistyped count cannot exhaust memory.
const MaxNodes = 100000

// MaxFileSize bounds what Load reads; real inventories are a few kilobytes.
const MaxFileSize = 16 << 20

// maxProblems bounds how many problems one parse lists; a file that is wrong
// everywhere needs fixing, not a million-line report.
const maxProblems = 100

// Distributions lists the values the distribution key accepts.
var Distributions = []string{
	tracker.DistVanilla, tracker.DistEKS, tracker.DistGKE, tracker.DistAKS,
	tracker.DistK3s, tracker.DistRKE2, tracker.DistOpenShift, tracker.DistOther,
}

// Error is one problem found in an inventory file. Parse joins them with
// errors.Join; use errors.As on each (or unwrap the join) to inspect them.
type Error struct {
	File string
	// Line is 1-based; 0 when the problem has no single place.
	Line int
	// Cluster names the cluster concerned ("cluster \"prod-eu\"" or "cluster #3"
	// when it has no name), or "" for file-level problems.
	Cluster string
	Msg     string
	// Err is the underlying cause, if any (a version parse error).
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Cluster != "" {
		b.WriteString(e.Cluster + ": ")
	}
	b.WriteString(e.Msg)
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Load reads and parses the inventory file at path. See Parse for how problems
// are reported.
func Load(path string) ([]tracker.Cluster, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("inventory: read %s: %w", path, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("inventory: read %s: %w", path, err)
	}
	if len(b) > MaxFileSize {
		return nil, &Error{File: path, Msg: fmt.Sprintf("file larger than %d bytes", MaxFileSize)}
	}
	return Parse(path, b)
}

// Parse reads an inventory document; name identifies it in errors and in each
// cluster's Source ("inventory:<name>").
//
// Every problem is reported, each prefixed with "name:line:", joined into the
// returned error. Clusters without problems are returned alongside that error so
// callers can report them and flag the file; a cluster with any problem is left
// out entirely rather than reported half-known. A file that is not YAML at all
// returns no clusters.
//
// Node pools are expanded into one Node per count, named "<pool>-<i>" (i from 1,
// continuing across entries of the same pool) with Pool set, so that skew rules
// see every kubelet. ObservedAt stays zero: a static file observes nothing.
func Parse(name string, b []byte) ([]tracker.Cluster, error) {
	p := &parser{file: name, budget: MaxNodes}
	doc, err := p.decode(b)
	if err != nil {
		return nil, err
	}
	list := p.clusterList(doc)
	seen := map[string]int{}
	var out []tracker.Cluster
	for i, n := range list {
		if c, ok := p.cluster(i+1, n, seen); ok {
			out = append(out, c)
		}
	}
	return out, p.err()
}

type parser struct {
	file    string
	errs    []*Error
	dropped int
	// budget is how many more nodes the file may still describe.
	budget int
}

func (p *parser) add(line int, cluster string, cause error, format string, args ...any) {
	if len(p.errs) >= maxProblems {
		p.dropped++
		return
	}
	p.errs = append(p.errs, &Error{File: p.file, Line: line, Cluster: cluster, Msg: fmt.Sprintf(format, args...), Err: cause})
}

func (p *parser) err() error {
	// Report in file order: the top level is checked before the clusters.
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

// decode parses the single YAML document of the file into a node tree, which
// keeps the line of every value for error messages.
func (p *parser) decode(b []byte) (*yaml.Node, error) {
	d, err := yamlnode.Decode(b)
	if err != nil {
		var prob *yamlnode.Problem
		if !errors.As(err, &prob) {
			return nil, &Error{File: p.file, Msg: "invalid YAML", Err: err}
		}
		msg := prob.Msg
		if prob.MultipleDocuments {
			msg += "; put all clusters in one list"
		}
		return nil, &Error{File: p.file, Line: prob.Line, Msg: msg, Err: prob.Err}
	}
	if d == nil {
		return nil, &Error{File: p.file, Msg: `empty file: want a top-level "clusters:" list`}
	}
	return d, nil
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
		return "a scalar"
	case yaml.AliasNode:
		return "an unresolved alias"
	}
	return "a document"
}

// field is one key: value pair of a mapping.
type field struct {
	key   string
	line  int
	value *yaml.Node
}

// fields lists a mapping's pairs, reporting non-scalar, duplicate and unknown
// keys. ok is false when n is not a mapping.
func (p *parser) fields(n *yaml.Node, cluster, what string, known []string) (fs []field, ok bool) {
	if what != "" {
		what += ": "
	}
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		line := 0
		if n != nil {
			line = n.Line
		}
		p.add(line, cluster, nil, "%swant a mapping, got %s", what, kindName(n))
		return nil, false
	}
	ok = true
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), n.Content[i+1]
		if k == nil || k.Kind != yaml.ScalarNode {
			p.add(n.Content[i].Line, cluster, nil, "%skey must be a plain string", what)
			ok = false
			continue
		}
		if first, dup := seen[k.Value]; dup {
			p.add(k.Line, cluster, nil, "%sduplicate key %q (first at line %d)", what, k.Value, first)
			ok = false
			continue
		}
		seen[k.Value] = k.Line
		if known != nil && !slices.Contains(known, k.Value) {
			p.add(k.Line, cluster, nil, "%sunknown key %q (want one of %s)", what, k.Value, strings.Join(known, ", "))
			ok = false
			continue
		}
		fs = append(fs, field{key: k.Value, line: k.Line, value: v})
	}
	return fs, ok
}

// scalar returns a field's value as a string, reporting anything else.
func (p *parser) scalar(f field, cluster string) (string, bool) {
	v := deref(f.value)
	if v == nil || v.Kind != yaml.ScalarNode || isNull(v) {
		p.add(f.line, cluster, nil, "%s: want a string, got %s", f.key, kindName(v))
		return "", false
	}
	return strings.TrimSpace(v.Value), true
}

func line(f field) int {
	if v := deref(f.value); v != nil && v.Line > 0 {
		return v.Line
	}
	return f.line
}

// clusterList returns the items of the top-level "clusters" list.
func (p *parser) clusterList(doc *yaml.Node) []*yaml.Node {
	var root *yaml.Node
	if len(doc.Content) > 0 {
		root = doc.Content[0]
	}
	if isNull(deref(root)) {
		p.add(0, "", nil, `empty file: want a top-level "clusters:" list`)
		return nil
	}
	fs, _ := p.fields(root, "", "top level", []string{"clusters"})
	for _, f := range fs {
		v := deref(f.value)
		switch {
		case isNull(v):
			return nil // "clusters:" with no entries is an empty fleet
		case v.Kind != yaml.SequenceNode:
			p.add(line(f), "", nil, "clusters: want a list, got %s", kindName(v))
			return nil
		}
		return v.Content
	}
	if len(p.errs) == 0 {
		p.add(root.Line, "", nil, `missing top-level "clusters:" list`)
	}
	return nil
}

var clusterKeys = []string{"name", "distribution", "version", "nodes", "labels"}

// cluster converts one list item; ok is false when it has any problem.
func (p *parser) cluster(idx int, n *yaml.Node, seen map[string]int) (tracker.Cluster, bool) {
	label := fmt.Sprintf("cluster #%d", idx)
	n = deref(n)
	start := 0
	if n != nil {
		start = n.Line
	}
	if n != nil && n.Kind == yaml.MappingNode {
		// Name the cluster in every message, whatever order the keys come in.
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k, v := deref(n.Content[i]), deref(n.Content[i+1]); k != nil && k.Value == "name" && v != nil && v.Kind == yaml.ScalarNode && strings.TrimSpace(v.Value) != "" && !isNull(v) {
				label = fmt.Sprintf("cluster %q", strings.TrimSpace(v.Value))
				break
			}
		}
	}
	fs, ok := p.fields(n, label, "", clusterKeys)
	if n == nil || n.Kind != yaml.MappingNode {
		return tracker.Cluster{}, false
	}
	c := tracker.Cluster{Source: "inventory:" + p.file}
	var (
		hasName, hasVersion bool
		dist                string
		cp                  tracker.Version
	)
	for _, f := range fs {
		switch f.key {
		case "name":
			s, good := p.scalar(f, label)
			switch {
			case !good:
				hasName, ok = true, false // reported already
			case s == "":
				p.add(line(f), label, nil, "name is empty")
				hasName, ok = true, false
			default:
				hasName = true
				c.Name = s
				if first, dup := seen[s]; dup {
					p.add(line(f), label, nil, "duplicate cluster name (first at line %d)", first)
					ok = false
				} else {
					seen[s] = line(f)
				}
			}
		case "version":
			s, good := p.scalar(f, label)
			if !good {
				ok = false
				hasVersion = true // reported already
				continue
			}
			hasVersion = true
			v, err := tracker.ParseVersion(s)
			if err != nil {
				p.add(line(f), label, err, "invalid version %q", s)
				ok = false
				continue
			}
			cp, c.Version = v, s
		case "distribution":
			s, good := p.scalar(f, label)
			if !good {
				ok = false
				continue
			}
			d := strings.ToLower(s)
			if !slices.Contains(Distributions, d) {
				p.add(line(f), label, nil, "unknown distribution %q (want one of %s)", s, strings.Join(Distributions, ", "))
				ok = false
				continue
			}
			dist = d
		case "labels":
			labels, good := p.labels(f, label)
			ok = ok && good
			c.Labels = labels
		case "nodes":
			nodes, good := p.nodes(f, label)
			ok = ok && good
			c.Nodes = nodes
		}
	}
	if !hasName {
		p.add(start, label, nil, "missing name")
		ok = false
	}
	if !hasVersion {
		p.add(start, label, nil, "missing version (the control-plane version)")
		ok = false
	}
	if !ok {
		return tracker.Cluster{}, false
	}
	c.ControlPlaneVersions = []string{c.Version}
	c.Distribution = dist
	if dist == "" {
		c.Distribution = detect(cp, c.Nodes)
	}
	return c, true
}

// detect names the distribution from the control-plane version; when that has
// no suffix (some managed control planes report plain upstream versions) the
// first node's kubelet version decides.
func detect(cp tracker.Version, nodes []tracker.Node) string {
	if cp.Distribution != tracker.DistVanilla || len(nodes) == 0 {
		return cp.Distribution
	}
	if v, err := tracker.ParseVersion(nodes[0].KubeletVersion); err == nil {
		return v.Distribution
	}
	return cp.Distribution
}

func (p *parser) labels(f field, label string) (map[string]string, bool) {
	v := deref(f.value)
	if isNull(v) {
		return nil, true
	}
	fs, ok := p.fields(v, label, "labels", nil)
	if len(fs) == 0 {
		return nil, ok
	}
	m := make(map[string]string, len(fs))
	for _, lf := range fs {
		key := lf.key
		lf.key = "label " + strconv.Quote(key)
		s, good := p.scalar(lf, label)
		if !good {
			ok = false
			continue
		}
		m[key] = s
	}
	return m, ok
}

var nodeKeys = []string{"name", "pool", "version", "count", "kube_proxy", "runtime"}

func (p *parser) nodes(f field, label string) ([]tracker.Node, bool) {
	v := deref(f.value)
	if isNull(v) {
		return nil, true
	}
	if v.Kind != yaml.SequenceNode {
		p.add(line(f), label, nil, "nodes: want a list, got %s", kindName(v))
		return nil, false
	}
	ok := true
	var out []tracker.Node
	names := map[string]int{}
	next := map[string]int{} // per pool: the last index used
	for _, item := range v.Content {
		item = deref(item)
		start := line(field{line: f.line, value: item})
		fs, good := p.fields(item, label, "node entry", nodeKeys)
		if item == nil || item.Kind != yaml.MappingNode {
			ok = false
			continue
		}
		var (
			e                          tracker.Node
			count                      = 1
			hasCount, hasVer, entryBad bool
		)
		entryBad = !good
		for _, nf := range fs {
			if nf.key == "count" {
				hasCount = true
				n, good := p.count(nf, label)
				entryBad = entryBad || !good
				count = n
				continue
			}
			s, good := p.scalar(nf, label)
			if !good {
				entryBad = true
				hasVer = hasVer || nf.key == "version"
				continue
			}
			switch nf.key {
			case "name":
				e.Name = s
			case "pool":
				e.Pool = s
			case "version", "kube_proxy":
				hasVer = hasVer || nf.key == "version"
				if _, err := tracker.ParseVersion(s); err != nil {
					p.add(line(nf), label, err, "node entry: invalid %s %q", nf.key, s)
					entryBad = true
					continue
				}
				if nf.key == "version" {
					e.KubeletVersion = s
				} else {
					e.KubeProxyVersion = s
				}
			case "runtime":
				e.ContainerRuntime = s
			}
		}
		if !hasVer {
			p.add(start, label, nil, "node entry: missing version (the kubelet version)")
			entryBad = true
		}
		switch {
		case e.Name == "" && e.Pool == "":
			p.add(start, label, nil, "node entry: needs a name (one node) or a pool (with a count)")
			entryBad = true
		case e.Name != "" && hasCount && count != 1:
			p.add(start, label, nil, "node entry %q: count applies to pools; a named entry is one node", e.Name)
			entryBad = true
		}
		if count < 1 {
			count = 1 // already reported; still charge the budget below
		}
		if count > p.budget {
			p.add(start, label, nil, "node entry: %d nodes exceed the limit of %d nodes per file", count, MaxNodes)
			p.budget = 0
			entryBad = true
		} else {
			p.budget -= count
		}
		if entryBad {
			ok = false
			continue
		}
		// Names are still checked once the cluster is known bad, so that every
		// duplicate is reported; the budget above bounds this loop.
		for i := 0; i < count; i++ {
			nd := e
			if nd.Name == "" {
				next[e.Pool]++
				nd.Name = e.Pool + "-" + strconv.Itoa(next[e.Pool])
			}
			if first, dup := names[nd.Name]; dup {
				p.add(start, label, nil, "node entry: duplicate node name %q (first at line %d)", nd.Name, first)
				ok = false
				break
			}
			names[nd.Name] = start
			if ok {
				out = append(out, nd)
			}
		}
	}
	if !ok {
		return nil, false
	}
	return out, true
}

func (p *parser) count(f field, label string) (int, bool) {
	v := deref(f.value)
	if v == nil || v.Kind != yaml.ScalarNode || v.Tag != "!!int" {
		got := kindName(v)
		if v != nil && v.Kind == yaml.ScalarNode && !isNull(v) {
			got = strconv.Quote(v.Value)
		}
		p.add(line(f), label, nil, "node entry: count: want a whole number, got %s", got)
		return 0, false
	}
	var n int64
	if err := v.Decode(&n); err != nil {
		p.add(line(f), label, err, "node entry: count %q", v.Value)
		return 0, false
	}
	switch {
	case n < 1:
		p.add(line(f), label, nil, "node entry: count must be at least 1, got %d", n)
		return 0, false
	case n > MaxNodes:
		p.add(line(f), label, nil, "node entry: count %d exceeds the limit of %d nodes per file", n, MaxNodes)
		return 0, false
	}
	return int(n), true
}
