package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// ErrNoEvaluation is what Options.Pending returns (possibly wrapped) before
// the first scan has finished; the API answers 503 rather than 500.
var ErrNoEvaluation = errors.New("no evaluation yet")

// readyTimeout bounds one readiness check, so a stuck store cannot hold
// probe connections open forever.
const readyTimeout = 5 * time.Second

// Options configures Handler.
type Options struct {
	// Metrics is served on /metrics; nil serves a fresh, empty Metrics.
	Metrics *Metrics
	// Ready returns nil when the service is ready: the store is open and the
	// last successful sync and scan are younger than 3 of their intervals.
	// Nil means always ready.
	Ready func(ctx context.Context) error
	// Pending writes the JSON of `pending -o json` (the caller renders it
	// from the last evaluation). Its output is buffered, so an error halfway
	// still yields an error status. Return ErrNoEvaluation (wrapped or not)
	// before the first scan: the API then answers 503. Nil answers 503.
	Pending func(ctx context.Context, w io.Writer) error
	// APIToken, when set, makes /api/* require "Authorization: Bearer
	// <token>". Surrounding white space is ignored (token files end in a
	// newline).
	APIToken string
	// Logger gets the access log (debug level) and handler errors; nil
	// discards.
	Logger *slog.Logger
}

// Handler serves kubedrift's HTTP endpoints:
//
//	GET /healthz          200 "ok" while the process serves
//	GET /readyz           200 "ok", or 503 with the reason Ready gave
//	GET /metrics          Prometheus exposition of opt.Metrics
//	GET /api/v1/pending   the pending report as JSON (bearer token when set)
//
// Other paths are 404 and other methods 405 (HEAD is served like GET). Under
// /api/ the token is checked first, so unauthenticated clients learn nothing
// about which API paths exist.
func Handler(opt Options) http.Handler {
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := opt.Metrics
	if m == nil {
		m = NewMetrics()
	}
	h := &handler{
		opt: opt,
		log: log,
		metrics: promhttp.HandlerFor(m.Registry(), promhttp.HandlerOpts{
			ErrorLog:      slog.NewLogLogger(log.Handler(), slog.LevelWarn),
			ErrorHandling: promhttp.ContinueOnError,
		}),
	}
	if tok := strings.TrimSpace(opt.APIToken); tok != "" {
		sum := sha256.Sum256([]byte(tok))
		h.tokenSum = sum[:]
	}
	return h
}

type handler struct {
	opt      Options
	log      *slog.Logger
	metrics  http.Handler
	tokenSum []byte // sha256 of the API token; nil when no token is required
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rw := &statusWriter{ResponseWriter: w}
	h.route(rw, r)
	// Only the path: query strings and headers (Authorization) may carry
	// secrets and never reach the log.
	h.log.LogAttrs(r.Context(), slog.LevelDebug, "http request",
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.Int("status", rw.status()),
		slog.Int64("bytes", rw.n),
		slog.Duration("duration", time.Since(start)),
		slog.String("remote", r.RemoteAddr),
	)
}

func (h *handler) route(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	if path == "/api" || strings.HasPrefix(path, "/api/") {
		if !h.authorized(w, r) {
			return
		}
	}
	var serve http.HandlerFunc
	switch path {
	case "/healthz":
		serve = func(w http.ResponseWriter, _ *http.Request) { writeText(w, http.StatusOK, "ok") }
	case "/readyz":
		serve = h.readyz
	case "/metrics":
		serve = h.metrics.ServeHTTP
	case "/api/v1/pending":
		serve = h.pending
	default:
		writeText(w, http.StatusNotFound, "not found")
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeText(w, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	serve(w, r)
}

// authorized checks the bearer token in constant time (on digests, so the
// token's length does not leak either) and answers 401 itself when it fails.
func (h *handler) authorized(w http.ResponseWriter, r *http.Request) bool {
	if h.tokenSum == nil {
		return true
	}
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		w.Header().Set("WWW-Authenticate", `Bearer realm="kubedrift"`)
		writeText(w, http.StatusUnauthorized, "bearer token required")
		return false
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(token)))
	if subtle.ConstantTimeCompare(sum[:], h.tokenSum) != 1 {
		w.Header().Set("WWW-Authenticate", `Bearer realm="kubedrift", error="invalid_token"`)
		writeText(w, http.StatusUnauthorized, "invalid bearer token")
		return false
	}
	return true
}

func (h *handler) readyz(w http.ResponseWriter, r *http.Request) {
	if h.opt.Ready == nil {
		writeText(w, http.StatusOK, "ok")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	if err := h.opt.Ready(ctx); err != nil {
		writeText(w, http.StatusServiceUnavailable, "not ready: "+err.Error())
		return
	}
	writeText(w, http.StatusOK, "ok")
}

func (h *handler) pending(w http.ResponseWriter, r *http.Request) {
	if h.opt.Pending == nil {
		writeText(w, http.StatusServiceUnavailable, ErrNoEvaluation.Error())
		return
	}
	// Buffered so a failure halfway still gets a proper status instead of
	// a truncated 200.
	var buf bytes.Buffer
	if err := h.opt.Pending(r.Context(), &buf); err != nil {
		if errors.Is(err, ErrNoEvaluation) {
			writeText(w, http.StatusServiceUnavailable, ErrNoEvaluation.Error())
			return
		}
		h.log.LogAttrs(r.Context(), slog.LevelError, "render pending report", slog.String("path", r.URL.Path), slog.Any("error", err))
		writeText(w, http.StatusInternalServerError, "could not render the pending report")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

func writeText(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = io.WriteString(w, msg+"\n")
}

// statusWriter records the status and size for the access log.
type statusWriter struct {
	http.ResponseWriter
	code int
	n    int64
}

func (s *statusWriter) WriteHeader(code int) {
	if s.code == 0 {
		s.code = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(p []byte) (int, error) {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(p)
	s.n += int64(n)
	return n, err
}

func (s *statusWriter) status() int {
	if s.code == 0 {
		return http.StatusOK
	}
	return s.code
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }
