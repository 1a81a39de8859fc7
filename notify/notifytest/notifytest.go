package notifytest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
)

// maxBody caps what one recorded request may hold; channels split their
// messages far below it, so hitting it is itself a finding.
const maxBody = 16 << 20

// Request is one request as the receiver saw it.
type Request struct {
	Method   string
	Path     string
	RawQuery string
	Header   http.Header
	Body     []byte
}

// Form parses a form-encoded body (chat.postMessage sends its fields this
// way, with the blocks as a JSON string in "blocks").
func (r Request) Form() (url.Values, error) {
	v, err := url.ParseQuery(string(r.Body))
	if err != nil {
		return nil, fmt.Errorf("notifytest: parse form body of %s %s: %w", r.Method, r.Path, err)
	}
	return v, nil
}

// DecodeJSON decodes a JSON body into v.
func (r Request) DecodeJSON(v any) error {
	if err := json.Unmarshal(r.Body, v); err != nil {
		return fmt.Errorf("notifytest: decode JSON body of %s %s: %w", r.Method, r.Path, err)
	}
	return nil
}

// Response is one scripted answer.
type Response struct {
	Status int
	Header http.Header
	Body   string
	// Drop closes the connection without answering, which the client sees
	// as a transport error.
	Drop bool
}

// SlackWebhookOK is what a Slack incoming webhook answers on success.
func SlackWebhookOK() Response {
	return Text(http.StatusOK, "ok")
}

// SlackAPIOK is a successful chat.postMessage answer.
func SlackAPIOK() Response {
	return JSON(http.StatusOK, `{"ok":true,"channel":"C0KUBEDRIFT","ts":"1700000000.000100"}`)
}

// SlackAPIError is a failed Web API call: Slack answers HTTP 200 with
// ok:false and an error code such as "channel_not_found" or "ratelimited".
func SlackAPIError(code string) Response {
	b, _ := json.Marshal(map[string]any{"ok": false, "error": code})
	return JSON(http.StatusOK, string(b))
}

// RateLimited answers 429 with the given Retry-After value (seconds or an
// HTTP date; "" omits the header).
func RateLimited(retryAfter string) Response {
	r := Text(http.StatusTooManyRequests, "rate_limited")
	if retryAfter != "" {
		r.Header.Set("Retry-After", retryAfter)
	}
	return r
}

// Text answers status with a text/plain body (Slack webhooks answer errors
// such as "invalid_payload" or "no_service" this way).
func Text(status int, body string) Response {
	return Response{Status: status, Header: http.Header{"Content-Type": {"text/plain; charset=utf-8"}}, Body: body}
}

// JSON answers status with an application/json body.
func JSON(status int, body string) Response {
	return Response{Status: status, Header: http.Header{"Content-Type": {"application/json; charset=utf-8"}}, Body: body}
}

// Dropped closes the connection without an answer.
func Dropped() Response { return Response{Drop: true} }

// Receiver is a recording HTTP server on 127.0.0.1. It is safe for
// concurrent use. Requests are answered from the script in order; once the
// script is used up every request gets the default answer.
type Receiver struct {
	// URL is the server's base URL, e.g. http://127.0.0.1:41234.
	URL string

	srv *httptest.Server

	mu       sync.Mutex
	requests []Request
	script   []Response
	fallback Response
}

// New starts a receiver whose default answer is fallback, scripted with
// script, and closes it when the test ends.
func New(t testing.TB, fallback Response, script ...Response) *Receiver {
	t.Helper()
	r := NewServer(fallback, script...)
	t.Cleanup(r.Close)
	return r
}

// NewServer starts a receiver outside a test's lifetime (end-to-end
// harnesses); the caller closes it.
func NewServer(fallback Response, script ...Response) *Receiver {
	r := &Receiver{fallback: fallback, script: append([]Response(nil), script...)}
	// httptest listens on 127.0.0.1 (or ::1 when IPv4 is unavailable).
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	r.URL = r.srv.URL
	return r
}

// Close shuts the server down; later requests fail to connect.
func (r *Receiver) Close() { r.srv.Close() }

// Client returns an HTTP client for the receiver.
func (r *Receiver) Client() *http.Client { return r.srv.Client() }

// Script appends answers to the script.
func (r *Receiver) Script(resps ...Response) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.script = append(r.script, resps...)
}

// Requests returns a copy of every request received so far, in order.
func (r *Receiver) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Request, len(r.requests))
	for i, q := range r.requests {
		q.Header = q.Header.Clone()
		q.Body = append([]byte(nil), q.Body...)
		out[i] = q
	}
	return out
}

// Bodies returns the body of every request received so far, in order.
func (r *Receiver) Bodies() [][]byte {
	reqs := r.Requests()
	out := make([][]byte, len(reqs))
	for i, q := range reqs {
		out[i] = q.Body
	}
	return out
}

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(io.LimitReader(req.Body, maxBody+1))
	if err != nil {
		http.Error(w, "notifytest: read body: "+err.Error(), http.StatusBadRequest)
		return
	}
	if len(body) > maxBody {
		http.Error(w, "notifytest: body over 16 MiB", http.StatusRequestEntityTooLarge)
		return
	}

	r.mu.Lock()
	r.requests = append(r.requests, Request{
		Method:   req.Method,
		Path:     req.URL.Path,
		RawQuery: req.URL.RawQuery,
		Header:   req.Header.Clone(),
		Body:     body,
	})
	resp := r.fallback
	if len(r.script) > 0 {
		resp = r.script[0]
		r.script = r.script[1:]
	}
	r.mu.Unlock()

	if resp.Drop {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		// Without hijacking, aborting the handler also drops the connection.
		panic(http.ErrAbortHandler)
	}
	for k, vs := range resp.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	status := resp.Status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	io.WriteString(w, resp.Body)
}
