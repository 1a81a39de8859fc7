package config

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/robfig/cron/v3"
	"go.yaml.in/yaml/v3"

	"github.com/kubedrift/kubedrift/tracker"
)

// Defaults returns the configuration of an empty file.
func Defaults() *Config {
	return &Config{
		Listen: DefaultListen,
		Log:    Log{Level: DefaultLogLevel, Format: DefaultLogFormat},
		Clusters: Clusters{
			Concurrency: DefaultConcurrency,
			Timeout:     Duration{DefaultClusterTimeout},
		},
		Upstream: Upstream{
			GitHubTokenEnv:  DefaultGitHubTokenEnv,
			CVEFeedURL:      DefaultCVEFeedURL,
			ChangelogMinors: DefaultChangelogMinors,
		},
		Schedules: Schedules{
			Sync:       DefaultSyncSchedule,
			Scan:       DefaultScanSchedule,
			Digest:     DefaultDigestSchedule,
			TimeZone:   DefaultTimeZone,
			SyncJitter: Duration{DefaultSyncJitter},
		},
		Advisories: Advisories{
			EOLWarnDays:      slices.Clone(DefaultEOLWarnDays),
			UnreachableAfter: Duration{DefaultUnreachable},
			FailingAfter:     Duration{DefaultFailingAfter},
		},
	}
}

// Parse reads a configuration document; name identifies it in messages. Keys
// left out take their defaults (an empty document is all defaults).
//
// Parse is strict: unknown keys, values of the wrong shape, invalid cron
// specs, durations, zones, kinds, severities and channel types, channels
// without a destination, and secrets written inline are all problems. Every
// problem is reported, each as a *Error "name:line: message", joined in file
// order; with any problem the Config is nil. Parse touches neither the disk
// nor the environment: see CheckFiles and ResolveSecrets.
func Parse(name string, b []byte) (*Config, error) {
	p := &parser{file: name, lines: map[string]int{}}
	c := Defaults()
	c.File = name
	root, err := p.decode(b)
	if err != nil {
		return nil, err
	}
	if root != nil {
		p.top(root, c)
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	c.lines = p.lines
	return c, nil
}

var topKeys = []string{"store", "listen", "api_token_file", "api_token_env", "log", "clusters", "upstream", "schedules", "advisories", "channels"}

func (p *parser) top(root *yaml.Node, c *Config) {
	var tokFile, tokEnv *field
	for _, f := range p.fields(root, 1, "", topKeys, map[string]string{"api_token": "api_token"}) {
		switch f.key {
		case "store":
			c.Store, _ = p.str(f)
			p.lines[f.path] = f.valueLine()
		case "listen":
			s, ok := p.str(f)
			if ok {
				if err := checkListen(s); err != nil {
					p.add(f.valueLine(), "listen: invalid address %q: %v", s, err)
				} else {
					c.Listen = s
				}
			}
		case "api_token_file":
			tokFile = &f
			c.APITokenFile, _ = p.secretSource(f)
		case "api_token_env":
			tokEnv = &f
			c.APITokenEnv, _ = p.secretSource(f)
		case "log":
			p.log(f, &c.Log)
		case "clusters":
			p.clusters(f, &c.Clusters)
		case "upstream":
			p.upstream(f, &c.Upstream)
		case "schedules":
			p.schedules(f, &c.Schedules)
		case "advisories":
			p.advisories(f, &c.Advisories)
		case "channels":
			p.channels(f, c)
		}
	}
	p.oneOf("", tokFile, tokEnv)
}

func checkListen(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("want host:port, like 127.0.0.1:9090")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("port %q is not a number from 0 to 65535", port)
	}
	if strings.ContainsAny(host, " /") {
		return fmt.Errorf("host %q is not a host name or IP address", host)
	}
	return nil
}

// enum reads a string that must be one of want (case-insensitive, stored in
// lower case).
func (p *parser) enum(f field, what string, want []string) (string, bool) {
	s, ok := p.str(f)
	if !ok {
		return "", false
	}
	if l := strings.ToLower(s); slices.Contains(want, l) {
		return l, true
	}
	p.add(f.valueLine(), "%s: unknown %s %q (want one of %s)", f.path, what, s, strings.Join(want, ", "))
	return "", false
}

func (p *parser) log(f field, l *Log) {
	for _, g := range p.fields(f.value, f.line, f.path, []string{"level", "format"}, nil) {
		switch g.key {
		case "level":
			if s, ok := p.enum(g, "level", []string{"debug", "info", "warn", "error"}); ok {
				l.Level = s
			}
		case "format":
			if s, ok := p.enum(g, "format", []string{"text", "json"}); ok {
				l.Format = s
			}
		}
	}
}

var clusterKeys = []string{"kubeconfig", "contexts", "all_contexts", "in_cluster", "inventory", "concurrency", "timeout"}

func (p *parser) clusters(f field, c *Clusters) {
	var contexts, all *field
	for _, g := range p.fields(f.value, f.line, f.path, clusterKeys, nil) {
		switch g.key {
		case "kubeconfig":
			c.Kubeconfig, _ = p.strList(g)
		case "contexts":
			c.Contexts, _ = p.strList(g)
			if len(c.Contexts) > 0 {
				contexts = &g
			}
		case "all_contexts":
			c.AllContexts, _ = p.boolean(g)
			if c.AllContexts {
				all = &g
			}
		case "in_cluster":
			c.InCluster, _ = p.boolean(g)
		case "inventory":
			c.Inventory, _ = p.strList(g)
		case "concurrency":
			if n, ok := p.integer(g, 1, 1000); ok {
				c.Concurrency = n
			}
		case "timeout":
			if d, ok := p.duration(g, false); ok {
				c.Timeout = d
			}
		}
	}
	if contexts != nil && all != nil {
		p.add(max(contexts.line, all.line), "clusters: contexts and all_contexts are both set; list contexts or read them all")
	}
}

var upstreamKeys = []string{"github_api_url", "github_token_file", "github_token_env", "extra_repos", "osv_urls", "cve_feed_url", "changelog_minors", "offline"}

var repoRe = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?/[A-Za-z0-9._-]+$`)

func (p *parser) upstream(f field, u *Upstream) {
	var tokFile, tokEnv *field
	for _, g := range p.fields(f.value, f.line, f.path, upstreamKeys, map[string]string{"github_token": "github_token"}) {
		switch g.key {
		case "github_api_url":
			u.GitHubAPIURL, _ = p.httpURL(g, true)
		case "github_token_file":
			tokFile = &g
			u.GitHubTokenFile, _ = p.secretSource(g)
		case "github_token_env":
			tokEnv = &g
			u.GitHubTokenEnv, _ = p.secretSource(g)
		case "extra_repos":
			repos, _ := p.strList(g)
			for i, r := range repos {
				if !repoRe.MatchString(r) {
					p.add(p.lines[fmt.Sprintf("%s[%d]", g.path, i)], "%s: %q is not an owner/repo name", g.path, r)
					continue
				}
				u.ExtraRepos = append(u.ExtraRepos, r)
			}
		case "osv_urls":
			items, _ := p.list(g)
			for i, it := range items {
				h := field{key: g.key, path: fmt.Sprintf("%s[%d]", g.path, i), line: g.line, value: it}
				if s, ok := p.httpURL(h, false); ok {
					u.OSVURLs = append(u.OSVURLs, s)
				}
			}
		case "cve_feed_url":
			// An explicit empty value turns the feed off.
			u.CVEFeedURL, _ = p.httpURL(g, true)
		case "changelog_minors":
			if n, ok := p.integer(g, 1, 100); ok {
				u.ChangelogMinors = n
			}
		case "offline":
			u.Offline, _ = p.boolean(g)
		}
	}
	if p.oneOf(f.path, tokFile, tokEnv) && tokFile != nil {
		// A token file replaces the environment default.
		u.GitHubTokenEnv = ""
	}
}

// httpURL reads an absolute http(s) URL; "" is accepted when emptyOK.
func (p *parser) httpURL(f field, emptyOK bool) (string, bool) {
	s, ok := p.str(f)
	if !ok {
		return "", false
	}
	if s == "" {
		if !emptyOK {
			p.add(f.valueLine(), "%s: is empty", f.path)
		}
		return "", emptyOK
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		p.add(f.valueLine(), "%s: %q is not an http or https URL", f.path, s)
		return "", false
	}
	return s, true
}

func (p *parser) schedules(f field, s *Schedules) {
	for _, g := range p.fields(f.value, f.line, f.path, []string{"sync", "scan", "digest", "time_zone", "sync_jitter"}, nil) {
		switch g.key {
		case "sync", "scan", "digest":
			spec, ok := p.cronSpec(g)
			if !ok {
				continue
			}
			switch g.key {
			case "sync":
				s.Sync = spec
			case "scan":
				s.Scan = spec
			case "digest":
				s.Digest = spec
			}
		case "time_zone":
			name, ok := p.str(g)
			if !ok {
				continue
			}
			if _, err := tzLocation(name); err != nil {
				p.add(g.valueLine(), "%s: unknown time zone %q (want an IANA name like Europe/Berlin, or UTC)", g.path, name)
				continue
			}
			s.TimeZone = name
		case "sync_jitter":
			if d, ok := p.duration(g, true); ok {
				s.SyncJitter = d
			}
		}
	}
}

func (p *parser) cronSpec(f field) (string, bool) {
	s, ok := p.str(f)
	if !ok {
		return "", false
	}
	if s == "" {
		p.add(f.valueLine(), "%s: is empty (want a cron spec like \"0 * * * *\" or \"@every 30m\")", f.path)
		return "", false
	}
	if err := parseCron(s); err != nil {
		p.add(f.valueLine(), "%s: invalid cron spec %q: %v", f.path, s, err)
		return "", false
	}
	return s, true
}

// parseCron validates a spec the way the scheduler will read it.
func parseCron(s string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("cron parser failure: %v", r)
		}
	}()
	_, err = cron.ParseStandard(s)
	return err
}

func (p *parser) advisories(f field, a *Advisories) {
	for _, g := range p.fields(f.value, f.line, f.path, []string{"target", "eol_warn_days", "unreachable_after", "failing_after"}, nil) {
		switch g.key {
		case "target":
			s, ok := p.str(g)
			if !ok || s == "" {
				continue
			}
			if err := checkTarget(s); err != nil {
				p.add(g.valueLine(), "%s: invalid target %q: want a minor like 1.27 or a version like v1.27.4", g.path, s)
				continue
			}
			a.Target = s
		case "eol_warn_days":
			items, ok := p.list(g)
			if !ok {
				continue
			}
			var days []int
			for i, it := range items {
				h := field{key: g.key, path: fmt.Sprintf("%s[%d]", g.path, i), line: g.line, value: it}
				n, ok := p.integer(h, 1, 3650)
				if !ok {
					continue
				}
				if slices.Contains(days, n) {
					p.add(h.valueLine(), "%s: %d is listed twice", g.path, n)
					continue
				}
				days = append(days, n)
			}
			slices.SortFunc(days, func(x, y int) int { return y - x })
			a.EOLWarnDays = days
		case "unreachable_after":
			if d, ok := p.duration(g, false); ok {
				a.UnreachableAfter = d
			}
		case "failing_after":
			if d, ok := p.duration(g, false); ok {
				a.FailingAfter = d
			}
		}
	}
}

func checkTarget(s string) error {
	if strings.HasPrefix(s, "v") || strings.Count(s, ".") >= 2 {
		_, err := tracker.ParseVersion(s)
		return err
	}
	_, err := tracker.ParseMinor(s)
	return err
}
