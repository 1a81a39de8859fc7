package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kubedrift/kubedrift/tracker"
)

const testToken = "kd-test-3f9c1b7e5a2d4c6b"

// pendingFrom renders ds the way `pending -o json` shapes its report.
func pendingFrom(ds []tracker.ClusterDrift) func(context.Context, io.Writer) error {
	return func(_ context.Context, w io.Writer) error {
		return json.NewEncoder(w).Encode(struct {
			GeneratedAt string                 `json:"generated_at"`
			Clusters    []tracker.ClusterDrift `json:"clusters"`
		}{"2026-03-01T12:00:00Z", ds})
	}
}

func do(t *testing.T, srv *httptest.Server, method, path string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s %s: %v", method, path, err)
	}
	return resp, string(b)
}

func TestHandlerEndpoints(t *testing.T) {
	m := NewMetrics()
	m.ObserveFleet(loadFleet(t, "fleet.json"))
	srv := httptest.NewServer(Handler(Options{
		Metrics:  m,
		Pending:  pendingFrom(loadFleet(t, "fleet.json")),
		APIToken: testToken,
	}))
	defer srv.Close()
	bearer := map[string]string{"Authorization": "Bearer " + testToken}

	tests := []struct {
		name       string
		method     string
		path       string
		hdr        map[string]string
		wantStatus int
		wantType   string // prefix of Content-Type
		wantBody   string // substring
		wantHeader map[string]string
	}{
		{name: "healthz", method: "GET", path: "/healthz", wantStatus: 200, wantType: "text/plain", wantBody: "ok"},
		{name: "healthz head", method: "HEAD", path: "/healthz", wantStatus: 200, wantType: "text/plain"},
		{name: "readyz without Ready", method: "GET", path: "/readyz", wantStatus: 200, wantType: "text/plain", wantBody: "ok"},
		{name: "metrics", method: "GET", path: "/metrics", wantStatus: 200, wantType: "text/plain", wantBody: `kubedrift_cluster_minor_versions_behind{cluster="prod-eu"} 13`},
		{name: "metrics needs no token", method: "GET", path: "/metrics", wantStatus: 200, wantType: "text/plain", wantBody: "kubedrift_cluster_info"},
		{name: "pending with token", method: "GET", path: "/api/v1/pending", hdr: bearer, wantStatus: 200, wantType: "application/json", wantBody: `"name":"prod-eu"`},
		{name: "pending lower-case scheme", method: "GET", path: "/api/v1/pending", hdr: map[string]string{"Authorization": "bearer " + testToken}, wantStatus: 200, wantType: "application/json"},
		{name: "pending without token", method: "GET", path: "/api/v1/pending", wantStatus: 401, wantType: "text/plain",
			wantHeader: map[string]string{"WWW-Authenticate": `Bearer realm="kubedrift"`}},
		{name: "pending wrong token", method: "GET", path: "/api/v1/pending", hdr: map[string]string{"Authorization": "Bearer " + testToken + "x"}, wantStatus: 401,
			wantHeader: map[string]string{"WWW-Authenticate": `Bearer realm="kubedrift", error="invalid_token"`}},
		{name: "pending token prefix", method: "GET", path: "/api/v1/pending", hdr: map[string]string{"Authorization": "Bearer " + testToken[:8]}, wantStatus: 401},
		{name: "pending basic auth", method: "GET", path: "/api/v1/pending", hdr: map[string]string{"Authorization": "Basic a2Q6" + testToken}, wantStatus: 401},
		{name: "unknown api path hides behind auth", method: "GET", path: "/api/v2/secret", wantStatus: 401},
		{name: "unknown api path with token", method: "GET", path: "/api/v2/secret", hdr: bearer, wantStatus: 404},
		{name: "unknown path", method: "GET", path: "/nope", wantStatus: 404, wantType: "text/plain"},
		{name: "trailing slash", method: "GET", path: "/metrics/", wantStatus: 404},
		{name: "unknown path post", method: "POST", path: "/nope", wantStatus: 404},
		{name: "post healthz", method: "POST", path: "/healthz", wantStatus: 405, wantHeader: map[string]string{"Allow": "GET, HEAD"}},
		{name: "delete metrics", method: "DELETE", path: "/metrics", wantStatus: 405},
		{name: "put readyz", method: "PUT", path: "/readyz", wantStatus: 405},
		{name: "post pending with token", method: "POST", path: "/api/v1/pending", hdr: bearer, wantStatus: 405},
		{name: "post pending without token", method: "POST", path: "/api/v1/pending", wantStatus: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := do(t, srv, tt.method, tt.path, tt.hdr)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d (body %q)", resp.StatusCode, tt.wantStatus, body)
			}
			if ct := resp.Header.Get("Content-Type"); tt.wantType != "" && !strings.HasPrefix(ct, tt.wantType) {
				t.Errorf("Content-Type = %q, want %s…", ct, tt.wantType)
			}
			if !strings.Contains(body, tt.wantBody) {
				t.Errorf("body does not contain %q:\n%.500s", tt.wantBody, body)
			}
			for k, v := range tt.wantHeader {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if resp.StatusCode == 401 && strings.Contains(body, "prod-eu") {
				t.Errorf("401 leaked the report: %q", body)
			}
		})
	}
}

func TestPendingJSON(t *testing.T) {
	fleet := loadFleet(t, "fleet.json")
	srv := httptest.NewServer(Handler(Options{Pending: pendingFrom(fleet)})) // no token: open API
	defer srv.Close()
	resp, body := do(t, srv, "GET", "/api/v1/pending", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var rep struct {
		GeneratedAt string                 `json:"generated_at"`
		Clusters    []tracker.ClusterDrift `json:"clusters"`
	}
	if err := json.Unmarshal([]byte(body), &rep); err != nil {
		t.Fatalf("decode body: %v", err)
	}
	if rep.GeneratedAt != "2026-03-01T12:00:00Z" || len(rep.Clusters) != len(fleet) {
		t.Fatalf("got generated_at %q and %d clusters, want 4", rep.GeneratedAt, len(rep.Clusters))
	}
	for i, c := range rep.Clusters {
		if c.Name != fleet[i].Name || c.Version != fleet[i].Version || len(c.CVEs) != len(fleet[i].CVEs) {
			t.Errorf("cluster %d = %s %s (%d CVEs), want %s %s (%d CVEs)", i, c.Name, c.Version, len(c.CVEs), fleet[i].Name, fleet[i].Version, len(fleet[i].CVEs))
		}
	}
	if got, want := resp.Header.Get("Content-Length"), fmt.Sprint(len(body)); got != want {
		t.Errorf("Content-Length = %s, want %s", got, want)
	}
}

func TestPendingErrors(t *testing.T) {
	tests := []struct {
		name       string
		pending    func(context.Context, io.Writer) error
		wantStatus int
		wantBody   string
		wantLog    string
	}{
		{name: "no pending func", wantStatus: 503, wantBody: "no evaluation yet"},
		{name: "no evaluation yet", pending: func(context.Context, io.Writer) error {
			return fmt.Errorf("render pending: %w", ErrNoEvaluation)
		}, wantStatus: 503, wantBody: "no evaluation yet"},
		{name: "failure halfway", pending: func(_ context.Context, w io.Writer) error {
			io.WriteString(w, `{"generated_at":"x","clusters":[`)
			return errors.New("encode cluster \"prod-eu\": boom")
		}, wantStatus: 500, wantBody: "could not render", wantLog: "boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs syncBuffer
			srv := httptest.NewServer(Handler(Options{
				Pending: tt.pending,
				Logger:  slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
			}))
			defer srv.Close()
			resp, body := do(t, srv, "GET", "/api/v1/pending", nil)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if !strings.Contains(body, tt.wantBody) {
				t.Errorf("body %q does not contain %q", body, tt.wantBody)
			}
			if strings.Contains(body, "generated_at") {
				t.Errorf("partial JSON leaked into an error response: %q", body)
			}
			if !strings.Contains(logs.String(), tt.wantLog) {
				t.Errorf("log does not contain %q:\n%s", tt.wantLog, logs.String())
			}
		})
	}
}

func TestReadyzFlips(t *testing.T) {
	var notReady atomic.Pointer[error]
	srv := httptest.NewServer(Handler(Options{Ready: func(ctx context.Context) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if p := notReady.Load(); p != nil {
			return *p
		}
		return nil
	}}))
	defer srv.Close()

	steps := []struct {
		name       string
		err        error
		wantStatus int
		wantBody   string
	}{
		{"ready", nil, 200, "ok"},
		{"sync stale", errors.New("last successful sync 3h0m0s ago (interval 1h0m0s)"), 503, "not ready: last successful sync 3h0m0s ago"},
		{"store closed", errors.New("store /var/lib/kubedrift/store.db is not open"), 503, "store /var/lib/kubedrift/store.db is not open"},
		{"ready again", nil, 200, "ok"},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if s.err != nil {
				notReady.Store(&s.err)
			} else {
				notReady.Store(nil)
			}
			resp, body := do(t, srv, "GET", "/readyz", nil)
			if resp.StatusCode != s.wantStatus || !strings.Contains(body, s.wantBody) {
				t.Errorf("readyz = %d %q, want %d containing %q", resp.StatusCode, body, s.wantStatus, s.wantBody)
			}
			// Liveness does not depend on readiness.
			if resp, _ := do(t, srv, "GET", "/healthz", nil); resp.StatusCode != 200 {
				t.Errorf("healthz = %d while readyz is %d", resp.StatusCode, s.wantStatus)
			}
		})
	}
}

func TestAccessLogHasNoSecrets(t *testing.T) {
	var logs syncBuffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := httptest.NewServer(Handler(Options{Pending: pendingFrom(nil), APIToken: testToken, Logger: log}))
	defer srv.Close()

	const querySecret = "q-secret-71d2"
	tests := []struct {
		name       string
		path       string
		auth       string
		wantStatus int
	}{
		{"authorised", "/api/v1/pending?token=" + querySecret, "Bearer " + testToken, 200},
		{"wrong token", "/api/v1/pending?token=" + querySecret, "Bearer " + testToken + "-wrong", 401},
		{"health with query", "/healthz?token=" + querySecret, "Bearer " + testToken, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs.Reset()
			resp, _ := do(t, srv, "GET", tt.path, map[string]string{"Authorization": tt.auth})
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			out := waitForLog(t, &logs)
			var rec map[string]any
			if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &rec); err != nil {
				t.Fatalf("want one JSON access-log record, got %q: %v", out, err)
			}
			wantPath := tt.path[:strings.IndexByte(tt.path, '?')]
			if rec["msg"] != "http request" || rec["level"] != "DEBUG" || rec["path"] != wantPath || rec["status"] != float64(tt.wantStatus) {
				t.Errorf("access log record = %v, want debug, path %s, status %d", rec, wantPath, tt.wantStatus)
			}
			for _, secret := range []string{testToken, querySecret, "Bearer", "Authorization"} {
				if strings.Contains(out, secret) {
					t.Errorf("log contains %q: %s", secret, out)
				}
			}
		})
	}
}

// waitForLog returns the log once something was written: the access log
// line is written after the handler returns, which may be after the client
// has its response. The deadline only guards against a hang.
func waitForLog(t *testing.T, logs *syncBuffer) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if out := logs.String(); strings.HasSuffix(out, "\n") || time.Now().After(deadline) {
			return out
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines to write
// while the test reads.
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

func (s *syncBuffer) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.Reset()
}

// FuzzAuthorization: whatever the header, the handler never panics and
// grants access only for exactly the configured token.
func FuzzAuthorization(f *testing.F) {
	for _, s := range []string{"Bearer " + testToken, "bearer " + testToken, "Bearer", "Bearer ", "", "Basic eDp5", "Bearer " + testToken + "\x00", "Bearer  " + testToken} {
		f.Add(s)
	}
	h := Handler(Options{APIToken: testToken, Pending: pendingFrom(nil)})
	f.Fuzz(func(t *testing.T, auth string) {
		req := httptest.NewRequest(http.MethodGet, "/api/v1/pending", nil)
		req.Header["Authorization"] = []string{auth}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		scheme, tok, _ := strings.Cut(auth, " ")
		valid := strings.EqualFold(scheme, "Bearer") && strings.TrimSpace(tok) == testToken
		if valid != (rec.Code == http.StatusOK) {
			t.Fatalf("Authorization %q: status %d, valid %v", auth, rec.Code, valid)
		}
		if rec.Code == http.StatusUnauthorized && rec.Header().Get("WWW-Authenticate") == "" {
			t.Fatalf("401 without WWW-Authenticate")
		}
	})
}

func TestAPITokenFromFileIsTrimmed(t *testing.T) {
	srv := httptest.NewServer(Handler(Options{APIToken: testToken + "\n", Pending: pendingFrom(nil)}))
	defer srv.Close()
	tests := []struct {
		name string
		auth string
		want int
	}{
		{"token without newline", "Bearer " + testToken, 200},
		{"empty bearer", "Bearer ", 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if resp, _ := do(t, srv, "GET", "/api/v1/pending", map[string]string{"Authorization": tt.auth}); resp.StatusCode != tt.want {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
}
