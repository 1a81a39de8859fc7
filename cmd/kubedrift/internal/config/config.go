package config

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	// The service often runs in minimal images without a zoneinfo database;
	// embed one so that schedules.time_zone works everywhere.
	_ "time/tzdata"

	"github.com/kubedrift/kubedrift/tracker"
)

// Defaults applied by Parse to keys the file leaves out.
const (
	DefaultListen          = "127.0.0.1:9090"
	DefaultLogLevel        = "info"
	DefaultLogFormat       = "text"
	DefaultConcurrency     = 8
	DefaultClusterTimeout  = 15 * time.Second
	DefaultGitHubTokenEnv  = "GITHUB_TOKEN"
	DefaultCVEFeedURL      = "https://kubernetes.io/docs/reference/issues-security/official-cve-feed/index.json"
	DefaultChangelogMinors = 8
	DefaultSyncSchedule    = "0 * * * *"
	DefaultScanSchedule    = "*/15 * * * *"
	DefaultDigestSchedule  = "0 9 * * 1"
	DefaultTimeZone        = "UTC"
	DefaultSyncJitter      = 5 * time.Minute
	DefaultUnreachable     = time.Hour
	DefaultFailingAfter    = 6 * time.Hour
)

// DefaultEOLWarnDays are the days before end of life at which an EOL
// advisory is raised (again).
var DefaultEOLWarnDays = []int{60, 30, 7}

// MaxFileSize bounds what Load reads; real configurations are a few
// kilobytes.
const MaxFileSize = 1 << 20

// Channel types.
const (
	TypeSlack   = "slack"
	TypeEmail   = "email"
	TypeWebhook = "webhook"
	TypeStdout  = "stdout"
)

// ChannelTypes lists the values a channel's type accepts.
var ChannelTypes = []string{TypeSlack, TypeEmail, TypeWebhook, TypeStdout}

// Config is the whole service configuration. It holds no secret values, only
// where to read them from.
type Config struct {
	// File is the name the configuration was parsed under, for messages.
	File string
	// Store is the store path; "" means the default location.
	Store string
	// Listen is the address of the HTTP server (/metrics, /healthz, /api).
	Listen string
	// APITokenFile or APITokenEnv (at most one) hold the bearer token /api
	// requires; with neither, /api is open to whoever reaches Listen.
	APITokenFile string
	APITokenEnv  string
	Log          Log
	Clusters     Clusters
	Upstream     Upstream
	Schedules    Schedules
	Advisories   Advisories
	Channels     []Channel

	// lines records where paths and secret sources were written, so that
	// CheckFiles and ResolveSecrets can point at them. Keys are dotted paths
	// ("clusters.inventory[1]", "channel ops.slack.webhook_url_file").
	lines map[string]int
}

// Log configures the service's own logs.
type Log struct {
	Level  string // debug, info, warn or error
	Format string // text or json
}

// Clusters says which clusters to watch; sources combine.
type Clusters struct {
	// Kubeconfig files; relative paths are relative to the config file.
	Kubeconfig []string
	// Contexts to read, or AllContexts for every one (not both).
	Contexts    []string
	AllContexts bool
	// InCluster reads the cluster kubedrift runs in through its service
	// account.
	InCluster bool
	// Inventory files describe clusters kubedrift cannot reach.
	Inventory   []string
	Concurrency int
	Timeout     Duration
}

// Upstream says where upstream data comes from.
type Upstream struct {
	// GitHubAPIURL is "" for api.github.com, or a GitHub Enterprise base.
	GitHubAPIURL string
	// GitHubTokenFile, else the variable GitHubTokenEnv, holds an optional
	// token; without one kubedrift makes unauthenticated (rate-limited) calls.
	GitHubTokenFile string
	GitHubTokenEnv  string
	// ExtraRepos are "owner/repo" projects whose releases are tracked too.
	ExtraRepos []string
	OSVURLs    []string
	// CVEFeedURL is the official Kubernetes CVE feed; "" skips it.
	CVEFeedURL string
	// ChangelogMinors is how many of the newest minors get their CHANGELOG
	// refreshed each sync.
	ChangelogMinors int
	// Offline skips every upstream call: the store and the embedded snapshot
	// are all there is (air-gapped sites, which import bundles instead).
	Offline bool
}

// Schedules are cron specs (five fields, or descriptors such as "@hourly"
// and "@every 30m") evaluated in TimeZone.
type Schedules struct {
	Sync   string // refresh from upstream
	Scan   string // read the clusters and raise advisories
	Digest string // the weekly email digest
	// TimeZone is an IANA zone name ("Europe/Berlin") or "UTC".
	TimeZone string
	// SyncJitter delays each sync by a random amount up to this, so that
	// many installations do not call GitHub in the same second.
	SyncJitter Duration
}

// Location returns the zone the schedules run in. Parse has validated
// TimeZone; an invalid one (a hand-built Config) falls back to UTC.
func (s Schedules) Location() *time.Location {
	loc, err := time.LoadLocation(s.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Advisories tunes when advisories are raised.
type Advisories struct {
	// Target is the upgrade target: a minor ("1.27"), a version ("v1.27.4"),
	// or "" for the latest stable release.
	Target string
	// EOLWarnDays are the days before end of life that raise an advisory,
	// sorted from the farthest.
	EOLWarnDays []int
	// UnreachableAfter is how long a cluster may fail to answer before an
	// unreachable advisory is raised.
	UnreachableAfter Duration
	// FailingAfter is how long a job (sync, scan) may keep failing before
	// kubedrift raises an advisory about itself.
	FailingAfter Duration
}

// Channel is one destination for advisories, with the filters that choose
// what it hears about.
type Channel struct {
	Name string
	Type string // one of ChannelTypes
	// Kinds it receives; Parse fills in every kind when the file names none.
	Kinds []tracker.AdvisoryKind
	// MinSeverity is the least urgent severity it receives (default info).
	MinSeverity tracker.Severity
	// Clusters restricts it to these cluster names; empty means all.
	Clusters []string
	// Labels must all match the cluster's labels; empty means all.
	Labels map[string]string
	// Digest (email only) makes the channel receive the weekly digest.
	Digest bool
	// Exactly the block matching Type is set (none for stdout).
	Slack   *Slack
	Email   *Email
	Webhook *Webhook
	// Line is where the channel starts in the file.
	Line int
}

// Slack configures a Slack channel: an incoming webhook URL, or a bot token
// with a Slack channel. Each secret comes from a file or an environment
// variable, never both.
type Slack struct {
	WebhookURLFile string
	WebhookURLEnv  string
	TokenFile      string
	TokenEnv       string
	// Channel is the Slack channel for token mode ("#platform-alerts").
	Channel string
	// APIURL overrides the Slack Web API base (token mode).
	APIURL              string
	Username, IconEmoji string
}

// Email configures SMTP delivery.
type Email struct {
	Host string
	// Port 0 lets the email notifier choose from TLS (587, 465 or 25).
	Port int
	// TLS is starttls (default), starttls-opportunistic, tls or none.
	TLS      string
	Username string
	// PasswordFile or PasswordEnv (at most one) hold the SMTP password.
	PasswordFile  string
	PasswordEnv   string
	From          string
	To            []string
	SubjectPrefix string
}

// Webhook configures a signed JSON webhook. Its URL is a secret too: paths
// and queries often carry tokens.
type Webhook struct {
	URLFile    string
	URLEnv     string
	SecretFile string
	SecretEnv  string
}

// Duration is a time.Duration written as "90s" or "1h" in the file.
type Duration struct{ time.Duration }

// MarshalText writes the duration as "1h0m0s".
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads a Go duration string; negative values are refused.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := parseDuration(string(b))
	if err != nil {
		return err
	}
	d.Duration = v
	return nil
}

func parseDuration(s string) (time.Duration, error) {
	v, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q (want a number with a unit, like 90s or 1h)", s)
	}
	if v < 0 {
		return 0, fmt.Errorf("invalid duration %q: must not be negative", s)
	}
	return v, nil
}

// Load reads the file at path and parses it. Relative file paths in it
// (kubeconfigs, inventories, secret files) are taken relative to the
// directory of path, so a configuration works whatever the working
// directory; a leading "~/" is the user's home directory.
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: read %s: %w", path, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("config: read %s: %w", path, err)
	}
	if len(b) > MaxFileSize {
		return nil, &Error{File: path, Msg: fmt.Sprintf("file larger than %d bytes", MaxFileSize)}
	}
	c, err := Parse(path, b)
	if err != nil {
		return nil, err
	}
	home, _ := os.UserHomeDir()
	c.resolvePaths(filepath.Dir(path), home)
	return c, nil
}

// resolvePaths makes every file path in c absolute-or-relative-to-dir.
func (c *Config) resolvePaths(dir, home string) {
	fix := func(p *string) {
		switch s := *p; {
		case s == "":
		case strings.HasPrefix(s, "~/") && home != "":
			*p = filepath.Join(home, s[2:])
		case !filepath.IsAbs(s):
			*p = filepath.Join(dir, s)
		}
	}
	fix(&c.Store)
	fix(&c.APITokenFile)
	fix(&c.Upstream.GitHubTokenFile)
	for i := range c.Clusters.Kubeconfig {
		fix(&c.Clusters.Kubeconfig[i])
	}
	for i := range c.Clusters.Inventory {
		fix(&c.Clusters.Inventory[i])
	}
	for i := range c.Channels {
		ch := &c.Channels[i]
		if ch.Slack != nil {
			fix(&ch.Slack.WebhookURLFile)
			fix(&ch.Slack.TokenFile)
		}
		if ch.Email != nil {
			fix(&ch.Email.PasswordFile)
		}
		if ch.Webhook != nil {
			fix(&ch.Webhook.URLFile)
			fix(&ch.Webhook.SecretFile)
		}
	}
}

// line returns where key was written, or 0.
func (c *Config) line(key string) int { return c.lines[key] }

// Error is one problem with the configuration. Parse, CheckFiles and
// ResolveSecrets join them with errors.Join. Msg never holds a secret value.
type Error struct {
	File string
	// Line is 1-based; 0 when the problem has no single place.
	Line int
	Msg  string
	// Err is the underlying cause, if any (a file that cannot be read).
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }
