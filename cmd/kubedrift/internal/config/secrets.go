package config

import (
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
)

// Secrets are the values the configuration points at. They must not be
// logged; String and GoString say only which are set.
type Secrets struct {
	GitHubToken string
	APIToken    string
	// Channel is keyed by channel name.
	Channel map[string]ChannelSecrets
}

// ChannelSecrets are one channel's secrets; which are set depends on its
// type.
type ChannelSecrets struct {
	SlackWebhookURL string
	SlackToken      string
	SMTPPassword    string
	WebhookURL      string
	WebhookSecret   string
}

func redact(s string) string {
	if s == "" {
		return "unset"
	}
	return "set"
}

// String describes which secrets are set, never their values.
func (s Secrets) String() string {
	names := make([]string, 0, len(s.Channel))
	for n := range s.Channel {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	fmt.Fprintf(&b, "{GitHubToken:%s APIToken:%s Channel:{", redact(s.GitHubToken), redact(s.APIToken))
	for i, n := range names {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%q:%s", n, s.Channel[n])
	}
	b.WriteString("}}")
	return b.String()
}

// GoString is String, so that %#v does not print values either.
func (s Secrets) GoString() string { return s.String() }

// String describes which secrets are set, never their values.
func (c ChannelSecrets) String() string {
	return fmt.Sprintf("{SlackWebhookURL:%s SlackToken:%s SMTPPassword:%s WebhookURL:%s WebhookSecret:%s}",
		redact(c.SlackWebhookURL), redact(c.SlackToken), redact(c.SMTPPassword), redact(c.WebhookURL), redact(c.WebhookSecret))
}

// GoString is String, so that %#v does not print values either.
func (c ChannelSecrets) GoString() string { return c.String() }

// ResolveSecrets reads every secret the configuration names, through getenv
// (os.Getenv) and readFile (os.ReadFile), which tests replace. Values are
// trimmed of surrounding whitespace (files usually end in a newline).
//
// A source that is named must yield a non-empty value, except the GitHub
// token's default variable, which may be unset (unauthenticated calls).
// Every problem is reported, joined, each naming the config line and the
// file or variable, never the value: a secret that is present but malformed
// (a webhook URL that is not http or https) is described, not quoted.
func (c *Config) ResolveSecrets(getenv func(string) string, readFile func(string) ([]byte, error)) (Secrets, error) {
	r := &resolver{c: c, getenv: getenv, readFile: readFile}
	s := Secrets{Channel: map[string]ChannelSecrets{}}
	if c.Upstream.GitHubTokenFile != "" {
		s.GitHubToken = r.get("upstream.github_token_file", c.Upstream.GitHubTokenFile, "", true)
	} else if c.Upstream.GitHubTokenEnv != "" {
		// Only an env name the user wrote must be set; the default may not.
		_, explicit := c.lines["upstream.github_token_env"]
		s.GitHubToken = r.get("upstream.github_token_env", "", c.Upstream.GitHubTokenEnv, explicit)
	}
	if c.APITokenFile != "" || c.APITokenEnv != "" {
		key := "api_token_file"
		if c.APITokenEnv != "" {
			key = "api_token_env"
		}
		s.APIToken = r.get(key, c.APITokenFile, c.APITokenEnv, true)
	}
	for _, ch := range c.Channels {
		var cs ChannelSecrets
		what := fmt.Sprintf("channel %q", ch.Name)
		if sl := ch.Slack; sl != nil {
			if sl.WebhookURLFile != "" || sl.WebhookURLEnv != "" {
				key := sub(what, "slack.webhook_url_"+pick(sl.WebhookURLFile, "file", "env"))
				cs.SlackWebhookURL = r.url(key, r.get(key, sl.WebhookURLFile, sl.WebhookURLEnv, true))
			}
			if sl.TokenFile != "" || sl.TokenEnv != "" {
				cs.SlackToken = r.get(sub(what, "slack.token_"+pick(sl.TokenFile, "file", "env")), sl.TokenFile, sl.TokenEnv, true)
			}
		}
		if e := ch.Email; e != nil && (e.PasswordFile != "" || e.PasswordEnv != "") {
			cs.SMTPPassword = r.get(sub(what, "email.password_"+pick(e.PasswordFile, "file", "env")), e.PasswordFile, e.PasswordEnv, true)
		}
		if w := ch.Webhook; w != nil {
			key := sub(what, "webhook.url_"+pick(w.URLFile, "file", "env"))
			cs.WebhookURL = r.url(key, r.get(key, w.URLFile, w.URLEnv, true))
			cs.WebhookSecret = r.get(sub(what, "webhook.secret_"+pick(w.SecretFile, "file", "env")), w.SecretFile, w.SecretEnv, true)
		}
		s.Channel[ch.Name] = cs
	}
	return s, errors.Join(r.errs...)
}

func pick(file, ifFile, ifEnv string) string {
	if file != "" {
		return ifFile
	}
	return ifEnv
}

type resolver struct {
	c        *Config
	getenv   func(string) string
	readFile func(string) ([]byte, error)
	errs     []error
}

func (r *resolver) fail(key string, cause error, format string, args ...any) {
	r.errs = append(r.errs, &Error{File: r.c.File, Line: r.c.line(key), Msg: key + ": " + fmt.Sprintf(format, args...), Err: cause})
}

// get reads one secret from file, else from the variable env.
func (r *resolver) get(key, file, env string, required bool) string {
	if file != "" {
		b, err := r.readFile(file)
		if err != nil {
			// The cause is the reader's error, which names the path only.
			r.fail(key, err, "read secret file")
			return ""
		}
		v := strings.TrimSpace(string(b))
		if v == "" {
			r.fail(key, nil, "secret file %s is empty", file)
		}
		return v
	}
	v := strings.TrimSpace(r.getenv(env))
	if v == "" && required {
		r.fail(key, nil, "environment variable %s is not set or empty", env)
	}
	return v
}

// url checks that a secret URL is http(s) without echoing it: url.Parse
// errors quote their input.
func (r *resolver) url(key, v string) string {
	if v == "" {
		return ""
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		r.fail(key, nil, "the secret is not an http or https URL")
		return ""
	}
	return v
}
