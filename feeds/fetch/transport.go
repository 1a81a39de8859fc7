package fetch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// ValidatorSource returns stored HTTP validators for a URL ("" when none). The
// store satisfies it. Implementations must be safe for concurrent use.
type ValidatorSource interface {
	Validator(ctx context.Context, url string) (etag, lastModified string, err error)
}

// Options configure a Transport. The zero value is usable.
type Options struct {
	// Base sends the requests; default a clone of http.DefaultTransport.
	Base http.RoundTripper
	// Validators supplies If-None-Match/If-Modified-Since values; may be nil.
	Validators ValidatorSource
	// Force, when it returns true for a URL, skips the conditional headers
	// (used to re-fetch recently published releases). WithForce does the same
	// per request.
	Force func(url string) bool
	// Timeout bounds one attempt, reading the body included; default 30s.
	Timeout time.Duration
	// MaxAttempts bounds the attempts per request, the first included; default 4.
	MaxAttempts int
	// BaseDelay and MaxDelay bound the exponential backoff (full jitter);
	// default 500ms and 30s.
	BaseDelay, MaxDelay time.Duration
	// MaxRetryAfter is the longest Retry-After the transport waits for; a
	// longer one ends the request with a *RetryAfterError. Default 2m.
	MaxRetryAfter time.Duration
	// MaxBodyBytes bounds a response body; default 64 MiB.
	MaxBodyBytes int64
	// UserAgent is set on requests that carry none.
	UserAgent string
	// Sleep waits between attempts; default a timer honouring ctx. Test seam.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now reads the clock for Retry-After dates; default time.Now. Test seam.
	Now func() time.Time
	// Logger receives retry and rate-limit events; default discards.
	Logger *slog.Logger
}

// Transport is an http.RoundTripper for upstream sources. It buffers each
// response body inside the attempt, so the per-attempt timeout covers the
// transfer and a body cut short is retried like a failed connection; upstream
// documents are a few MB at most (MaxBodyBytes bounds them). It is safe for
// concurrent use.
type Transport struct {
	opt  Options
	base http.RoundTripper
	log  *slog.Logger
	// jitter returns a uniform value in [0, n]; replaced in tests.
	jitter func(n int64) int64

	requests, ok2xx, notModified, other, errs, retries atomic.Int64
}

// Stats counts what a Transport did since it was created.
type Stats struct {
	// Requests is the number of attempts sent, retries included.
	Requests int64
	// Status200 counts 2xx responses, Status304 not-modified ones, and
	// StatusOther every other status.
	Status200, Status304, StatusOther int64
	// Errors counts attempts that got no complete response (connection
	// errors, timeouts, truncated bodies).
	Errors int64
	// Retries counts attempts that were repeated.
	Retries int64
}

// NewTransport returns a Transport with opt's defaults filled in.
func NewTransport(opt Options) *Transport {
	if opt.Base == nil {
		opt.Base = http.DefaultTransport.(*http.Transport).Clone()
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 30 * time.Second
	}
	if opt.MaxAttempts <= 0 {
		opt.MaxAttempts = 4
	}
	if opt.BaseDelay <= 0 {
		opt.BaseDelay = 500 * time.Millisecond
	}
	if opt.MaxDelay <= 0 {
		opt.MaxDelay = 30 * time.Second
	}
	if opt.MaxDelay < opt.BaseDelay {
		opt.MaxDelay = opt.BaseDelay
	}
	if opt.MaxRetryAfter <= 0 {
		opt.MaxRetryAfter = 2 * time.Minute
	}
	if opt.MaxBodyBytes <= 0 {
		opt.MaxBodyBytes = 64 << 20
	}
	if opt.Sleep == nil {
		opt.Sleep = sleepContext
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Transport{opt: opt, base: opt.Base, log: log, jitter: func(n int64) int64 { return rand.Int64N(n + 1) }}
}

// Stats returns the counters so far.
func (t *Transport) Stats() Stats {
	return Stats{
		Requests:    t.requests.Load(),
		Status200:   t.ok2xx.Load(),
		Status304:   t.notModified.Load(),
		StatusOther: t.other.Load(),
		Errors:      t.errs.Load(),
		Retries:     t.retries.Load(),
	}
}

// CloseIdleConnections forwards to the base transport when it supports it.
func (t *Transport) CloseIdleConnections() {
	if c, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

type forceKey struct{}

// WithForce returns a context whose requests skip the conditional headers, so
// the server sends the full document even when the stored validators match.
func WithForce(ctx context.Context) context.Context {
	return context.WithValue(ctx, forceKey{}, true)
}

func forced(ctx context.Context) bool {
	f, _ := ctx.Value(forceKey{}).(bool)
	return f
}

// RoundTrip sends req, retrying transient failures. It returns the last
// response when the attempts are used up, and returns a primary rate-limit
// response (remaining 0, no Retry-After) at once so that the caller can stop
// until the reset.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	safe := Redact(req.URL)
	req = t.prepare(req, safe)
	// Only requests that can be sent twice are retried.
	retryable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	if m := req.Method; m != http.MethodGet && m != http.MethodHead && m != http.MethodOptions && req.Header.Get("Idempotency-Key") == "" {
		retryable = false
	}
	for attempt := 1; ; attempt++ {
		if attempt > 1 && req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, fmt.Errorf("%s %s: rewinding request body: %w", req.Method, safe, err)
			}
			req.Body = body
		}
		t.requests.Add(1)
		resp, err := t.attempt(ctx, req, safe)
		last := !retryable || attempt >= t.opt.MaxAttempts
		var (
			wait   time.Duration
			reason slog.Attr
		)
		if err != nil {
			t.errs.Add(1)
			if ctx.Err() != nil {
				return nil, fmt.Errorf("%s %s: %w", req.Method, safe, ctx.Err())
			}
			var perm *permanentError
			if errors.As(err, &perm) {
				return nil, perm.err
			}
			if last {
				if _, ok := err.(*TimeoutError); ok {
					return nil, fmt.Errorf("giving up after %d attempts: %w", attempt, err)
				}
				return nil, fmt.Errorf("%s %s: giving up after %d attempts: %w", req.Method, safe, attempt, err)
			}
			wait = t.backoff(attempt)
			reason = slog.String("error", err.Error())
		} else {
			t.count(resp.StatusCode)
			d, next := t.classify(resp)
			switch next {
			case actionDone:
				if isPrimaryExhausted(resp) {
					t.log.LogAttrs(ctx, slog.LevelWarn, "upstream rate limit exhausted; not retrying",
						slog.String("method", req.Method), slog.String("url", safe),
						slog.String("reset", resp.Header.Get("X-RateLimit-Reset")))
				}
				return resp, nil
			case actionRetryAfter:
				if d > t.opt.MaxRetryAfter {
					return nil, &RetryAfterError{Method: req.Method, URL: safe, StatusCode: resp.StatusCode, Wait: d, Limit: t.opt.MaxRetryAfter, At: t.opt.Now().Add(d)}
				}
				wait = d
			case actionBackoff:
				wait = t.backoff(attempt)
			}
			if last {
				return resp, nil
			}
			reason = slog.Int("status", resp.StatusCode)
			resp.Body.Close() // already buffered: nothing left to drain
		}
		t.retries.Add(1)
		t.log.LogAttrs(ctx, slog.LevelWarn, "retrying upstream request", slog.String("method", req.Method),
			slog.String("url", safe), slog.Int("attempt", attempt), reason, slog.Duration("wait", wait))
		if err := t.opt.Sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("%s %s: waiting %s before attempt %d: %w", req.Method, safe, wait, attempt+1, err)
		}
	}
}

// prepare returns a copy of req carrying the User-Agent and, for GET and HEAD,
// the stored validators.
func (t *Transport) prepare(req *http.Request, safe string) *http.Request {
	ctx := req.Context()
	req = req.Clone(ctx)
	if t.opt.UserAgent != "" && req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", t.opt.UserAgent)
	}
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		return req
	}
	if t.opt.Validators == nil || req.Header.Get("If-None-Match") != "" || req.Header.Get("If-Modified-Since") != "" {
		return req
	}
	key := req.URL.String()
	if forced(ctx) || (t.opt.Force != nil && t.opt.Force(key)) {
		return req
	}
	etag, lastMod, err := t.opt.Validators.Validator(ctx, key)
	if err != nil {
		// A store failure costs a full download, not the fetch.
		t.log.LogAttrs(ctx, slog.LevelWarn, "reading stored validators; fetching unconditionally",
			slog.String("url", safe), slog.String("error", err.Error()))
		return req
	}
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	if lastMod != "" {
		req.Header.Set("If-Modified-Since", lastMod)
	}
	return req
}

// bufferedBody is a response body already read in full.
type bufferedBody struct {
	*bytes.Reader
	data []byte
}

func (*bufferedBody) Close() error { return nil }

// permanentError marks an attempt failure that a retry cannot fix.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }

// attempt sends req once under the per-attempt timeout and buffers the body.
func (t *Transport) attempt(ctx context.Context, req *http.Request, safe string) (*http.Response, error) {
	actx, cancel := context.WithTimeout(ctx, t.opt.Timeout)
	defer cancel()
	timedOut := func() bool { return ctx.Err() == nil && errors.Is(actx.Err(), context.DeadlineExceeded) }
	resp, err := t.base.RoundTrip(req.WithContext(actx))
	if err != nil {
		if timedOut() {
			return nil, &TimeoutError{Method: req.Method, URL: safe, After: t.opt.Timeout, Phase: "waiting for the response"}
		}
		return nil, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, t.opt.MaxBodyBytes+1))
	resp.Body.Close()
	if err != nil {
		if timedOut() {
			return nil, &TimeoutError{Method: req.Method, URL: safe, After: t.opt.Timeout, Phase: "reading the body"}
		}
		return nil, fmt.Errorf("reading body (status %d): %w", resp.StatusCode, err)
	}
	if int64(len(body)) > t.opt.MaxBodyBytes {
		return nil, &permanentError{fmt.Errorf("%s %s: body larger than %d bytes", req.Method, safe, t.opt.MaxBodyBytes)}
	}
	resp.Body = &bufferedBody{Reader: bytes.NewReader(body), data: body}
	resp.ContentLength = int64(len(body))
	resp.Request = req
	return resp, nil
}

func (t *Transport) count(code int) {
	switch {
	case code == http.StatusNotModified:
		t.notModified.Add(1)
	case code >= 200 && code <= 299:
		t.ok2xx.Add(1)
	default:
		t.other.Add(1)
	}
}

type action int

const (
	actionDone action = iota
	actionRetryAfter
	actionBackoff
)

// classify decides what follows a response: hand it back, wait for its
// Retry-After, or back off and try again.
func (t *Transport) classify(resp *http.Response) (time.Duration, action) {
	code := resp.StatusCode
	switch {
	case code == http.StatusTooManyRequests || code == http.StatusForbidden:
		if d, ok := t.retryAfter(resp); ok {
			return d, actionRetryAfter
		}
		if isPrimaryExhausted(resp) {
			return 0, actionDone
		}
		if code == http.StatusTooManyRequests || isSecondaryMessage(resp) {
			return 0, actionBackoff
		}
		return 0, actionDone // a plain permission error
	case code >= 500 && code != http.StatusNotImplemented && code != http.StatusHTTPVersionNotSupported:
		if d, ok := t.retryAfter(resp); ok {
			return d, actionRetryAfter
		}
		return 0, actionBackoff
	}
	return 0, actionDone
}

// isPrimaryExhausted reports GitHub's primary rate limit: the quota is used
// up until X-RateLimit-Reset, so waiting in a retry loop would only spin.
func isPrimaryExhausted(resp *http.Response) bool {
	c := resp.StatusCode
	return (c == http.StatusForbidden || c == http.StatusTooManyRequests) &&
		resp.Header.Get("X-RateLimit-Remaining") == "0" && resp.Header.Get("Retry-After") == ""
}

// isSecondaryMessage recognises a secondary-rate-limit 403 that came without
// Retry-After by GitHub's message; the body is already buffered.
func isSecondaryMessage(resp *http.Response) bool {
	b, ok := resp.Body.(*bufferedBody)
	if !ok {
		return false
	}
	l := strings.ToLower(string(b.data))
	return strings.Contains(l, "secondary rate limit") || strings.Contains(l, "abuse")
}

// retryAfter parses Retry-After as seconds or an HTTP date.
func (t *Transport) retryAfter(resp *http.Response) (time.Duration, bool) {
	v := strings.TrimSpace(resp.Header.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s < 0 {
			return 0, true
		}
		if s > int64(365*24*time.Hour/time.Second) {
			s = int64(365 * 24 * time.Hour / time.Second)
		}
		return time.Duration(s) * time.Second, true
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(at.Sub(t.opt.Now()), 0), true
	}
	return 0, false
}

// backoff is the wait before the attempt after attempt: full jitter over an
// exponential ceiling, so that clients that failed together spread out.
func (t *Transport) backoff(attempt int) time.Duration {
	ceiling := t.opt.MaxDelay
	if attempt >= 1 && attempt < 40 {
		if c := t.opt.BaseDelay << (attempt - 1); c > 0 && c < ceiling {
			ceiling = c
		}
	}
	return time.Duration(t.jitter(int64(ceiling)))
}

func sleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// TimeoutError reports an attempt that got no complete response in time.
type TimeoutError struct {
	Method, URL string
	After       time.Duration
	// Phase says what was pending: the response headers or the body.
	Phase string
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("%s %s: timed out after %s %s", e.Method, e.URL, e.After, e.Phase)
}

// Timeout reports true, as net.Error does.
func (e *TimeoutError) Timeout() bool { return true }

// Unwrap lets errors.Is(err, context.DeadlineExceeded) match.
func (e *TimeoutError) Unwrap() error { return context.DeadlineExceeded }

// RetryAfterError reports a server that asked for a longer pause than the
// transport waits for; the caller should try again after At.
type RetryAfterError struct {
	Method, URL string
	StatusCode  int
	Wait, Limit time.Duration
	At          time.Time
}

func (e *RetryAfterError) Error() string {
	return fmt.Sprintf("%s %s: status %d asks to retry after %s, longer than the %s kubedrift waits", e.Method, e.URL, e.StatusCode, e.Wait, e.Limit)
}

// Redact formats u without userinfo, query or fragment, for errors and logs:
// webhook-style URLs carry secrets there.
func Redact(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	c.User = nil
	c.RawQuery = ""
	c.ForceQuery = false
	c.Fragment = ""
	c.RawFragment = ""
	return c.String()
}

// RedactString is Redact for a URL string; an unparsable string is replaced
// by a placeholder rather than echoed.
func RedactString(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "<invalid URL>"
	}
	return Redact(u)
}
