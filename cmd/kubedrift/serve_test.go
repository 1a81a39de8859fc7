package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kubedrift/kubedrift/feeds/github/githubtest"
	"github.com/kubedrift/kubedrift/notify/email/mailpittest"
	"github.com/kubedrift/kubedrift/notify/notifytest"
	"github.com/kubedrift/kubedrift/notify/webhook"
)

// fakeCluster is an API server answering /version and /api/v1/nodes, the two
// calls kubedrift makes to read a cluster, over plain HTTP on loopback.
func fakeCluster(t *testing.T, version string, kubelets ...string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/version":
			fmt.Fprintf(w, `{"major":"1","minor":"24","gitVersion":%q,"platform":"linux/amd64"}`, version)
		case "/api/v1/nodes":
			var items []string
			for i, k := range kubelets {
				items = append(items, fmt.Sprintf(`{"metadata":{"name":"node-%d"},"status":{"nodeInfo":{"kubeletVersion":%q,"kubeProxyVersion":%q,"containerRuntimeVersion":"containerd://1.7.2"}}}`, i, k, k))
			}
			fmt.Fprintf(w, `{"kind":"NodeList","apiVersion":"v1","metadata":{},"items":[%s]}`, strings.Join(items, ","))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func kubeconfigFor(t *testing.T, servers map[string]string) string {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: Config\nclusters:\n")
	for name, url := range servers {
		fmt.Fprintf(&b, "- name: %s\n  cluster:\n    server: %s\n", name, url)
	}
	b.WriteString("users:\n- name: u\n  user: {}\ncontexts:\n")
	for name := range servers {
		fmt.Fprintf(&b, "- name: %s\n  context:\n    cluster: %s\n    user: u\n", name, name)
	}
	p := filepath.Join(t.TempDir(), "kubeconfig")
	writeTestFile(t, p, b.String())
	return p
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// syncBuffer collects a child's output safely while it runs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func waitFor(t *testing.T, what string, timeout time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func httpGet(url string) (int, string) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// webhookAdvisories returns advisory id → how many times it was posted.
func webhookAdvisories(t *testing.T, r *notifytest.Receiver) map[string]int {
	seen := map[string]int{}
	for _, body := range r.Bodies() {
		var p webhook.Payload
		if err := json.Unmarshal(body, &p); err != nil {
			t.Fatalf("webhook body: %v", err)
		}
		for _, a := range p.Advisories {
			seen[a.ID]++
		}
	}
	return seen
}

// TestServeEndToEnd runs the real binary against a fake GitHub, fake
// clusters, a Slack and a webhook receiver and a real SMTP server, with
// schedules of seconds.
func TestServeEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	up := newUpstreamFake(t)
	mp := mailpittest.Start(t, "--smtp-auth-accept-any", "--smtp-auth-allow-insecure")
	slackRecv := notifytest.New(t, notifytest.SlackWebhookOK())
	hookRecv := notifytest.New(t, notifytest.Text(200, "ok"))
	prod := fakeCluster(t, "v1.24.3", "v1.24.3", "v1.23.9")
	kubeconfig := kubeconfigFor(t, map[string]string{"prod": prod.URL})

	bin := buildBinary(t)
	dir := t.TempDir()
	const (
		githubToken = "ghp_e2eSecretToken0123456789"
		smtpPass    = "smtp-e2e-secret-password"
		hookSecret  = "hook-e2e-signing-secret"
	)
	slackURL := slackRecv.URL + "/services/T000/B000/e2eSecretSlackPath"
	writeTestFile(t, filepath.Join(dir, "gh-token"), githubToken)
	writeTestFile(t, filepath.Join(dir, "slack-url"), slackURL)
	addr := freeAddr(t)
	cfg := fmt.Sprintf(`store: %s
listen: %s
log: {level: debug, format: json}
clusters:
  kubeconfig: [%s]
  all_contexts: true
  timeout: 5s
upstream:
  github_api_url: %s/
  github_token_file: gh-token
  osv_urls: [%s/osv/all.zip]
  cve_feed_url: %s/feed/cve.json
  changelog_minors: 100
schedules:
  sync: "@every 2s"
  scan: "@every 2s"
  digest: "@every 3s"
  sync_jitter: 0s
advisories:
  target: "1.27"
channels:
  - name: team-slack
    type: slack
    min_severity: high
    slack: {webhook_url_file: slack-url}
  - name: hooks
    type: webhook
    webhook: {url_env: E2E_HOOK_URL, secret_env: E2E_HOOK_SECRET}
  - name: mail
    type: email
    digest: true
    kinds: [eol]
    email:
      host: 127.0.0.1
      port: %d
      tls: none
      username: kubedrift
      password_env: E2E_SMTP_PASSWORD
      from: kubedrift@example.org
      to: [platform@example.org, oncall@example.org]
`, filepath.Join(dir, "kd.db"), addr, kubeconfig, up.gh.URL, up.cve.URL, up.cve.URL, mp.SMTPPort)
	cfgPath := filepath.Join(dir, "kubedrift.yaml")
	writeTestFile(t, cfgPath, cfg)
	env := append(os.Environ(), "E2E_HOOK_URL="+hookRecv.URL+"/hook?token=e2e-query-secret", "E2E_HOOK_SECRET="+hookSecret, "E2E_SMTP_PASSWORD="+smtpPass)

	if out, err := exec.Command(bin, "config", "validate", "--config", cfgPath).CombinedOutput(); err == nil || !strings.Contains(string(out), "E2E_HOOK_URL") {
		// Without the environment the secrets are missing: validate says which.
		t.Errorf("config validate without env: err %v, output %q; want a failure naming E2E_HOOK_URL", err, out)
	}

	start := func() (*exec.Cmd, *syncBuffer) {
		cmd := exec.Command(bin, "serve", "--config", cfgPath)
		cmd.Env = env
		logs := &syncBuffer{}
		cmd.Stdout, cmd.Stderr = logs, logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		return cmd, logs
	}
	cmd, logs := start()
	base := "http://" + addr
	waitFor(t, "/healthz", 20*time.Second, func() bool { c, _ := httpGet(base + "/healthz"); return c == 200 })
	waitFor(t, "/readyz", 30*time.Second, func() bool { c, _ := httpGet(base + "/readyz"); return c == 200 })
	waitFor(t, "advisories on the webhook and Slack", 30*time.Second, func() bool {
		return len(hookRecv.Bodies()) > 0 && len(slackRecv.Bodies()) > 0
	})
	waitFor(t, "the digest in mailpit", 30*time.Second, func() bool {
		for subj := range mp.Messages(t) {
			if strings.Contains(strings.ToLower(subj), "digest") {
				return true
			}
		}
		return false
	})
	for subj, m := range mp.Messages(t) {
		if len(m.To) != 2 || m.Text == "" || m.HTML == "" {
			t.Errorf("mail %q: to %v, text %d bytes, html %d bytes; want 2 recipients and both parts", subj, m.To, len(m.Text), len(m.HTML))
		}
	}
	// Every webhook delivery is signed with the configured secret.
	for _, r := range hookRecv.Requests() {
		if !webhook.Verify(hookSecret, r.Body, r.Header.Get(webhook.HeaderSignature)) {
			t.Error("webhook delivery with a bad signature")
		}
	}

	code, metrics := httpGet(base + "/metrics")
	for _, want := range []string{
		`kubedrift_cluster_info{cluster="prod",distribution="vanilla",version="v1.24.3"} 1`,
		`kubedrift_cluster_skew_violations{cluster="prod"} 0`,
		`kubedrift_sync_last_success_timestamp_seconds`,
		`kubedrift_github_rate_limit_remaining`,
		`kubedrift_deliveries_total{channel="hooks",result="delivered"}`,
	} {
		if code != 200 || !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if c, body := httpGet(base + "/api/v1/pending"); c != 200 || !strings.Contains(body, `"name": "prod"`) {
		t.Errorf("/api/v1/pending: %d %.200s", c, body)
	}

	// Let a few cycles pass with nothing new: nothing is posted again.
	posted := webhookAdvisories(t, hookRecv)
	time.Sleep(5 * time.Second)
	for id, n := range webhookAdvisories(t, hookRecv) {
		if n > 1 {
			t.Errorf("advisory %s posted %d times with nothing changed", id, n)
		}
	}

	// Upstream goes down: readiness flips once no sync succeeded for three
	// sync intervals.
	for range 200 {
		up.gh.Fail("/", githubtest.Status(500))
	}
	up.cve.Close()
	waitFor(t, "/readyz to fail while upstream is down", 40*time.Second, func() bool { c, _ := httpGet(base + "/readyz"); return c == 503 })

	// SIGTERM: exit 0 within the grace period; a restart repeats nothing.
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve after SIGTERM: %v", err)
		}
	case <-time.After(40 * time.Second):
		t.Fatal("serve did not stop within 40s of SIGTERM")
	}
	_, logs2 := start()
	time.Sleep(6 * time.Second)
	for id, n := range webhookAdvisories(t, hookRecv) {
		if n > posted[id]+1 || n > 2 {
			t.Errorf("advisory %s posted %d times across a restart", id, n)
		}
	}
	if len(posted) == 0 {
		t.Error("no advisory reached the webhook")
	}

	// Secrets never appear in logs, even at debug level.
	all := logs.String() + logs2.String()
	for _, secret := range []string{githubToken, smtpPass, hookSecret, "e2eSecretSlackPath", "e2e-query-secret"} {
		if strings.Contains(all, secret) {
			t.Errorf("a secret (%.6s…) appears in the logs", secret)
		}
	}
	sc := bufio.NewScanner(strings.NewReader(all))
	lines := 0
	for sc.Scan() {
		lines++
	}
	t.Logf("%d log lines checked; %d advisories delivered to the webhook", lines, len(posted))
}
