package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"
)

// FuzzParse checks that Parse never panics, that it returns a config or
// problems (never both, never neither), that every problem is a *Error
// naming the file, and that an accepted config holds up its invariants.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "bad", "*.yaml"))
	files = append(files, examplePath)
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(secretsDoc))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse("fuzz.yaml", b)
		if (c == nil) == (err == nil) {
			t.Fatalf("Parse returned config %v and error %v", c != nil, err)
		}
		if err != nil {
			var list []error
			if j, ok := err.(interface{ Unwrap() []error }); ok {
				list = j.Unwrap()
			} else {
				list = []error{err}
			}
			for _, e := range list {
				var ce *Error
				if !errors.As(e, &ce) || ce.File != "fuzz.yaml" || ce.Line < 0 {
					t.Fatalf("problem %q (%T) does not name the file", e, e)
				}
			}
			return
		}
		names := map[string]bool{}
		for _, ch := range c.Channels {
			if ch.Name == "" || names[ch.Name] || !slices.Contains(ChannelTypes, ch.Type) || len(ch.Kinds) == 0 || ch.MinSeverity.Rank() > 4 {
				t.Fatalf("accepted an invalid channel %+v", ch)
			}
			names[ch.Name] = true
			if (ch.Type == TypeSlack) != (ch.Slack != nil) || (ch.Type == TypeEmail) != (ch.Email != nil) || (ch.Type == TypeWebhook) != (ch.Webhook != nil) {
				t.Fatalf("channel %q: blocks do not match type %s", ch.Name, ch.Type)
			}
		}
		for _, spec := range []string{c.Schedules.Sync, c.Schedules.Scan, c.Schedules.Digest} {
			if parseCron(spec) != nil {
				t.Fatalf("accepted cron spec %q", spec)
			}
		}
		if _, err := time.LoadLocation(c.Schedules.TimeZone); err != nil {
			t.Fatalf("accepted time zone %q", c.Schedules.TimeZone)
		}
		if c.Clusters.Concurrency < 1 || c.Clusters.Timeout.Duration <= 0 {
			t.Fatalf("accepted clusters %+v", c.Clusters)
		}
		again, err := Parse("fuzz.yaml", b)
		if err != nil || !reflect.DeepEqual(c, again) {
			t.Fatalf("Parse is not deterministic")
		}
	})
}
