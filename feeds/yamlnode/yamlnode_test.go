package yamlnode

import (
	"errors"
	"testing"
)

func TestDecode(t *testing.T) {
	tests := []struct {
		name, in string
		line     int
		msg      string
		multi    bool
		empty    bool
	}{
		{name: "one document", in: "a: 1\nb: [2]\n"},
		{name: "empty", in: "", empty: true},
		{name: "syntax error", in: "a: 1\nb: c: d\n", line: 2, msg: "invalid YAML: mapping values are not allowed in this context"},
		{name: "two documents", in: "a: 1\n---\nb: 2\n", line: 2, msg: "more than one YAML document", multi: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := Decode([]byte(tt.in))
			if tt.msg == "" {
				if err != nil || (doc == nil) != tt.empty {
					t.Fatalf("Decode = %v, %v", doc, err)
				}
				return
			}
			var p *Problem
			if !errors.As(err, &p) || p.Line != tt.line || p.Msg != tt.msg || p.MultipleDocuments != tt.multi {
				t.Fatalf("error %#v, want line %d %q multi=%v", err, tt.line, tt.msg, tt.multi)
			}
		})
	}
}

func TestDerefStopsOnCycles(t *testing.T) {
	doc, err := Decode([]byte("a: &x [1]\nb: *x\n"))
	if err != nil {
		t.Fatal(err)
	}
	b := doc.Content[0].Content[3]
	if got := Deref(b); got == nil || got.Kind == 0 || IsNull(got) {
		t.Errorf("Deref(*x) = %#v", got)
	}
	if !IsNull(nil) {
		t.Error("IsNull(nil) must be true")
	}
}
