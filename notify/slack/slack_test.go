package slack

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kubedrift/kubedrift/notify"
	"github.com/kubedrift/kubedrift/notify/notifytest"
)

const (
	hookPath = "/services/T0KUBE/B0DRIFT/s3cr3tHookPart"
	token    = "xoxb-1111-2222-s3cr3tToken"
)

// assertNoSecrets fails when an error leaks the webhook URL, its secret
// path or the token.
func assertNoSecrets(t *testing.T, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		return
	}
	for e := err; e != nil; e = errors.Unwrap(e) {
		for _, s := range secrets {
			if strings.Contains(e.Error(), s) {
				t.Errorf("error leaks a secret %q: %v", s, e)
			}
		}
	}
}

func TestWebhookAnswers(t *testing.T) {
	tests := []struct {
		name      string
		answer    notifytest.Response
		wantRetry bool
		wantAfter time.Duration // > 0: a *notify.RetryAfterError is expected
		wantErr   string        // "" means success
	}{
		{"ok", notifytest.SlackWebhookOK(), false, 0, ""},
		{"429 with Retry-After", notifytest.RateLimited("2"), true, 2 * time.Second, "rate limited"},
		{"429 with an HTTP date", notifytest.RateLimited(time.Date(2026, 11, 27, 10, 0, 30, 0, time.UTC).Format(http.TimeFormat)), true, 30 * time.Second, "rate limited"},
		{"429 without Retry-After", notifytest.RateLimited(""), true, 0, "rate limited"},
		{"500", notifytest.Text(http.StatusInternalServerError, "<html>oops</html>"), true, 0, "500"},
		{"503", notifytest.Text(http.StatusServiceUnavailable, ""), true, 0, "503"},
		{"400 invalid_payload", notifytest.Text(http.StatusBadRequest, "invalid_payload"), false, 0, "invalid_payload"},
		{"403 action_prohibited", notifytest.Text(http.StatusForbidden, "action_prohibited"), false, 0, "action_prohibited"},
		{"404 no_service", notifytest.Text(http.StatusNotFound, "no_service"), false, 0, "no_service"},
		{"400 echoing the URL", notifytest.Text(http.StatusBadRequest, "bad request to "+hookPath), false, 0, "400"},
		{"connection dropped", notifytest.Dropped(), true, 0, "connection failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rcv := notifytest.New(t, notifytest.SlackWebhookOK(), tt.answer)
			n, err := New(Config{WebhookURL: rcv.URL + hookPath, HTTPClient: rcv.Client(), Username: "kubedrift"})
			if err != nil {
				t.Fatal(err)
			}
			n.now = func() time.Time { return time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC) }
			retry, err := n.Notify(context.Background(), fixedBatch())
			assertNoSecrets(t, err, rcv.URL+hookPath, hookPath, "s3cr3tHookPart")
			if tt.wantErr == "" {
				if err != nil || retry {
					t.Fatalf("Notify = %v, %v; want success", retry, err)
				}
			} else {
				if err == nil {
					t.Fatalf("Notify succeeded; want an error containing %q", tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error %q lacks %q", err, tt.wantErr)
				}
				if retry != tt.wantRetry {
					t.Errorf("retry = %v, want %v (error %v)", retry, tt.wantRetry, err)
				}
			}
			var rae *notify.RetryAfterError
			if got := errors.As(err, &rae); got != (tt.wantAfter > 0) {
				t.Errorf("RetryAfterError: got %v, want %v (error %v)", got, tt.wantAfter > 0, err)
			} else if got && rae.After != tt.wantAfter {
				t.Errorf("RetryAfter = %s, want %s", rae.After, tt.wantAfter)
			}

			reqs := rcv.Requests()
			if len(reqs) != 1 {
				t.Fatalf("receiver saw %d requests, want 1", len(reqs))
			}
			q := reqs[0]
			if q.Path != hookPath || q.Header.Get("Content-Type") != "application/json" {
				t.Errorf("request %s %s, Content-Type %q", q.Method, q.Path, q.Header.Get("Content-Type"))
			}
			var payload struct {
				Text        string            `json:"text"`
				Username    string            `json:"username"`
				UnfurlLinks *bool             `json:"unfurl_links"`
				Blocks      []json.RawMessage `json:"blocks"`
			}
			if err := q.DecodeJSON(&payload); err != nil {
				t.Fatal(err)
			}
			if payload.Text != "kubedrift: 5 advisories for 3 clusters" || payload.Username != "kubedrift" || payload.UnfurlLinks == nil || *payload.UnfurlLinks {
				t.Errorf("payload text %q username %q unfurl %v", payload.Text, payload.Username, payload.UnfurlLinks)
			}
			if want := len(Render(fixedBatch())[0]); len(payload.Blocks) != want {
				t.Errorf("payload has %d blocks, want %d", len(payload.Blocks), want)
			}
		})
	}
}

// The webhook payload as Slack receives it, compared with a golden file.
func TestWebhookPayloadGolden(t *testing.T) {
	rcv := notifytest.New(t, notifytest.SlackWebhookOK())
	n, err := New(Config{WebhookURL: rcv.URL + hookPath, HTTPClient: rcv.Client(), Username: "kubedrift", IconEmoji: ":ship:"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Notify(context.Background(), fixedBatch()); err != nil {
		t.Fatal(err)
	}
	var v any
	if err := rcv.Requests()[0].DecodeJSON(&v); err != nil {
		t.Fatal(err)
	}
	golden(t, "webhook_payload.golden.json", indentJSON(t, v))
}

func TestChatPostMessage(t *testing.T) {
	tests := []struct {
		name      string
		answer    notifytest.Response
		wantRetry bool
		wantAfter time.Duration
		wantErr   string
	}{
		{"ok", notifytest.SlackAPIOK(), false, 0, ""},
		{"channel_not_found", notifytest.SlackAPIError("channel_not_found"), false, 0, "channel_not_found"},
		{"invalid_auth", notifytest.SlackAPIError("invalid_auth"), false, 0, "invalid_auth"},
		{"ratelimited in the body", notifytest.SlackAPIError("ratelimited"), true, 0, "ratelimited"},
		{"internal_error", notifytest.SlackAPIError("internal_error"), true, 0, "internal_error"},
		{"429 with Retry-After", notifytest.RateLimited("3"), true, 3 * time.Second, "rate limited"},
		{"502", notifytest.Text(http.StatusBadGateway, "bad gateway"), true, 0, "502"},
		{"garbled 200", notifytest.Text(http.StatusOK, "<html>"), true, 0, "slack"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rcv := notifytest.New(t, notifytest.SlackAPIOK(), tt.answer)
			n, err := New(Config{Token: token, Channel: "C0KUBEDRIFT", APIURL: rcv.URL + "/api", HTTPClient: rcv.Client(), IconEmoji: ":ship:"})
			if err != nil {
				t.Fatal(err)
			}
			retry, err := n.Notify(context.Background(), fixedBatch())
			assertNoSecrets(t, err, token, "s3cr3tToken")
			if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("Notify error %v, want one containing %q", err, tt.wantErr)
			}
			if retry != tt.wantRetry {
				t.Errorf("retry = %v, want %v", retry, tt.wantRetry)
			}
			var rae *notify.RetryAfterError
			if got := errors.As(err, &rae); got != (tt.wantAfter > 0) || (got && rae.After != tt.wantAfter) {
				t.Errorf("RetryAfterError %v, want After %s", rae, tt.wantAfter)
			}

			q := rcv.Requests()[0]
			if q.Path != "/api/chat.postMessage" {
				t.Errorf("path %q", q.Path)
			}
			form, err := q.Form()
			if err != nil {
				t.Fatal(err)
			}
			if form.Get("channel") != "C0KUBEDRIFT" || form.Get("token") != token || form.Get("icon_emoji") != ":ship:" {
				t.Errorf("form channel %q icon %q, token present %v", form.Get("channel"), form.Get("icon_emoji"), form.Get("token") == token)
			}
			var blocks []json.RawMessage
			if err := json.Unmarshal([]byte(form.Get("blocks")), &blocks); err != nil || len(blocks) != len(Render(fixedBatch())[0]) {
				t.Errorf("blocks field: %d blocks, %v", len(blocks), err)
			}
		})
	}
}

// A failure in the middle of a split batch resumes at the failed message,
// so Slack never shows the first messages twice.
func TestResumeAfterPartialFailure(t *testing.T) {
	b := hostileBatch()
	msgs := Render(b)
	if len(msgs) < 3 {
		t.Fatalf("need at least 3 messages, have %d", len(msgs))
	}
	rcv := notifytest.New(t, notifytest.SlackWebhookOK(),
		notifytest.SlackWebhookOK(), notifytest.Text(http.StatusInternalServerError, ""))
	n, err := New(Config{WebhookURL: rcv.URL + hookPath, HTTPClient: rcv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	retry, err := n.Notify(context.Background(), b)
	if err == nil || !retry || !strings.Contains(err.Error(), "message 2/") {
		t.Fatalf("first attempt: %v, %v; want a retryable failure of message 2", retry, err)
	}
	if retry, err := n.Notify(context.Background(), b); err != nil || retry {
		t.Fatalf("second attempt: %v, %v", retry, err)
	}
	headers := func() []string {
		var out []string
		for _, q := range rcv.Requests() {
			var p struct{ Text string }
			if err := q.DecodeJSON(&p); err != nil {
				t.Fatal(err)
			}
			out = append(out, p.Text)
		}
		return out
	}()
	if len(headers) != len(msgs)+1 {
		t.Fatalf("receiver saw %d posts, want %d (message 2 twice, the others once): %q", len(headers), len(msgs)+1, headers)
	}
	if !strings.HasSuffix(headers[0], "(1/6)") || !strings.HasSuffix(headers[1], "(2/6)") || !strings.HasSuffix(headers[2], "(2/6)") || !strings.HasSuffix(headers[len(headers)-1], "(6/6)") {
		t.Errorf("posted in order %q", headers)
	}
	// Delivered batches leave no progress behind.
	if len(n.delivered) != 0 {
		t.Errorf("progress map keeps %d entries", len(n.delivered))
	}
}

func TestEmptyBatchPostsNothing(t *testing.T) {
	rcv := notifytest.New(t, notifytest.SlackWebhookOK())
	n, err := New(Config{WebhookURL: rcv.URL + hookPath, HTTPClient: rcv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	if retry, err := n.Notify(context.Background(), notify.Batch{ID: "empty"}); err != nil || retry {
		t.Fatalf("Notify = %v, %v", retry, err)
	}
	if len(rcv.Requests()) != 0 {
		t.Errorf("empty batch was posted")
	}
}

func TestUnreachableAndCanceled(t *testing.T) {
	rcv := notifytest.NewServer(notifytest.SlackWebhookOK())
	url := rcv.URL + hookPath
	rcv.Close()
	n, err := New(Config{WebhookURL: url})
	if err != nil {
		t.Fatal(err)
	}
	retry, err := n.Notify(context.Background(), fixedBatch())
	if err == nil || !retry {
		t.Fatalf("closed receiver: %v, %v; want a retryable error", retry, err)
	}
	assertNoSecrets(t, err, url, hookPath)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	retry, err = n.Notify(ctx, fixedBatch())
	if !errors.Is(err, context.Canceled) || !retry {
		t.Errorf("canceled: %v, %v", retry, err)
	}
}

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string // "" means valid
	}{
		{"webhook", Config{WebhookURL: "https://hooks.slack.com" + hookPath}, ""},
		{"token", Config{Token: token, Channel: "C1"}, ""},
		{"neither", Config{}, "required"},
		{"both", Config{WebhookURL: "https://hooks.slack.com" + hookPath, Token: token, Channel: "C1"}, "not both"},
		{"token without channel", Config{Token: token}, "channel"},
		{"webhook with channel", Config{WebhookURL: "https://hooks.slack.com" + hookPath, Channel: "C1"}, "channel"},
		{"webhook with api url", Config{WebhookURL: "https://hooks.slack.com" + hookPath, APIURL: "https://slack.example/api/"}, "api URL"},
		{"bad scheme", Config{WebhookURL: "ftp://hooks.slack.com" + hookPath}, "scheme"},
		{"no host", Config{WebhookURL: "https://" + hookPath}, "host"},
		{"unparsable", Config{WebhookURL: "https://hooks.slack.com/%zz" + hookPath}, "parse"},
		{"token with newline", Config{Token: token + "\n", Channel: "C1"}, "whitespace"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New error %v, want one containing %q", err, tt.want)
			}
			assertNoSecrets(t, err, hookPath, "s3cr3t")
		})
	}
}
