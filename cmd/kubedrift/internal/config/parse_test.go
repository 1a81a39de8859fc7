package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kubedrift/kubedrift/tracker"
)

// problems splits a joined Parse error into its messages, checking that
// each is a *Error.
func problems(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var list []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		list = j.Unwrap()
	} else {
		list = []error{err}
	}
	var out []string
	for _, e := range list {
		var ce *Error
		if !errors.As(e, &ce) {
			t.Errorf("problem %q is a %T, want *config.Error", e, e)
		}
		out = append(out, e.Error())
	}
	return out
}

func TestParseProblems(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{
		{"unknown-key.yaml", []string{`:3: unknown key "stor" (want one of store, listen, api_token_file, api_token_env, log, clusters, upstream, schedules, advisories, channels)`}},
		{"bad-cron.yaml", []string{`:2: schedules.sync: invalid cron spec "61 * * * *": end of range (61) above maximum (59): 61`}},
		{"duration-without-unit.yaml", []string{`:3: clusters.timeout: invalid duration "15" (want a number with a unit, like 90s or 1h)`}},
		{"bad-duration.yaml", []string{`:2: advisories.failing_after: invalid duration "6 hours" (want a number with a unit, like 90s or 1h)`}},
		{"bad-timezone.yaml", []string{`:2: schedules.time_zone: unknown time zone "Europe/Atlantis" (want an IANA name like Europe/Berlin, or UTC)`}},
		{"bad-listen.yaml", []string{`:1: listen: invalid address "9090": want host:port, like 127.0.0.1:9090`}},
		{"bad-target.yaml", []string{`:2: advisories.target: invalid target "latest": want a minor like 1.27 or a version like v1.27.4`}},
		{"bad-yaml.yaml", []string{`:3: invalid YAML: mapping values are not allowed in this context`}},
		{"two-documents.yaml", []string{`:3: more than one YAML document; kubedrift reads one`}},
		{"wrong-shape.yaml", []string{`:2: clusters: want a mapping, got a list`}},
		{"contexts-and-all.yaml", []string{`:3: clusters: contexts and all_contexts are both set; list contexts or read them all`}},
		{"unknown-kind.yaml", []string{`:4: channel "ops": kinds: unknown kind "upgrades" (want one of security, removal, action-required, eol, skew, new-release, unreachable, kubedrift)`}},
		{"unknown-severity.yaml", []string{`:4: channel "ops": min_severity: unknown severity "urgent" (want one of critical, high, medium, low, info)`}},
		{"unknown-type.yaml", []string{`:3: channel "ops": type: unknown type "teams" (want one of slack, email, webhook, stdout)`}},
		{"missing-type.yaml", []string{`:2: channel "ops": missing type (want one of slack, email, webhook, stdout)`}},
		{"missing-destination.yaml", []string{`:4: channel "ops": slack: missing destination: set webhook_url_file, webhook_url_env, token_file or token_env`}},
		{"missing-block.yaml", []string{`:2: channel "ops": missing destination: type webhook needs a webhook: block`}},
		{"email-no-recipient.yaml", []string{`:4: channel "mail": email: missing destination: set to (at least one recipient)`}},
		{"webhook-no-secret.yaml", []string{`:4: channel "hook": webhook: missing secret: set secret_file or secret_env (receivers check the signature with it)`}},
		{"url-file-and-env.yaml", []string{`:6: channel "hook": webhook: url_file and url_env are both set; use one`}},
		{"duplicate-channel.yaml", []string{`:4: channel "ops": duplicate channel name (first at line 2)`}},
		{"inline-webhook-url.yaml", []string{`:5: channel "ops": slack.webhook_url: secrets must come from *_file or *_env (use webhook_url_file or webhook_url_env)`}},
		{"inline-password.yaml", []string{`:7: channel "mail": email.password: secrets must come from *_file or *_env (use password_file or password_env)`}},
		{"inline-token.yaml", []string{`:2: upstream.github_token: secrets must come from *_file or *_env (use github_token_file or github_token_env)`}},
		{"digest-not-email.yaml", []string{`:4: channel "ops": digest: only email channels receive the digest`}},
		{"block-mismatch.yaml", []string{`:4: channel "ops": slack: block does not match type stdout`}},
		{"secret-in-env-key.yaml", []string{`:5: channel "hook": webhook.url_env: not an environment variable name (letters, digits and _); name the variable here, the secret goes in the environment`}},
		{"not-a-bool.yaml", []string{`:2: clusters.all_contexts: want true or false, got "yes please"`}},
		{"not-a-number.yaml", []string{`:2: clusters.concurrency: want a whole number, got "many"`}},
		{"out-of-range.yaml", []string{`:2: upstream.changelog_minors: 0 is out of range (want 1 to 100)`}},
		{"labels-not-mapping.yaml", []string{`:4: channel "ops": labels: want a mapping, got a list`}},
		{"not-http-url.yaml", []string{`:3: upstream.osv_urls[0]: "file:///srv/osv.zip" is not an http or https URL`}},
		{"token-without-channel.yaml", []string{`:4: channel "bot": slack: token_file/token_env need channel (the Slack channel to post to)`}},
		{"webhook-and-token.yaml", []string{`:4: channel "bot": slack: set a webhook URL or a token, not both`}},
		{"local-timezone.yaml", []string{`:2: schedules.time_zone: unknown time zone "Local" (want an IANA name like Europe/Berlin, or UTC)`}},
		{"duplicate-key.yaml", []string{`:3: duplicate key "log" (first at line 1)`}},
		{"bad-repo.yaml", []string{`:2: upstream.extra_repos: "etcd" is not an owner/repo name`}},
		{"bad-address.yaml", []string{`:6: channel "mail": email.from: invalid address "kubedrift at example": mail: no angle-addr`}},
		{"password-without-username.yaml", []string{`:4: channel "mail": email: a password needs username`}},
		{"eol-days-twice.yaml", []string{`:2: advisories.eol_warn_days: 30 is listed twice`}},
		{"api-token-file-and-env.yaml", []string{`:2: api_token_file and api_token_env are both set; use one`}},
		{"empty-secret-source.yaml", []string{`:2: upstream.github_token_file: is empty`}},
		{"missing-name.yaml", []string{`:2: channels[0]: missing name`}},
		{"empty-cron.yaml", []string{`:2: schedules.digest: is empty (want a cron spec like "0 * * * *" or "@every 30m")`}},
		{"channels-not-list.yaml", []string{`:2: channels: want a list, got a mapping`}},
		{"five-problems.yaml", []string{
			`:4: log.level: unknown level "loud" (want one of debug, info, warn, error)`,
			`:6: schedules.scan: invalid cron spec "every 15 minutes": expected exactly 5 fields, found 3: [every 15 minutes]`,
			`:11: channel "ops": slack.token: secrets must come from *_file or *_env (use token_file or token_env)`,
			`:14: channel "ops": duplicate channel name (first at line 8)`,
			`:17: advisories.unreachable_after: invalid duration "soon" (want a number with a unit, like 90s or 1h)`,
		}},
	}
	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.file] = true
		t.Run(tt.file, func(t *testing.T) {
			name := filepath.Join("testdata", "bad", tt.file)
			b, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			c, err := Parse(name, b)
			if c != nil {
				t.Errorf("Parse returned a config alongside problems")
			}
			got := problems(t, err)
			want := make([]string, len(tt.want))
			for i, w := range tt.want {
				want[i] = name + w
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("problems:\n got %q\nwant %q", got, want)
			}
		})
	}
	// Every fixture is in the table, so none is silently unchecked.
	files, _ := filepath.Glob(filepath.Join("testdata", "bad", "*.yaml"))
	for _, f := range files {
		if !covered[filepath.Base(f)] {
			t.Errorf("fixture %s has no test case", f)
		}
	}
}

// An inline secret, or one pasted into an *_env or *_file key, is never
// echoed back into a message that ends up in logs.
func TestParseDoesNotEchoSecrets(t *testing.T) {
	tests := []struct{ name, doc, secret string }{
		{"pasted into url_env", "channels:\n  - name: h\n    type: webhook\n    webhook:\n      url_env: https://h.example/t0k3n-path\n      secret_env: S\n", "t0k3n-path"},
		{"pasted into url_file", "channels:\n  - name: h\n    type: webhook\n    webhook:\n      url_file: https://h.example/t0k3n-path\n      secret_env: S\n", "t0k3n-path"},
		{"pasted into password_env", "channels:\n  - name: m\n    type: email\n    email: {host: h, username: u, password_env: 'p@ss w0rd!', from: a@b.c, to: [d@e.f]}\n", "w0rd"},
		{"inline token", "upstream:\n  github_token: ghp_s3cr3t\n", "ghp_s3cr3t"},
		{"inline api token", "api_token: s3cr3t-api\n", "s3cr3t-api"},
		{"inline slack token", "channels:\n  - {name: s, type: slack, slack: {token: xoxb-s3cr3t, channel: '#a'}}\n", "xoxb-s3cr3t"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("kubedrift.yaml", []byte(tt.doc))
			if err == nil {
				t.Fatal("Parse accepted a secret where a source belongs")
			}
			if strings.Contains(err.Error(), tt.secret) {
				t.Errorf("error reveals the secret: %v", err)
			}
		})
	}
}

func TestParseDefaults(t *testing.T) {
	for _, doc := range []string{"", "\n", "# only a comment\n", "---\n", "~\n"} {
		t.Run(strings.TrimSpace(doc), func(t *testing.T) {
			c, err := Parse("empty.yaml", []byte(doc))
			if err != nil {
				t.Fatal(err)
			}
			want := Defaults()
			want.File = "empty.yaml"
			want.lines = map[string]int{}
			if !reflect.DeepEqual(c, want) {
				t.Errorf("got %+v\nwant %+v", c, want)
			}
		})
	}
	c, err := Parse("d.yaml", []byte("listen: ':9090'\n"))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"listen", c.Listen, ":9090"},
		{"log", c.Log, Log{Level: "info", Format: "text"}},
		{"concurrency", c.Clusters.Concurrency, 8},
		{"timeout", c.Clusters.Timeout.Duration, 15 * time.Second},
		{"token env", c.Upstream.GitHubTokenEnv, "GITHUB_TOKEN"},
		{"changelog minors", c.Upstream.ChangelogMinors, 8},
		{"sync", c.Schedules.Sync, "0 * * * *"},
		{"scan", c.Schedules.Scan, "*/15 * * * *"},
		{"digest", c.Schedules.Digest, "0 9 * * 1"},
		{"zone", c.Schedules.Location(), time.UTC},
		{"jitter", c.Schedules.SyncJitter.Duration, 5 * time.Minute},
		{"eol days", c.Advisories.EOLWarnDays, []int{60, 30, 7}},
		{"unreachable", c.Advisories.UnreachableAfter.Duration, time.Hour},
		{"failing", c.Advisories.FailingAfter.Duration, 6 * time.Hour},
	}
	for _, ck := range checks {
		t.Run(ck.name, func(t *testing.T) {
			if !reflect.DeepEqual(ck.got, ck.want) {
				t.Errorf("got %v, want %v", ck.got, ck.want)
			}
		})
	}
}

func TestParseValues(t *testing.T) {
	doc := `
store: kd.db
api_token_file: secrets/api
clusters:
  contexts: [prod-eu, prod-us]
  in_cluster: true
  concurrency: 3
  timeout: 1m30s
upstream:
  github_api_url: https://ghe.example.com/api/v3/
  github_token_file: secrets/gh
  osv_urls: [http://127.0.0.1:8080/osv.zip]
  cve_feed_url: ""
  offline: true
schedules:
  sync: "@every 30s"
  scan: "@hourly"
  time_zone: America/New_York
  sync_jitter: 0s
advisories:
  target: "1.30"
  eol_warn_days: [7, 90, 30]
channels:
  - name: mail
    type: EMAIL
    kinds: [eol, eol, security]
    clusters: [prod-eu]
    digest: true
    email:
      host: smtp.example.com
      from: kd@example.com
      to: [a@example.com, "Ops <ops@example.com>"]
  - name: bot
    type: slack
    slack: {token_env: SLACK_TOKEN, channel: "#k8s", api_url: "http://127.0.0.1:1234/api/"}
`
	c, err := Parse("v.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	ny, _ := time.LoadLocation("America/New_York")
	checks := []struct {
		name      string
		got, want any
	}{
		{"store", c.Store, "kd.db"},
		{"contexts", c.Clusters.Contexts, []string{"prod-eu", "prod-us"}},
		{"in cluster", c.Clusters.InCluster, true},
		{"concurrency", c.Clusters.Concurrency, 3},
		{"timeout", c.Clusters.Timeout.Duration, 90 * time.Second},
		{"token file replaces env default", c.Upstream.GitHubTokenEnv, ""},
		{"cve feed off", c.Upstream.CVEFeedURL, ""},
		{"offline", c.Upstream.Offline, true},
		{"descriptor", c.Schedules.Sync, "@every 30s"},
		{"zone", c.Schedules.Location().String(), ny.String()},
		{"zero jitter", c.Schedules.SyncJitter.Duration, time.Duration(0)},
		{"eol days sorted", c.Advisories.EOLWarnDays, []int{90, 30, 7}},
		{"type lower-cased", c.Channels[0].Type, TypeEmail},
		{"kinds deduplicated", c.Channels[0].Kinds, []tracker.AdvisoryKind{tracker.AdvisoryEOL, tracker.AdvisorySecurityFix}},
		{"default kinds", c.Channels[1].Kinds, tracker.AdvisoryKinds},
		{"default severity", c.Channels[1].MinSeverity, tracker.SeverityInfo},
		{"email to", c.Channels[0].Email.To, []string{"a@example.com", "Ops <ops@example.com>"}},
		{"channel line", c.Channels[1].Line, 33},
		{"slack", *c.Channels[1].Slack, Slack{TokenEnv: "SLACK_TOKEN", Channel: "#k8s", APIURL: "http://127.0.0.1:1234/api/"}},
	}
	for _, ck := range checks {
		t.Run(ck.name, func(t *testing.T) {
			if !reflect.DeepEqual(ck.got, ck.want) {
				t.Errorf("got %v, want %v", ck.got, ck.want)
			}
		})
	}
}

// examplePath is the documented example, which must always parse.
const examplePath = "../../../../examples/kubedrift.yaml"

func TestExample(t *testing.T) {
	c, err := Load(examplePath)
	if err != nil {
		t.Fatalf("examples/kubedrift.yaml has problems:\n%v", err)
	}
	if got := c.Schedules.TimeZone; got != "Europe/Berlin" {
		t.Errorf("time zone %q, want Europe/Berlin", got)
	}
	types := map[string]bool{}
	for _, ch := range c.Channels {
		types[ch.Type] = true
	}
	for _, ty := range ChannelTypes {
		if !types[ty] {
			t.Errorf("example has no %s channel", ty)
		}
	}
	// The inventory path is relative to the example, and exists.
	if len(c.Clusters.Inventory) != 1 {
		t.Fatalf("inventory %v, want one file", c.Clusters.Inventory)
	}
	if _, err := os.Stat(c.Clusters.Inventory[0]); err != nil {
		t.Errorf("example inventory: %v", err)
	}
	if !c.Clusters.AllContexts {
		t.Error("example does not read all contexts")
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	t.Run("relative paths follow the file", func(t *testing.T) {
		path := filepath.Join(dir, "kd.yaml")
		doc := "store: state/kd.db\nclusters:\n  inventory: [fleet.yaml, /abs/fleet.yaml]\n"
		if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{filepath.Join(dir, "fleet.yaml"), "/abs/fleet.yaml"}
		if !reflect.DeepEqual(c.Clusters.Inventory, want) || c.Store != filepath.Join(dir, "state/kd.db") {
			t.Errorf("inventory %v store %s", c.Clusters.Inventory, c.Store)
		}
	})
	t.Run("missing file", func(t *testing.T) {
		path := filepath.Join(dir, "absent.yaml")
		_, err := Load(path)
		if err == nil || !strings.Contains(err.Error(), path) || !errors.Is(err, os.ErrNotExist) {
			t.Errorf("got %v, want a not-exist error naming %s", err, path)
		}
	})
	t.Run("too large", func(t *testing.T) {
		path := filepath.Join(dir, "big.yaml")
		if err := os.WriteFile(path, []byte("# "+strings.Repeat("x", MaxFileSize)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "larger than") {
			t.Errorf("got %v, want a size error", err)
		}
	})
}

func TestParseLimitsProblems(t *testing.T) {
	var b strings.Builder
	for i := range 150 {
		b.WriteString("k" + strings.Repeat("x", i%3) + string(rune('a'+i%26)) + "_" + time.Duration(i).String() + ": 1\n")
	}
	_, err := Parse("many.yaml", []byte(b.String()))
	got := problems(t, err)
	if len(got) != maxProblems+1 || !strings.HasSuffix(got[len(got)-1], "50 more problems not listed") {
		t.Errorf("got %d problems, last %q", len(got), got[len(got)-1])
	}
}

func TestDuration(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{"90s", 90 * time.Second, false},
		{"1h30m", 90 * time.Minute, false},
		{"-1s", 0, true},
		{"1d", 0, true},
		{"", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var d Duration
			err := d.UnmarshalText([]byte(tt.in))
			if (err != nil) != tt.wantErr || d.Duration != tt.want {
				t.Errorf("got %v, %v", d, err)
			}
			if err == nil {
				b, _ := d.MarshalText()
				var back Duration
				if back.UnmarshalText(b) != nil || back != d {
					t.Errorf("round trip %q → %v", b, back)
				}
			}
		})
	}
}
