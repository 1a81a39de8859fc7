package fetch_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kubedrift/kubedrift/feeds/fetch"
)

// memValidators is a ValidatorSource over a map, standing in for the store.
type memValidators struct {
	mu sync.Mutex
	m  map[string]fetch.Validator
}

func (s *memValidators) Validator(_ context.Context, url string) (string, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.m[url]
	return v.ETag, v.LastModified, nil
}

func (s *memValidators) put(v fetch.Validator) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]fetch.Validator{}
	}
	s.m[v.URL] = v
}

type failingValidators struct{}

func (failingValidators) Validator(context.Context, string) (string, string, error) {
	return "", "", errors.New("store offline")
}

// sleeps records the waits the transport asked for without waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

// script serves the responses in order, then the last one forever.
type script struct {
	hits  atomic.Int32
	steps []func(w http.ResponseWriter, r *http.Request)
	seen  []http.Header
	mu    sync.Mutex
}

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := int(s.hits.Add(1)) - 1
	s.mu.Lock()
	s.seen = append(s.seen, r.Header.Clone())
	s.mu.Unlock()
	s.steps[min(n, len(s.steps)-1)](w, r)
}

func status(code int, hdr ...string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(hdr); i += 2 {
			w.Header().Set(hdr[i], hdr[i+1])
		}
		w.WriteHeader(code)
		fmt.Fprintf(w, `{"message":"status %d"}`, code)
	}
}

func body(s string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("Last-Modified", "Mon, 02 Jan 2006 15:04:05 GMT")
		w.Write([]byte(s))
	}
}

// hangup closes the connection without a response.
func hangup(w http.ResponseWriter, _ *http.Request) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		conn.Close()
	}
}

// truncated promises more bytes than it sends, then drops the connection.
func truncated(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Length", "100")
	w.Write([]byte(`{"half":`))
	w.(http.Flusher).Flush()
	panic(http.ErrAbortHandler)
}

func newClient(t *testing.T, opt fetch.Options) (*http.Client, *fetch.Transport) {
	t.Helper()
	tr := fetch.NewTransport(opt)
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}, tr
}

func TestConditionalRequests(t *testing.T) {
	var etagHits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"abc"`)
		w.Header().Set("Last-Modified", "Tue, 01 Oct 2024 10:00:00 GMT")
		if r.Header.Get("If-None-Match") == `"abc"` {
			etagHits.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Write([]byte("schedule"))
	}))
	defer srv.Close()
	store := &memValidators{}
	c, tr := newClient(t, fetch.Options{Validators: store, Sleep: (&sleeps{}).sleep})
	ctx := context.Background()
	url := srv.URL + "/schedule.yaml?ref=main"

	first, err := fetch.Get(ctx, c, url)
	if err != nil {
		t.Fatal(err)
	}
	if first.NotModified || string(first.Body) != "schedule" {
		t.Fatalf("first GET: NotModified=%v body=%q", first.NotModified, first.Body)
	}
	want := fetch.Validator{URL: url, ETag: `"abc"`, LastModified: "Tue, 01 Oct 2024 10:00:00 GMT"}
	if first.Validator != want {
		t.Fatalf("validator = %+v, want %+v", first.Validator, want)
	}
	store.put(first.Validator)

	second, err := fetch.Get(ctx, c, url)
	if err != nil {
		t.Fatal(err)
	}
	if !second.NotModified || len(second.Body) != 0 {
		t.Fatalf("second GET: NotModified=%v body=%q", second.NotModified, second.Body)
	}
	if second.Validator != want {
		t.Errorf("304 validator = %+v, want the stored one %+v", second.Validator, want)
	}

	forced, err := fetch.Get(fetch.WithForce(ctx), c, url)
	if err != nil {
		t.Fatal(err)
	}
	if forced.NotModified {
		t.Error("WithForce: got 304, want the full document")
	}
	st := tr.Stats()
	if st.Requests != 3 || st.Status200 != 2 || st.Status304 != 1 || st.Retries != 0 {
		t.Errorf("stats = %+v, want 3 requests, 2×200, 1×304", st)
	}
	if etagHits.Load() != 1 {
		t.Errorf("server saw If-None-Match %d times, want 1", etagHits.Load())
	}
}

func TestConditionalHeaders(t *testing.T) {
	tests := []struct {
		name      string
		opt       fetch.Options
		ctx       func(context.Context) context.Context
		preset    string
		wantINM   string
		wantIMS   string
		method    string
		wantCalls int
	}{
		{name: "stored validators", wantINM: `"e1"`, wantIMS: "Wed, 02 Oct 2024 00:00:00 GMT"},
		{name: "caller header wins", preset: `"mine"`, wantINM: `"mine"`},
		{name: "force per request", ctx: fetch.WithForce},
		{name: "force option", opt: fetch.Options{Force: func(u string) bool { return strings.HasSuffix(u, "/doc") }}},
		{name: "not for POST", method: http.MethodPost},
		{name: "store failure fetches unconditionally", opt: fetch.Options{Validators: failingValidators{}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got http.Header
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got = r.Header.Clone()
			}))
			defer srv.Close()
			store := &memValidators{}
			store.put(fetch.Validator{URL: srv.URL + "/doc", ETag: `"e1"`, LastModified: "Wed, 02 Oct 2024 00:00:00 GMT"})
			opt := tc.opt
			if opt.Validators == nil {
				opt.Validators = store
			}
			c, _ := newClient(t, opt)
			ctx := context.Background()
			if tc.ctx != nil {
				ctx = tc.ctx(ctx)
			}
			method := tc.method
			if method == "" {
				method = http.MethodGet
			}
			req, _ := http.NewRequestWithContext(ctx, method, srv.URL+"/doc", nil)
			if tc.preset != "" {
				req.Header.Set("If-None-Match", tc.preset)
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if g := got.Get("If-None-Match"); g != tc.wantINM {
				t.Errorf("If-None-Match = %q, want %q", g, tc.wantINM)
			}
			if g := got.Get("If-Modified-Since"); g != tc.wantIMS {
				t.Errorf("If-Modified-Since = %q, want %q", g, tc.wantIMS)
			}
			if tc.preset == "" && req.Header.Get("If-None-Match") != "" {
				t.Error("transport modified the caller's request")
			}
		})
	}
}

func TestRetries(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		steps      []func(http.ResponseWriter, *http.Request)
		wantStatus int
		wantHits   int
		wantSleeps []time.Duration // exact waits; nil: only count them
		wantWaits  int
	}{
		{name: "500 then 200", steps: []func(http.ResponseWriter, *http.Request){status(500), body("ok")}, wantStatus: 200, wantHits: 2, wantWaits: 1},
		{name: "429 retry-after seconds", steps: []func(http.ResponseWriter, *http.Request){status(429, "Retry-After", "7"), body("ok")},
			wantStatus: 200, wantHits: 2, wantSleeps: []time.Duration{7 * time.Second}},
		{name: "429 retry-after date", steps: []func(http.ResponseWriter, *http.Request){status(429, "Retry-After", now.Add(90*time.Second).Format(http.TimeFormat)), body("ok")},
			wantStatus: 200, wantHits: 2, wantSleeps: []time.Duration{90 * time.Second}},
		{name: "403 secondary retry-after", steps: []func(http.ResponseWriter, *http.Request){
			status(403, "Retry-After", "3", "X-RateLimit-Remaining", "4000"), body("ok")},
			wantStatus: 200, wantHits: 2, wantSleeps: []time.Duration{3 * time.Second}},
		{name: "403 secondary message without retry-after", steps: []func(http.ResponseWriter, *http.Request){
			func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(403)
				w.Write([]byte(`{"message":"You have exceeded a secondary rate limit."}`))
			}, body("ok")}, wantStatus: 200, wantHits: 2, wantWaits: 1},
		{name: "503 retry-after", steps: []func(http.ResponseWriter, *http.Request){status(503, "Retry-After", "2"), body("ok")},
			wantStatus: 200, wantHits: 2, wantSleeps: []time.Duration{2 * time.Second}},
		{name: "primary limit exhausted is not retried", steps: []func(http.ResponseWriter, *http.Request){
			status(403, "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", "1772370000"), body("ok")},
			wantStatus: 403, wantHits: 1, wantSleeps: []time.Duration{}},
		{name: "primary limit 429 is not retried", steps: []func(http.ResponseWriter, *http.Request){
			status(429, "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", "1772370000"), body("ok")},
			wantStatus: 429, wantHits: 1, wantSleeps: []time.Duration{}},
		{name: "plain 403 is not retried", steps: []func(http.ResponseWriter, *http.Request){status(403), body("ok")},
			wantStatus: 403, wantHits: 1, wantSleeps: []time.Duration{}},
		{name: "404 is not retried", steps: []func(http.ResponseWriter, *http.Request){status(404), body("ok")},
			wantStatus: 404, wantHits: 1, wantSleeps: []time.Duration{}},
		{name: "connection closed then 200", steps: []func(http.ResponseWriter, *http.Request){hangup, body("ok")},
			wantStatus: 200, wantHits: 2, wantWaits: 1},
		{name: "truncated body then 200", steps: []func(http.ResponseWriter, *http.Request){truncated, body("ok")},
			wantStatus: 200, wantHits: 2, wantWaits: 1},
		{name: "attempts used up returns last response", steps: []func(http.ResponseWriter, *http.Request){status(502)},
			wantStatus: 502, wantHits: 3, wantWaits: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sc := &script{steps: tc.steps}
			srv := httptest.NewServer(sc)
			defer srv.Close()
			sl := &sleeps{}
			c, tr := newClient(t, fetch.Options{MaxAttempts: 3, Sleep: sl.sleep, Now: func() time.Time { return now }})
			resp, err := c.Get(srv.URL + "/x")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tc.wantStatus)
			}
			if got := int(sc.hits.Load()); got != tc.wantHits {
				t.Errorf("server saw %d requests, want %d", got, tc.wantHits)
			}
			got := sl.all()
			if tc.wantSleeps != nil {
				if fmt.Sprint(got) != fmt.Sprint(tc.wantSleeps) && !(len(got) == 0 && len(tc.wantSleeps) == 0) {
					t.Errorf("waits = %v, want %v", got, tc.wantSleeps)
				}
			} else if len(got) != tc.wantWaits {
				t.Errorf("waited %d times (%v), want %d", len(got), got, tc.wantWaits)
			}
			if st := tr.Stats(); st.Requests != int64(tc.wantHits) || st.Retries != int64(tc.wantHits-1) {
				t.Errorf("stats = %+v, want %d requests and %d retries", st, tc.wantHits, tc.wantHits-1)
			}
		})
	}
}

func TestRetryAfterTooLong(t *testing.T) {
	sc := &script{steps: []func(http.ResponseWriter, *http.Request){status(429, "Retry-After", "600"), body("ok")}}
	srv := httptest.NewServer(sc)
	defer srv.Close()
	sl := &sleeps{}
	c, _ := newClient(t, fetch.Options{MaxRetryAfter: time.Minute, Sleep: sl.sleep})
	_, err := fetch.Get(context.Background(), c, srv.URL+"/feed.json")
	var ra *fetch.RetryAfterError
	if !errors.As(err, &ra) {
		t.Fatalf("error = %v, want *RetryAfterError", err)
	}
	if ra.Wait != 10*time.Minute || !strings.Contains(err.Error(), "10m0s") || !strings.Contains(err.Error(), srv.URL+"/feed.json") {
		t.Errorf("error %q should name the 10m0s wait and the URL", err)
	}
	if sc.hits.Load() != 1 || len(sl.all()) != 0 {
		t.Errorf("hits=%d sleeps=%v: want one request and no wait", sc.hits.Load(), sl.all())
	}
}

func TestErrorsNameURL(t *testing.T) {
	tests := []struct {
		name  string
		steps []func(http.ResponseWriter, *http.Request)
		is    func(error) bool
		want  string
	}{
		{name: "connection closed every time", steps: []func(http.ResponseWriter, *http.Request){hangup}, want: "giving up after 2 attempts"},
		{name: "truncated every time", steps: []func(http.ResponseWriter, *http.Request){truncated}, want: "reading body"},
		{name: "status error", steps: []func(http.ResponseWriter, *http.Request){status(410)},
			is: func(err error) bool { var se *fetch.StatusError; return errors.As(err, &se) && se.Code == 410 }, want: "unexpected status 410"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(&script{steps: tc.steps})
			defer srv.Close()
			c, _ := newClient(t, fetch.Options{MaxAttempts: 2, Sleep: (&sleeps{}).sleep})
			u := strings.Replace(srv.URL, "http://", "http://user:hunter2@", 1) + "/hook/path?token=s3cr3t#frag"
			_, err := fetch.Get(context.Background(), c, u)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if !strings.Contains(msg, srv.URL+"/hook/path") || !strings.Contains(msg, tc.want) {
				t.Errorf("error %q should name %s/hook/path and say %q", msg, srv.URL, tc.want)
			}
			for _, secret := range []string{"hunter2", "s3cr3t", "token=", "frag"} {
				if strings.Contains(msg, secret) {
					t.Errorf("error %q leaks %q", msg, secret)
				}
			}
			if tc.is != nil && !tc.is(err) {
				t.Errorf("error %T does not match the expected type", err)
			}
		})
	}
}

func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	tests := []struct {
		name  string
		h     http.HandlerFunc
		phase string
	}{
		{name: "no response", h: func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}, phase: "waiting for the response"},
		{name: "body stalls", h: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "1000")
			w.Write([]byte("partial"))
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}, phase: "reading the body"},
	}
	defer close(release)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var hits atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				tc.h(w, r)
			}))
			defer srv.Close()
			// Generous enough for headers on a loaded machine: the body case
			// checks that the timer still runs while the body is read.
			c, _ := newClient(t, fetch.Options{Timeout: 300 * time.Millisecond, MaxAttempts: 2, Sleep: (&sleeps{}).sleep})
			_, err := fetch.Get(context.Background(), c, srv.URL+"/slow")
			var te *fetch.TimeoutError
			if !errors.As(err, &te) || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("error = %v, want a *TimeoutError", err)
			}
			if te.Phase != tc.phase || !strings.Contains(err.Error(), srv.URL+"/slow") {
				t.Errorf("error %q: want phase %q and the URL", err, tc.phase)
			}
			if hits.Load() != 2 {
				t.Errorf("server saw %d attempts, want 2", hits.Load())
			}
		})
	}
}

func TestCancelDuringWait(t *testing.T) {
	srv := httptest.NewServer(&script{steps: []func(http.ResponseWriter, *http.Request){status(503, "Retry-After", "30")}})
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	c, _ := newClient(t, fetch.Options{Sleep: func(context.Context, time.Duration) error { cancel(); return context.Canceled }})
	_, err := fetch.Get(ctx, c, srv.URL+"/x")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
}

func TestSecretsNeverLogged(t *testing.T) {
	const token = "ghp_TopSecretToken123"
	sc := &script{steps: []func(http.ResponseWriter, *http.Request){status(500), hangup, status(429, "Retry-After", "1"), body("ok")}}
	srv := httptest.NewServer(sc)
	defer srv.Close()
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	// No keep-alive: net/http would itself resend a GET whose reused
	// connection closed, hiding the hang-up from the count below.
	base := &http.Transport{DisableKeepAlives: true}
	c, tr := newClient(t, fetch.Options{Base: base, Logger: logger, Sleep: (&sleeps{}).sleep})
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api?access_token="+token, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if tr.Stats().Retries != 3 {
		t.Fatalf("retries = %d, want 3", tr.Stats().Retries)
	}
	for i, h := range sc.seen {
		if h.Get("Authorization") != "Bearer "+token {
			t.Errorf("attempt %d lost the Authorization header", i+1)
		}
	}
	if !strings.Contains(logs.String(), "retrying upstream request") {
		t.Fatalf("no retry logged:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), token) || strings.Contains(logs.String(), "Authorization") {
		t.Errorf("log leaks the token:\n%s", logs.String())
	}
}

func TestUserAgent(t *testing.T) {
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.UserAgent() }))
	defer srv.Close()
	c, _ := newClient(t, fetch.Options{UserAgent: "kubedrift-test/1"})
	if _, err := fetch.Get(context.Background(), c, srv.URL); err != nil {
		t.Fatal(err)
	}
	if got != "kubedrift-test/1" {
		t.Errorf("User-Agent = %q", got)
	}
}

func TestBodyLimit(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(bytes.Repeat([]byte("x"), 2048))
	}))
	defer srv.Close()
	sl := &sleeps{}
	c, tr := newClient(t, fetch.Options{MaxBodyBytes: 1024, Sleep: sl.sleep})
	_, err := fetch.Get(context.Background(), c, srv.URL+"/big")
	if err == nil || !strings.Contains(err.Error(), "larger than 1024 bytes") {
		t.Fatalf("error = %v, want a size error", err)
	}
	if tr.Stats().Requests != 1 {
		t.Errorf("an oversized body was retried: %+v", tr.Stats())
	}
}

func TestValidatorOf(t *testing.T) {
	req := httptest.NewRequest(http.MethodGet, "http://example.test/a?page=2", nil)
	req.Header.Set("If-None-Match", `"old"`)
	tests := []struct {
		name string
		resp *http.Response
		want fetch.Validator
	}{
		{name: "nil", want: fetch.Validator{}},
		{name: "200 headers", resp: &http.Response{StatusCode: 200, Request: req, Header: http.Header{"Etag": {`"new"`}}},
			want: fetch.Validator{URL: "http://example.test/a?page=2", ETag: `"new"`}},
		{name: "304 without headers keeps the request's", resp: &http.Response{StatusCode: 304, Request: req, Header: http.Header{}},
			want: fetch.Validator{URL: "http://example.test/a?page=2", ETag: `"old"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := fetch.ValidatorOf(tc.resp); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://hooks.example.test/services/T0/B0/XYZ?token=abc#f", "https://hooks.example.test/services/T0/B0/XYZ"},
		{"https://user:pw@api.github.com/repos/kubernetes/kubernetes/releases?page=2", "https://api.github.com/repos/kubernetes/kubernetes/releases"},
		{"://bad", "<invalid URL>"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := fetch.RedactString(tc.in); got != tc.want {
				t.Errorf("RedactString(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func BenchmarkConditionalGet(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"abc"`)
		if r.Header.Get("If-None-Match") == `"abc"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Write(bytes.Repeat([]byte("k"), 64<<10))
	}))
	defer srv.Close()
	for _, tc := range []struct {
		name  string
		store fetch.ValidatorSource
	}{{"304", &memValidators{m: map[string]fetch.Validator{srv.URL + "/f": {URL: srv.URL + "/f", ETag: `"abc"`}}}}, {"200-64KiB", nil}} {
		b.Run(tc.name, func(b *testing.B) {
			tr := fetch.NewTransport(fetch.Options{Validators: tc.store})
			defer tr.CloseIdleConnections()
			c := &http.Client{Transport: tr}
			for b.Loop() {
				if _, err := fetch.Get(context.Background(), c, srv.URL+"/f"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
