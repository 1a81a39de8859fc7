package tracker

import (
	"regexp"
	"strings"
	"testing"
)

// The regular-expression grammar ParseVersion's scanner implements; the fuzz
// target below checks the two agree on every input.
var (
	oracleCore   = regexp.MustCompile(`^v?(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})`)
	oraclePre    = regexp.MustCompile(`^-((?:alpha|beta|rc)\.(?:0|[1-9][0-9]{0,8}))`)
	oracleSuffix = regexp.MustCompile(`^(?:-[0-9A-Za-z.-]*[0-9A-Za-z]|)(?:\+[0-9A-Za-z.-]*[0-9A-Za-z])?$`)
)

func oracleParse(s string) (core, pre, suffix string, ok bool) {
	s = strings.TrimSpace(s)
	m := oracleCore.FindString(s)
	if m == "" {
		return "", "", "", false
	}
	rest := s[len(m):]
	if p := oraclePre.FindStringSubmatch(rest); p != nil {
		next := rest[len(p[0]):]
		if next == "" || next[0] == '+' || next[0] == '-' {
			pre, rest = p[1], next
		}
	}
	if !oracleSuffix.MatchString(rest) {
		return "", "", "", false
	}
	return strings.TrimPrefix(m, "v"), pre, rest, true
}

func FuzzParseVersionGrammar(f *testing.F) {
	for _, s := range []string{"v1.25.4", "1.2.3-rc.1+x", "v1.2.3-rc.01", "v1.2.3-", "v1.2.3-a..b", "v1.2.3+-", "v01.2.3", "v1.2.3-rc.1x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseVersion(s)
		core, pre, suffix, ok := oracleParse(s)
		if (err == nil) != ok {
			t.Fatalf("%q: scanner ok=%v, grammar ok=%v (%v)", s, err == nil, ok, err)
		}
		if ok && (strings.TrimPrefix(v.Core(), "v") != strings.TrimSuffix(core+"-"+pre, "-") || v.Pre != pre || v.Suffix != suffix) {
			t.Fatalf("%q: scanner %s %q %q, grammar %s %q %q", s, v.Core(), v.Pre, v.Suffix, core, pre, suffix)
		}
	})
}
