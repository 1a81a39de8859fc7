package slack

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestPlainMarkdown(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"attribution", "Fixed scheduling of **CronJob** with `@every X` schedules. ([#109250](https://github.com/kubernetes/kubernetes/pull/109250), [@d-honey](https://github.com/d-honey))", "Fixed scheduling of CronJob with `@every X` schedules."},
		{"attribution with SIG", "Removed the thing. ([#1](https://github.com/kubernetes/kubernetes/pull/1), [@a](https://github.com/a)) [SIG Node and Apps]", "Removed the thing."},
		{"plain attribution", "Removed the thing. (#104912, @gnufied)", "Removed the thing."},
		{"inline link", "See [the KEP](https://github.com/kubernetes/enhancements/issues/1) first", "See the KEP first"},
		{"code untouched", "Use `**/*.yaml` and `[x](y)` globs", "Use `**/*.yaml` and `[x](y)` globs"},
		{"disguised link keeps its label only", "[click](https://evil.example)", "click"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := plainMarkdown(tt.in); got != tt.want {
				t.Errorf("plainMarkdown(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// Any input escapes to text with no raw < or >, whose every & starts an
// entity, and truncates within the limit without splitting an entity.
func FuzzEscapeTruncate(f *testing.F) {
	f.Add("<!channel> & <@U1> `code", 10)
	f.Add("&lt;&amp;&gt;", 4)
	f.Add("ééé_*~`", 3)
	f.Fuzz(func(t *testing.T, s string, max int) {
		max = 3 + int(uint(max)%3000)
		for _, out := range []string{escape(s), truncate(escape(s), max)} {
			if strings.ContainsAny(out, "<>") {
				t.Fatalf("raw angle bracket in %q", out)
			}
			for i := strings.IndexByte(out, '&'); i >= 0; i = nextAmp(out, i) {
				if tail := out[i:]; !strings.HasPrefix(tail, "&amp;") && !strings.HasPrefix(tail, "&lt;") && !strings.HasPrefix(tail, "&gt;") {
					t.Fatalf("bare & in %q", out)
				}
			}
			if !utf8.ValidString(out) {
				t.Fatalf("invalid UTF-8 from %q", s)
			}
		}
		if n := utf8.RuneCountInString(truncate(escape(s), max)); n > max {
			t.Fatalf("truncate to %d gave %d runes", max, n)
		}
	})
}
