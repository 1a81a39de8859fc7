package config

import (
	"os"
	"testing"
)

// BenchmarkParseExample measures parsing the documented example, a
// realistic configuration with five channels.
func BenchmarkParseExample(b *testing.B) {
	doc, err := os.ReadFile(examplePath)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if _, err := Parse("kubedrift.yaml", doc); err != nil {
			b.Fatal(err)
		}
	}
}
