package cve

import (
	"strings"
	"testing"

	"golang.org/x/mod/semver"
)

// FuzzParseOSV checks that no input panics and that whatever is returned is
// well-formed: normalised range bounds and a score within the CVSS scale.
// Seeds live in testdata/fuzz/FuzzParseOSV.
func FuzzParseOSV(f *testing.F) {
	f.Add([]byte(`{"id":"CVE-2099-0001","affected":[{"package":{"name":"k8s.io/kubelet"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.2.3"}]}]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseOSV("fuzz.json", b)
		if c.ID == "" {
			if err == nil {
				t.Fatal("no record and no error")
			}
			return
		}
		if c.Affected == nil {
			t.Error("Affected is nil")
		}
		for _, a := range c.Affected {
			for _, r := range a.Ranges {
				for _, v := range []string{r.Introduced, r.Fixed} {
					if v != "" && (!strings.HasPrefix(v, "v") || !semver.IsValid(v)) {
						t.Errorf("range bound %q not a v-prefixed semantic version", v)
					}
				}
			}
		}
		if c.CVSS != nil && (c.CVSS.Score < 0 || c.CVSS.Score > 10) {
			t.Errorf("score %v outside 0-10", c.CVSS.Score)
		}
	})
}

// FuzzParseFeed checks that no input panics ParseFeed and that every item
// returned carries one well-formed CVE id.
func FuzzParseFeed(f *testing.F) {
	f.Add([]byte(`{"version":"https://jsonfeed.org/version/1.1","items":[{"id":"CVE-2099-0001, CVE-2099-0002","external_url":"x?id=CVE-2099-0001, CVE-2099-0002"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		items, _ := ParseFeed("fuzz.json", b)
		for _, it := range items {
			if !feedIDRe.MatchString(it.ID) {
				t.Errorf("item id %q is not a CVE id", it.ID)
			}
		}
	})
}
