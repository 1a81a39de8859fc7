// Package yamlnode decodes a user-written YAML file into a node tree that
// keeps the line of every value, so that the inventory and the service
// configuration can report each problem as file:line.
package yamlnode

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// Problem is why a file could not be decoded, at Line (0 when unknown).
type Problem struct {
	Line int
	Msg  string
	// MultipleDocuments is set when the file holds more than one document;
	// callers add what that means for them.
	MultipleDocuments bool
	Err               error
}

func (p *Problem) Error() string { return p.Msg }
func (p *Problem) Unwrap() error { return p.Err }

var lineRe = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntax restates a YAML syntax error with its line.
func syntax(err error) *Problem {
	if m := lineRe.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Problem{Line: line, Msg: "invalid YAML: " + m[2]}
	}
	return &Problem{Msg: "invalid YAML", Err: err}
}

// Decode parses the single YAML document of b. It returns nil for an empty
// input, and a *Problem for anything it cannot read.
func Decode(b []byte) (doc *yaml.Node, err error) {
	// The YAML library is third-party code fed user input: a panic in it
	// becomes an error rather than taking the caller down.
	defer func() {
		if r := recover(); r != nil {
			doc, err = nil, &Problem{Msg: fmt.Sprintf("invalid YAML: parser failure: %v", r)}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var d yaml.Node
	if err := dec.Decode(&d); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, syntax(err)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		return nil, &Problem{Line: extra.Line, Msg: "more than one YAML document", MultipleDocuments: true}
	case !errors.Is(err, io.EOF):
		return nil, syntax(err)
	}
	return &d, nil
}

// Deref follows aliases (*anchor) to the node they name, a bounded number of
// times so that a cycle cannot hang the caller.
func Deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 64; i++ {
		n = n.Alias
	}
	return n
}

// IsNull reports whether n is absent or an explicit null.
func IsNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}
