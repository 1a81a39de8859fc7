package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
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
	"time"
	"unicode"

	"github.com/kubedrift/kubedrift/notify"
	"github.com/kubedrift/kubedrift/tracker"
)

// Header names set on every delivery.
const (
	// HeaderSignature carries "sha256=" and the hex HMAC-SHA256 of the body.
	HeaderSignature = "X-Kubedrift-Signature"
	// HeaderBatch carries the batch id; a receiver that has seen it may
	// answer 2xx and skip the body, since retries resend the same batch.
	HeaderBatch = "X-Kubedrift-Batch"
)

// DefaultTimeout bounds one delivery when Config.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// Config configures one webhook endpoint.
type Config struct {
	// URL receives the POSTs. Its path and query may carry secrets, so it
	// never appears in errors.
	URL string
	// Secret keys the HMAC signature; required.
	Secret string
	// HTTPClient defaults to a plain client; Timeout bounds each delivery.
	HTTPClient *http.Client
	Timeout    time.Duration
}

// Payload is the JSON body. Field names are a contract for receivers; the
// advisories use the tracker's JSON field names. Note texts inside are
// upstream prose: receivers must treat them as untrusted.
type Payload struct {
	BatchID     string             `json:"batch_id"`
	Channel     string             `json:"channel,omitempty"`
	GeneratedAt time.Time          `json:"generated_at"`
	Advisories  []tracker.Advisory `json:"advisories"`
}

// Notifier POSTs batches to one endpoint. It is safe for concurrent use.
type Notifier struct {
	cfg    Config
	client *http.Client
	now    func() time.Time
}

var _ notify.Notifier = (*Notifier)(nil)

// New validates cfg and returns a Notifier.
func New(cfg Config) (*Notifier, error) {
	if cfg.URL == "" {
		return nil, errors.New("webhook: config: url is required")
	}
	u, err := url.Parse(cfg.URL)
	switch {
	case err != nil:
		return nil, errors.New("webhook: config: url does not parse")
	case u.Scheme != "https" && u.Scheme != "http":
		return nil, fmt.Errorf("webhook: config: url scheme %q is not http or https", u.Scheme)
	case u.Host == "":
		return nil, errors.New("webhook: config: url has no host")
	}
	if cfg.Secret == "" {
		return nil, errors.New("webhook: config: secret is required (receivers verify the signature)")
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("webhook: config: timeout %s is negative", cfg.Timeout)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	client := &http.Client{}
	if cfg.HTTPClient != nil {
		c := *cfg.HTTPClient
		client = &c
	}
	// A redirect would turn the POST into a GET or carry the signed body
	// elsewhere; a moved endpoint is a configuration error to surface.
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &Notifier{cfg: cfg, client: client, now: time.Now}, nil
}

// Sign returns the signature header value for body.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify reports whether header (the X-Kubedrift-Signature value) is the
// signature of body under secret. It compares in constant time; an empty
// secret never verifies.
func Verify(secret string, body []byte, header string) bool {
	if secret == "" {
		return false
	}
	got, ok := strings.CutPrefix(strings.TrimSpace(header), "sha256=")
	if !ok {
		return false
	}
	sig, err := hex.DecodeString(got)
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hmac.Equal(sig, m.Sum(nil))
}

// Marshal encodes the batch as the webhook body.
func Marshal(b notify.Batch) ([]byte, error) {
	p := Payload{BatchID: b.ID, Channel: b.Channel, GeneratedAt: b.GeneratedAt.UTC(), Advisories: b.Advisories}
	if p.Advisories == nil {
		p.Advisories = []tracker.Advisory{}
	}
	body, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("webhook: encode batch %q: %w", b.ID, err)
	}
	return body, nil
}

// Notify POSTs the batch. 2xx is success; 429 and 503 with Retry-After give
// a *notify.RetryAfterError; 5xx, 408, 429 and connection failures are worth
// retrying; other answers (4xx, an unfollowed redirect) are permanent.
func (n *Notifier) Notify(ctx context.Context, b notify.Batch) (bool, error) {
	body, err := Marshal(b)
	if err != nil {
		return false, err
	}
	ctx, cancel := context.WithTimeout(ctx, n.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return false, fmt.Errorf("webhook: deliver batch %q: build request: %s", b.ID, n.redact(err.Error()))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "kubedrift")
	req.Header.Set(HeaderSignature, Sign(n.cfg.Secret, body))
	req.Header.Set(HeaderBatch, b.ID)

	op := fmt.Sprintf("webhook: deliver batch %q to %s", b.ID, req.URL.Host)
	resp, err := n.client.Do(req)
	if err != nil {
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err // url.Error repeats the URL
		}
		return true, &redactedError{msg: n.redact(op + ": " + err.Error()), err: err}
	}
	// Read a little for the error message, then drain so the connection
	// can be reused.
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()

	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return false, nil
	}
	msg := op + ": HTTP " + resp.Status
	if s := n.snippet(snippet); s != "" {
		msg += ": " + s
	}
	st := &StatusError{Code: resp.StatusCode}
	retry := resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusRequestTimeout
	if !retry {
		if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			msg += " (redirects are not followed; update the url)"
		}
		msg += " (permanent)"
	}
	err = &redactedError{msg: n.redact(msg), err: st}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), n.now()); ok {
			return true, &notify.RetryAfterError{After: d, Err: err}
		}
	}
	return retry, err
}

// StatusError is the receiver's non-2xx answer.
type StatusError struct{ Code int }

func (e *StatusError) Error() string { return "HTTP " + strconv.Itoa(e.Code) }

// redactedError carries a scrubbed message and keeps the cause for
// errors.Is/As.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redact removes the URL and its secret-bearing parts from s.
func (n *Notifier) redact(s string) string {
	secrets := []string{n.cfg.URL, n.cfg.Secret}
	if u, err := url.Parse(n.cfg.URL); err == nil {
		if len(u.Path) > 1 {
			secrets = append(secrets, u.Path, u.EscapedPath())
		}
		if u.RawQuery != "" {
			secrets = append(secrets, u.RawQuery)
		}
		if u.User != nil {
			secrets = append(secrets, u.User.String())
		}
	}
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	return s
}

// snippet keeps the first line of an error body when it is short printable
// text, redacted: receivers sometimes echo the request URL.
func (n *Notifier) snippet(b []byte) string {
	s, _, _ := strings.Cut(string(b), "\n")
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 200 || strings.HasPrefix(s, "<") {
		return ""
	}
	for _, r := range s {
		if r == unicode.ReplacementChar || !unicode.IsPrint(r) {
			return ""
		}
	}
	return strconv.Quote(n.redact(s))
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
