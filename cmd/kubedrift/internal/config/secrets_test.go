package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const secretsDoc = `api_token_file: api-token
upstream:
  github_token_env: GH_TOKEN
channels:
  - name: hook
    type: slack
    slack:
      webhook_url_file: slack-url
  - name: bot
    type: slack
    slack: {token_env: SLACK_TOKEN, channel: "#ops"}
  - name: mail
    type: email
    email:
      host: smtp.example.com
      username: kd
      password_file: smtp-password
      from: kd@example.com
      to: [ops@example.com]
  - name: signed
    type: webhook
    webhook:
      url_env: HOOK_URL
      secret_file: hook-secret
  - name: log
    type: stdout
`

// Values chosen to be unmistakable in any output.
const (
	apiToken   = "api-S3CRET-0001"
	ghToken    = "ghp_S3CRET0002"
	slackURL   = "https://hooks.slack.example/services/S3CRET0003"
	slackToken = "xoxb-S3CRET-0004"
	smtpPass   = "smtp S3CRET 0005"
	hookURL    = "https://receiver.example/in?key=S3CRET0006"
	hookSecret = "hmac-S3CRET-0007"
)

var allSecrets = []string{apiToken, ghToken, slackURL, slackToken, smtpPass, hookURL, hookSecret, "S3CRET"}

func secretsConfig(t *testing.T) (*Config, string) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "kubedrift.yaml")
	if err := os.WriteFile(path, []byte(secretsDoc), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return c, dir
}

func writeSecrets(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, v := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func goodFiles() map[string]string {
	return map[string]string{
		"api-token":     apiToken + "\n",
		"slack-url":     "  " + slackURL + "\n",
		"smtp-password": smtpPass + "\r\n",
		"hook-secret":   hookSecret,
	}
}

func goodEnv() map[string]string {
	return map[string]string{"GH_TOKEN": ghToken, "SLACK_TOKEN": slackToken + "\n", "HOOK_URL": hookURL}
}

func TestResolveSecrets(t *testing.T) {
	c, dir := secretsConfig(t)
	writeSecrets(t, dir, goodFiles())
	env := goodEnv()
	s, err := c.ResolveSecrets(func(k string) string { return env[k] }, os.ReadFile)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct{ name, got, want string }{
		{"api token", s.APIToken, apiToken},
		{"github token", s.GitHubToken, ghToken},
		{"slack url, trimmed", s.Channel["hook"].SlackWebhookURL, slackURL},
		{"slack token, trimmed", s.Channel["bot"].SlackToken, slackToken},
		{"smtp password keeps inner spaces", s.Channel["mail"].SMTPPassword, smtpPass},
		{"webhook url", s.Channel["signed"].WebhookURL, hookURL},
		{"webhook secret", s.Channel["signed"].WebhookSecret, hookSecret},
	}
	for _, ck := range checks {
		t.Run(ck.name, func(t *testing.T) {
			if ck.got != ck.want {
				t.Errorf("got %q, want %q", ck.got, ck.want)
			}
		})
	}
	for _, out := range []string{s.String(), fmt.Sprint(s), fmt.Sprintf("%+v", s), fmt.Sprintf("%#v", s), fmt.Sprint(c), fmt.Sprintf("%+v", *c)} {
		for _, v := range allSecrets {
			if strings.Contains(out, v) {
				t.Errorf("printed secrets reveal %q: %s", v, out)
			}
		}
	}
}

func TestResolveSecretsProblems(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(files, env map[string]string)
		wants []string // substrings of the joined error, one per problem
	}{
		{"missing file", func(f, e map[string]string) { delete(f, "hook-secret") },
			[]string{`kubedrift.yaml:24: channel "signed": webhook.secret_file: read secret file: open `, "hook-secret: no such file"}},
		{"empty file", func(f, e map[string]string) { f["api-token"] = " \n" },
			[]string{"kubedrift.yaml:1: api_token_file: secret file ", "api-token is empty"}},
		{"unset env", func(f, e map[string]string) { delete(e, "SLACK_TOKEN") },
			[]string{`kubedrift.yaml:11: channel "bot": slack.token_env: environment variable SLACK_TOKEN is not set or empty`}},
		{"explicit github env unset", func(f, e map[string]string) { delete(e, "GH_TOKEN") },
			[]string{"kubedrift.yaml:3: upstream.github_token_env: environment variable GH_TOKEN is not set or empty"}},
		{"webhook url not a URL", func(f, e map[string]string) { e["HOOK_URL"] = "ftp://receiver.example/S3CRET0006" },
			[]string{`kubedrift.yaml:23: channel "signed": webhook.url_env: the secret is not an http or https URL`}},
		{"slack url not a URL", func(f, e map[string]string) { f["slack-url"] = "S3CRET0003 %zz" },
			[]string{`kubedrift.yaml:8: channel "hook": slack.webhook_url_file: the secret is not an http or https URL`}},
		{"every problem at once", func(f, e map[string]string) {
			delete(f, "smtp-password")
			delete(e, "HOOK_URL")
			f["hook-secret"] = ""
		}, []string{"email.password_file: read secret file", "webhook.url_env: environment variable HOOK_URL", "webhook.secret_file: secret file "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, dir := secretsConfig(t)
			files, env := goodFiles(), goodEnv()
			tt.edit(files, env)
			writeSecrets(t, dir, files)
			_, err := c.ResolveSecrets(func(k string) string { return env[k] }, os.ReadFile)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if n := len(problems(t, err)); n != len(tt.wants) && tt.name == "every problem at once" {
				t.Errorf("%d problems, want %d:\n%s", n, len(tt.wants), msg)
			}
			for _, w := range tt.wants {
				if !strings.Contains(msg, w) {
					t.Errorf("error does not contain %q:\n%s", w, msg)
				}
			}
			for _, v := range allSecrets {
				if strings.Contains(msg, v) {
					t.Errorf("error reveals %q:\n%s", v, msg)
				}
			}
		})
	}
}

func TestResolveSecretsGitHubDefault(t *testing.T) {
	tests := []struct {
		name, doc, env, want string
	}{
		{"default variable set", "", "tok-default", "tok-default"},
		{"default variable unset is fine", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("k.yaml", []byte(tt.doc))
			if err != nil {
				t.Fatal(err)
			}
			s, err := c.ResolveSecrets(func(k string) string {
				if k == DefaultGitHubTokenEnv {
					return tt.env
				}
				return ""
			}, func(string) ([]byte, error) { t.Fatal("no file to read"); return nil, nil })
			if err != nil || s.GitHubToken != tt.want {
				t.Errorf("got %q, %v; want %q", s.GitHubToken, err, tt.want)
			}
		})
	}
}

func TestCheckFiles(t *testing.T) {
	dir := t.TempDir()
	writeSecrets(t, dir, map[string]string{
		"fleet.yaml": "clusters: []\n",
		"kubeconfig": "apiVersion: v1\nkind: Config\n",
		"api-token":  apiToken,
		"gh-token":   "\n",
	})
	if err := os.Mkdir(filepath.Join(dir, "adir"), 0o700); err != nil {
		t.Fatal(err)
	}
	doc := `api_token_file: api-token
clusters:
  kubeconfig: [kubeconfig, adir]
  inventory:
    - fleet.yaml
    - missing-fleet.yaml
upstream:
  github_token_file: gh-token
channels:
  - name: hook
    type: webhook
    webhook: {url_file: no-such-url, secret_env: S}
`
	path := filepath.Join(dir, "kd.yaml")
	writeSecrets(t, dir, map[string]string{"kd.yaml": doc})
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	got := problems(t, c.CheckFiles())
	want := []string{
		path + ":3: clusters.kubeconfig[1]: " + filepath.Join(dir, "adir") + " is a directory, want a file",
		path + ":6: clusters.inventory[1]: cannot open: open " + filepath.Join(dir, "missing-fleet.yaml") + ": no such file or directory",
		path + ":8: upstream.github_token_file: secret file " + filepath.Join(dir, "gh-token") + " is empty",
		path + `:12: channel "hook": webhook.url_file: cannot open: open ` + filepath.Join(dir, "no-such-url") + ": no such file or directory",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, g := range got {
		if strings.Contains(g, apiToken) {
			t.Errorf("reveals a secret: %s", g)
		}
	}

	t.Run("all present", func(t *testing.T) {
		writeSecrets(t, dir, map[string]string{"gh-token": "tok", "missing-fleet.yaml": "clusters: []\n", "no-such-url": "https://x.example/"})
		c.Clusters.Kubeconfig = c.Clusters.Kubeconfig[:1]
		if err := c.CheckFiles(); err != nil {
			t.Error(err)
		}
	})
}
