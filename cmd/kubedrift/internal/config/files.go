package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// CheckFiles does the checks that need the disk, so that a bad path fails
// at startup rather than at the first scan: kubeconfig and inventory files
// exist and are readable, and secret files are readable and not empty. Every
// problem is reported as a *Error naming the config line; secret file
// contents never appear.
func (c *Config) CheckFiles() error {
	var errs []error
	fail := func(key string, cause error, format string, args ...any) {
		errs = append(errs, &Error{File: c.File, Line: c.line(key), Msg: key + ": " + fmt.Sprintf(format, args...), Err: cause})
	}
	readable := func(key, path string) {
		f, err := os.Open(path)
		if err != nil {
			fail(key, err, "cannot open")
			return
		}
		defer f.Close()
		st, err := f.Stat()
		switch {
		case err != nil:
			fail(key, err, "cannot stat %s", path)
		case st.IsDir():
			fail(key, nil, "%s is a directory, want a file", path)
		default:
			// Opening can succeed where reading fails (unreadable mounts).
			if _, err := f.Read(make([]byte, 1)); err != nil && !errors.Is(err, io.EOF) {
				fail(key, err, "cannot read %s", path)
			}
		}
	}
	secret := func(key, path string) {
		if path == "" {
			return
		}
		readable(key, path)
		if b, err := os.ReadFile(path); err == nil && len(bytes.TrimSpace(b)) == 0 {
			fail(key, nil, "secret file %s is empty", path)
		}
	}
	for i, p := range c.Clusters.Kubeconfig {
		readable(fmt.Sprintf("clusters.kubeconfig[%d]", i), p)
	}
	for i, p := range c.Clusters.Inventory {
		readable(fmt.Sprintf("clusters.inventory[%d]", i), p)
	}
	secret("api_token_file", c.APITokenFile)
	secret("upstream.github_token_file", c.Upstream.GitHubTokenFile)
	for _, ch := range c.Channels {
		what := fmt.Sprintf("channel %q", ch.Name)
		if s := ch.Slack; s != nil {
			secret(sub(what, "slack.webhook_url_file"), s.WebhookURLFile)
			secret(sub(what, "slack.token_file"), s.TokenFile)
		}
		if e := ch.Email; e != nil {
			secret(sub(what, "email.password_file"), e.PasswordFile)
		}
		if w := ch.Webhook; w != nil {
			secret(sub(what, "webhook.url_file"), w.URLFile)
			secret(sub(what, "webhook.secret_file"), w.SecretFile)
		}
	}
	return errors.Join(errs...)
}
