package slack

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/kubedrift/kubedrift/notify"
)

// DefaultAPIURL is Slack's Web API base.
const DefaultAPIURL = "https://slack.com/api/"

// Config configures one Slack channel. Exactly one of WebhookURL and Token
// is set; Token needs Channel.
type Config struct {
	// WebhookURL is an incoming webhook. It is a secret: it never appears in
	// errors or logs.
	WebhookURL string
	// Token is a bot token for chat.postMessage to Channel (a secret too).
	Token   string
	Channel string
	// APIURL overrides the Web API base (tests); it needs Token.
	APIURL string
	// HTTPClient defaults to a client with a 30 s timeout.
	HTTPClient *http.Client
	// Username and IconEmoji customise the poster where Slack allows it.
	Username, IconEmoji string
}

// Notifier posts batches to one Slack channel. It is safe for concurrent
// use.
type Notifier struct {
	cfg    Config
	client *http.Client
	api    *slack.Client // token mode only
	now    func() time.Time

	mu sync.Mutex
	// delivered counts, per batch, the messages Slack already accepted, so a
	// retry after a failure in message 3 of 5 resumes at 3 instead of
	// posting 1 and 2 twice. Kept in memory only: after a restart a partly
	// sent batch is sent whole.
	delivered map[string]int
}

var _ notify.Notifier = (*Notifier)(nil)

// New validates cfg and returns a Notifier.
func New(cfg Config) (*Notifier, error) {
	switch {
	case cfg.WebhookURL != "" && cfg.Token != "":
		return nil, errors.New("slack: config: set either a webhook URL or a token, not both")
	case cfg.WebhookURL == "" && cfg.Token == "":
		return nil, errors.New("slack: config: a webhook URL or a token (with a channel) is required")
	case cfg.Token != "" && cfg.Channel == "":
		return nil, errors.New("slack: config: a token needs a channel for chat.postMessage")
	case cfg.WebhookURL != "" && cfg.Channel != "":
		return nil, errors.New("slack: config: channel applies to token mode; an incoming webhook posts to its own channel")
	case cfg.WebhookURL != "" && cfg.APIURL != "":
		return nil, errors.New("slack: config: api URL applies to token mode only")
	}
	if cfg.WebhookURL != "" {
		if err := checkURL(cfg.WebhookURL); err != nil {
			return nil, fmt.Errorf("slack: config: webhook URL: %w", err)
		}
	}
	if cfg.Token != "" && strings.ContainsAny(cfg.Token, " \t\r\n") {
		return nil, errors.New("slack: config: token contains whitespace")
	}
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	} else if err := checkURL(cfg.APIURL); err != nil {
		return nil, fmt.Errorf("slack: config: api URL: %w", err)
	}
	if !strings.HasSuffix(cfg.APIURL, "/") {
		cfg.APIURL += "/" // slack-go appends the method name directly
	}

	base := cfg.HTTPClient
	if base == nil {
		base = &http.Client{Timeout: 30 * time.Second}
	}
	client := *base
	rt := client.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	client.Transport = &captureTransport{base: rt}

	n := &Notifier{cfg: cfg, client: &client, now: time.Now, delivered: map[string]int{}}
	if cfg.Token != "" {
		n.api = slack.New(cfg.Token, slack.OptionHTTPClient(&client), slack.OptionAPIURL(cfg.APIURL))
	}
	return n, nil
}

// checkURL rejects URLs that cannot work, without echoing them (they carry
// secrets).
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("does not parse")
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return fmt.Errorf("scheme %q is not http or https", u.Scheme)
	}
	if u.Host == "" {
		return errors.New("has no host")
	}
	return nil
}

// Notify posts the batch as one or more messages, in order. A failure
// stops at the failing message; the retry flag follows Slack's answer:
// 429 (with its Retry-After as a *notify.RetryAfterError), 5xx, Web API
// "ratelimited" and transient API errors and connection failures are worth
// retrying; other 4xx answers (invalid_payload, no_service, action_prohibited)
// and Web API errors (channel_not_found, invalid_auth) are permanent.
func (n *Notifier) Notify(ctx context.Context, b notify.Batch) (bool, error) {
	msgs := render(b)
	if len(msgs) == 0 {
		return false, nil
	}
	key := progressKey(b.ID, msgs)
	n.mu.Lock()
	start := n.delivered[key]
	n.mu.Unlock()

	for i := start; i < len(msgs); i++ {
		if err := ctx.Err(); err != nil {
			return true, fmt.Errorf("slack: post message %d/%d of batch %q: %w", i+1, len(msgs), b.ID, err)
		}
		retry, err := n.post(ctx, msgs[i])
		if err != nil {
			n.mu.Lock()
			if key != "" {
				n.delivered[key] = i
			}
			n.mu.Unlock()
			return retry, n.wrap(fmt.Sprintf("post message %d/%d of batch %q", i+1, len(msgs), b.ID), err)
		}
	}
	n.mu.Lock()
	delete(n.delivered, key)
	n.mu.Unlock()
	return false, nil
}

// progressKey ties resume progress to the batch and to what it renders to,
// so a batch whose content changed is sent from the start.
func progressKey(id string, msgs []message) string {
	if id == "" {
		return ""
	}
	h := sha256.New()
	for _, m := range msgs {
		json.NewEncoder(h).Encode(m.blocks)
	}
	return id + "/" + hex.EncodeToString(h.Sum(nil)[:8])
}

type captureKey struct{}

// captured is what the transport saw of a failed answer, which slack-go
// drops: the status, Retry-After and Slack's short error code ("invalid_payload").
type captured struct {
	status     int
	retryAfter string
	body       string
}

func (n *Notifier) post(ctx context.Context, m message) (bool, error) {
	c := &captured{}
	ctx = context.WithValue(ctx, captureKey{}, c)
	var err error
	if n.api != nil {
		opts := []slack.MsgOption{
			slack.MsgOptionText(escape(m.title), false),
			slack.MsgOptionBlocks(m.blocks...),
			slack.MsgOptionDisableLinkUnfurl(),
			slack.MsgOptionDisableMediaUnfurl(),
		}
		if n.cfg.Username != "" {
			opts = append(opts, slack.MsgOptionUsername(n.cfg.Username))
		}
		if n.cfg.IconEmoji != "" {
			opts = append(opts, slack.MsgOptionIconEmoji(n.cfg.IconEmoji))
		}
		_, _, err = n.api.PostMessageContext(ctx, n.cfg.Channel, opts...)
	} else {
		no := false
		msg := &slack.WebhookMessage{
			Text:        escape(m.title),
			Blocks:      &slack.Blocks{BlockSet: m.blocks},
			Username:    n.cfg.Username,
			IconEmoji:   n.cfg.IconEmoji,
			UnfurlLinks: &no,
			UnfurlMedia: &no,
		}
		err = slack.PostWebhookCustomHTTPContext(ctx, n.cfg.WebhookURL, n.client, msg)
	}
	if err == nil {
		return false, nil
	}
	return n.classify(err, c)
}

// transientAPIErrors are Web API error codes Slack documents as temporary.
var transientAPIErrors = map[string]bool{
	"ratelimited":         true,
	"rate_limited":        true,
	"internal_error":      true,
	"fatal_error":         true,
	"service_unavailable": true,
	"request_timeout":     true,
}

func (n *Notifier) classify(err error, c *captured) (bool, error) {
	if rl, ok := errors.AsType[*slack.RateLimitedError](err); ok {
		return true, &notify.RetryAfterError{After: rl.RetryAfter, Err: fmt.Errorf("rate limited (HTTP 429, retry after %s): %w", rl.RetryAfter, err)}
	}
	if c.status == http.StatusTooManyRequests {
		// slack-go only understands Retry-After in seconds; an HTTP date
		// or no header lands here.
		if d, ok := parseRetryAfter(c.retryAfter, n.now()); ok {
			return true, &notify.RetryAfterError{After: d, Err: fmt.Errorf("rate limited (HTTP 429, retry after %s)", d)}
		}
		return true, errors.New("rate limited (HTTP 429)")
	}
	if sc, ok := errors.AsType[slack.StatusCodeError](err); ok {
		msg := "HTTP " + sc.Status
		if c.body != "" {
			msg += ": " + c.body
		}
		retry := sc.Code >= 500 || sc.Code == http.StatusRequestTimeout
		if !retry {
			msg += " (permanent)"
		}
		return retry, fmt.Errorf("%s: %w", msg, err)
	}
	if se, ok := errors.AsType[slack.SlackErrorResponse](err); ok {
		retry := transientAPIErrors[se.Err]
		msg := "Slack API error " + strconv.Quote(se.Err)
		if !retry {
			msg += " (permanent)"
		}
		return retry, fmt.Errorf("%s: %w", msg, err)
	}
	if ue, ok := errors.AsType[*url.Error](err); ok {
		// url.Error repeats the URL; keep only the cause.
		return true, fmt.Errorf("connection failed: %w", ue.Err)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return true, err
	}
	if _, ok := errors.AsType[*json.SyntaxError](err); ok {
		// A 200 whose body is not the Web API's JSON: a proxy or outage
		// page, usually transient.
		return true, fmt.Errorf("unreadable answer: %w", err)
	}
	return true, err
}

// redactedError keeps the cause for errors.Is/As while its message is
// scrubbed of the webhook URL and token.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

func (n *Notifier) wrap(op string, err error) error {
	msg := n.redact("slack: " + op + ": " + err.Error())
	if rae, ok := errors.AsType[*notify.RetryAfterError](err); ok {
		return &notify.RetryAfterError{After: rae.After, Err: &redactedError{msg: msg, err: rae.Err}}
	}
	return &redactedError{msg: msg, err: err}
}

// redact removes every form of the secrets from s.
func (n *Notifier) redact(s string) string {
	var secrets []string
	if n.cfg.Token != "" {
		secrets = append(secrets, n.cfg.Token, url.QueryEscape(n.cfg.Token))
	}
	if w := n.cfg.WebhookURL; w != "" {
		secrets = append(secrets, w, strconv.Quote(w))
		if u, err := url.Parse(w); err == nil {
			if len(u.Path) > 1 {
				secrets = append(secrets, u.Path, u.EscapedPath())
			}
			if u.RawQuery != "" {
				secrets = append(secrets, u.RawQuery)
			}
		}
	}
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	return s
}

// parseRetryAfter reads Retry-After as seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// captureTransport records the status, Retry-After and a short error code
// of non-200 answers for the request's captured value; slack-go discards
// webhook answer bodies, and Slack puts the reason ("invalid_payload",
// "no_service") there.
type captureTransport struct{ base http.RoundTripper }

func (t *captureTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil || resp.StatusCode == http.StatusOK {
		return resp, err
	}
	c, ok := req.Context().Value(captureKey{}).(*captured)
	if !ok {
		return resp, nil
	}
	c.status = resp.StatusCode
	c.retryAfter = resp.Header.Get("Retry-After")
	peek, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	c.body = errorCode(peek)
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(peek), resp.Body), resp.Body}
	return resp, nil
}

// errorCode keeps a body only when it looks like one of Slack's error codes,
// so an HTML error page (or anything echoing the request) stays out of
// errors.
func errorCode(b []byte) string {
	s := strings.TrimSpace(string(b))
	if s == "" || len(s) > 64 {
		return ""
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return ""
		}
	}
	return s
}
