package githubtest

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kubedrift/kubedrift/tracker"
)

// Release is one release the fake serves.
type Release struct {
	Owner, Repo string
	Tag         string
	// Name defaults to Tag.
	Name              string
	Prerelease, Draft bool
	// PublishedAt is omitted from the JSON when zero.
	PublishedAt time.Time
	Body        string
	// ID is assigned when zero.
	ID int64
}

// Options configure a Server.
type Options struct {
	Releases []Release
	// Files maps "owner/repo/path" to raw content.
	Files map[string][]byte
	// RateLimit is X-RateLimit-Limit; 0 means 5000. Every answered request
	// except a 304 uses one; at zero the server answers 403 like GitHub.
	RateLimit int
}

// Request is what the server recorded about one request. It keeps only
// whether an Authorization header came, never its value.
type Request struct {
	Method, Path, Query string
	Status              int
	IfNoneMatch         string
	IfModifiedSince     string
	Accept              string
	Authorization       bool
}

// Server is a fake GitHub REST API on 127.0.0.1. It accepts paths with and
// without the /api/v3 prefix GitHub Enterprise clients use. Safe for
// concurrent use.
type Server struct {
	// URL is the server's base URL, without a trailing slash.
	URL string

	srv  *httptest.Server
	done chan struct{}

	mu        sync.Mutex
	releases  map[string][]Release // "owner/repo" → releases
	files     map[string][]byte
	nextID    int64
	gen       int // bumped on every change; drives Last-Modified
	limit     int
	remaining int
	reset     time.Time
	queues    []queue
	requests  []Request
}

type queue struct {
	prefix string
	items  []Behaviour
}

// New starts a Server that t's cleanup closes.
func New(t testing.TB, opt Options) *Server {
	t.Helper()
	s := &Server{
		done:     make(chan struct{}),
		releases: map[string][]Release{},
		files:    map[string][]byte{},
		limit:    cmp.Or(opt.RateLimit, 5000),
		// Whole seconds: the header carries Unix seconds.
		reset: time.Now().Add(time.Hour).Truncate(time.Second),
	}
	s.remaining = s.limit
	for _, r := range opt.Releases {
		s.addRelease(r)
	}
	for key := range s.releases {
		s.sortReleases(key)
	}
	for k, b := range opt.Files {
		s.files[k] = bytes.Clone(b)
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	t.Cleanup(func() {
		close(s.done) // release hanging handlers so Close can finish
		s.srv.Close()
	})
	return s
}

// SetFile sets the raw content of "owner/repo/path".
func (s *Server) SetFile(key string, b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[key] = bytes.Clone(b)
	s.gen++
}

// AddRelease adds a release; GitHub lists releases newest first.
func (s *Server) AddRelease(r Release) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sortReleases(s.addRelease(r))
}

func (s *Server) addRelease(r Release) string {
	s.nextID++
	if r.ID == 0 {
		r.ID = s.nextID
	}
	if r.Name == "" {
		r.Name = r.Tag
	}
	key := r.Owner + "/" + r.Repo
	s.releases[key] = append(s.releases[key], r)
	s.gen++
	return key
}

func (s *Server) sortReleases(key string) {
	// Newest first: by publication, then by version for undated fixtures.
	slices.SortStableFunc(s.releases[key], func(a, b Release) int {
		if c := b.PublishedAt.Compare(a.PublishedAt); c != 0 {
			return c
		}
		if c := tracker.CompareVersionStrings(b.Tag, a.Tag); c != 0 {
			return c
		}
		return strings.Compare(b.Tag, a.Tag)
	})
}

// Requests returns the requests recorded so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Counts returns how many requests came, and how many were answered 200 and 304.
func (s *Server) Counts() (total, ok200, notModified304 int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.requests {
		switch r.Status {
		case http.StatusOK:
			ok200++
		case http.StatusNotModified:
			notModified304++
		}
	}
	return len(s.requests), ok200, notModified304
}

// ResetCounts forgets the recorded requests.
func (s *Server) ResetCounts() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = nil
}

// Fail queues behaviours for the requests whose path (without /api/v3)
// starts with pathPrefix: each matching request takes the next one, in
// order, until the queue is empty. Queues are matched in the order added.
func (s *Server) Fail(pathPrefix string, behaviours ...Behaviour) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queues = append(s.queues, queue{prefix: pathPrefix, items: behaviours})
}

func (s *Server) nextBehaviour(p string) (Behaviour, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.queues {
		q := &s.queues[i]
		if len(q.items) > 0 && strings.HasPrefix(p, q.prefix) {
			b := q.items[0]
			q.items = q.items[1:]
			return b, true
		}
	}
	return Behaviour{}, false
}

// Behaviour is a scripted misbehaviour for Fail.
type Behaviour struct {
	kind   string
	status int
	secs   int
	reset  time.Time
	body   []byte
	delay  time.Duration
}

// Status answers with code and a GitHub-style JSON error.
func Status(code int) Behaviour { return Behaviour{kind: "status", status: code} }

// RetryAfter answers code (429, or 403 for GitHub's secondary limit) with
// Retry-After: secs.
func RetryAfter(code, secs int) Behaviour {
	return Behaviour{kind: "retry-after", status: code, secs: secs}
}

// PrimaryExhausted answers 403 with X-RateLimit-Remaining: 0 until reset,
// as GitHub does when the hourly quota is used up.
func PrimaryExhausted(reset time.Time) Behaviour {
	return Behaviour{kind: "primary", status: http.StatusForbidden, reset: reset}
}

// MalformedJSON answers 200 with a body that is not JSON.
func MalformedJSON() Behaviour { return Behaviour{kind: "malformed", status: http.StatusOK} }

// TruncatedBody sends half of the real answer, then drops the connection.
func TruncatedBody() Behaviour { return Behaviour{kind: "truncated", status: http.StatusOK} }

// Hang sends nothing until the client gives up or the server closes.
func Hang() Behaviour { return Behaviour{kind: "hang"} }

// Delay answers normally after d (or earlier if the client gives up), to
// hold a client mid-cycle.
func Delay(d time.Duration) Behaviour { return Behaviour{kind: "delay", delay: d} }

// Disconnect closes the connection without an answer.
func Disconnect() Behaviour { return Behaviour{kind: "disconnect"} }

// Body answers 200 with b as application/json.
func Body(b []byte) Behaviour {
	return Behaviour{kind: "body", status: http.StatusOK, body: bytes.Clone(b)}
}

// answer is a response being built, recorded once written.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	p := strings.TrimPrefix(r.URL.Path, "/api/v3")
	rec := Request{
		Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
		IfNoneMatch: r.Header.Get("If-None-Match"), IfModifiedSince: r.Header.Get("If-Modified-Since"),
		Accept: r.Header.Get("Accept"), Authorization: r.Header.Get("Authorization") != "",
	}
	record := func(status int) {
		rec.Status = status
		s.mu.Lock()
		s.requests = append(s.requests, rec)
		s.mu.Unlock()
	}
	b, scripted := s.nextBehaviour(p)
	if scripted {
		switch b.kind {
		case "delay":
			select {
			case <-time.After(b.delay):
			case <-r.Context().Done():
				record(0)
				return
			case <-s.done:
				record(0)
				return
			}
		case "hang":
			record(0)
			select {
			case <-r.Context().Done():
			case <-s.done:
			}
			return
		case "disconnect":
			record(0)
			if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
				conn.Close()
			}
			return
		case "status":
			a := s.errorAnswer(b.status, http.StatusText(b.status), "https://docs.github.com/rest")
			s.write(w, a, record)
			return
		case "retry-after":
			a := s.errorAnswer(b.status, "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
				"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits")
			a.header.Set("Retry-After", strconv.Itoa(b.secs))
			s.write(w, a, record)
			return
		case "primary":
			a := s.exhausted(b.reset)
			s.write(w, a, record)
			return
		case "body":
			a := answer{status: http.StatusOK, header: http.Header{"Content-Type": {"application/json; charset=utf-8"}}, body: b.body}
			s.rateHeaders(a.header, true)
			s.write(w, a, record)
			return
		}
	}
	a := s.route(r, p)
	if scripted {
		switch b.kind {
		case "malformed":
			a = answer{status: http.StatusOK, header: a.header, body: []byte(`[{"tag_name": "v1.25.0", "draft": fal`)}
			a.header.Del("ETag")
		case "truncated":
			a.status = http.StatusOK
			w2 := w.Header()
			for k, v := range a.header {
				w2[k] = v
			}
			w2.Set("Content-Length", strconv.Itoa(len(a.body)))
			w2.Del("ETag")
			record(a.status)
			w.WriteHeader(a.status)
			w.Write(a.body[:len(a.body)/2])
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler) // drop the connection mid-body
		}
	}
	s.write(w, a, record)
}

func (s *Server) write(w http.ResponseWriter, a answer, record func(int)) {
	for k, v := range a.header {
		w.Header()[k] = v
	}
	record(a.status)
	w.WriteHeader(a.status)
	if a.status != http.StatusNotModified {
		w.Write(a.body)
	}
}

// rateHeaders sets GitHub's rate-limit headers, using one request of the
// quota when charge is set.
func (s *Server) rateHeaders(h http.Header, charge bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if charge && s.remaining > 0 {
		s.remaining--
	}
	h.Set("X-RateLimit-Limit", strconv.Itoa(s.limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(s.remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(s.reset.Unix(), 10))
	h.Set("X-RateLimit-Used", strconv.Itoa(s.limit-s.remaining))
	h.Set("X-RateLimit-Resource", "core")
}

func (s *Server) errorAnswer(code int, msg, doc string) answer {
	body, _ := json.Marshal(map[string]string{"message": msg, "documentation_url": doc})
	a := answer{status: code, header: http.Header{"Content-Type": {"application/json; charset=utf-8"}}, body: body}
	s.rateHeaders(a.header, true)
	return a
}

func (s *Server) exhausted(reset time.Time) answer {
	body, _ := json.Marshal(map[string]string{
		"message":           "API rate limit exceeded for 127.0.0.1.",
		"documentation_url": "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting",
	})
	h := http.Header{"Content-Type": {"application/json; charset=utf-8"}}
	s.mu.Lock()
	h.Set("X-RateLimit-Limit", strconv.Itoa(s.limit))
	h.Set("X-RateLimit-Used", strconv.Itoa(s.limit))
	s.mu.Unlock()
	h.Set("X-RateLimit-Remaining", "0")
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	h.Set("X-RateLimit-Resource", "core")
	return answer{status: http.StatusForbidden, header: h, body: body}
}

// route answers a request that is not scripted.
func (s *Server) route(r *http.Request, p string) answer {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return s.errorAnswer(http.StatusNotFound, "Not Found", "https://docs.github.com/rest")
	}
	s.mu.Lock()
	out := s.remaining == 0
	reset := s.reset
	s.mu.Unlock()
	if out {
		return s.exhausted(reset)
	}
	parts := strings.SplitN(strings.TrimPrefix(p, "/"), "/", 5)
	var a answer
	switch {
	case len(parts) == 4 && parts[0] == "repos" && parts[3] == "releases":
		a = s.listReleases(r, parts[1], parts[2])
	case len(parts) == 5 && parts[0] == "repos" && parts[3] == "releases" && strings.HasPrefix(parts[4], "tags/"):
		a = s.releaseByTag(r, parts[1], parts[2], strings.TrimPrefix(parts[4], "tags/"))
	case len(parts) == 5 && parts[0] == "repos" && parts[3] == "contents":
		a = s.contents(r, parts[1], parts[2], parts[4])
	default:
		return s.errorAnswer(http.StatusNotFound, "Not Found", "https://docs.github.com/rest")
	}
	if a.status != http.StatusOK {
		return a
	}
	// Strong ETag over the body, 304 when the client has it.
	sum := sha256.Sum256(a.body)
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	a.header.Set("ETag", etag)
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		if etagMatch(inm, etag) {
			a.status = http.StatusNotModified
		}
	} else if ims, err := http.ParseTime(r.Header.Get("If-Modified-Since")); err == nil {
		if lm, err := http.ParseTime(a.header.Get("Last-Modified")); err == nil && !lm.After(ims) {
			a.status = http.StatusNotModified
		}
	}
	s.rateHeaders(a.header, a.status != http.StatusNotModified)
	return a
}

func etagMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

func (s *Server) lastModified() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	// One second per change keeps If-Modified-Since exact.
	return time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(s.gen) * time.Second).Format(http.TimeFormat)
}

func jsonAnswer(v any) answer {
	body, _ := json.Marshal(v)
	return answer{status: http.StatusOK, header: http.Header{"Content-Type": {"application/json; charset=utf-8"}}, body: body}
}

// releaseJSON is a release in the shape of GitHub's REST API.
type releaseJSON struct {
	URL             string  `json:"url"`
	HTMLURL         string  `json:"html_url"`
	ID              int64   `json:"id"`
	NodeID          string  `json:"node_id"`
	TagName         string  `json:"tag_name"`
	TargetCommitish string  `json:"target_commitish"`
	Name            string  `json:"name"`
	Draft           bool    `json:"draft"`
	Prerelease      bool    `json:"prerelease"`
	CreatedAt       *string `json:"created_at"`
	PublishedAt     *string `json:"published_at"`
	Body            string  `json:"body"`
	Assets          []any   `json:"assets"`
}

func (s *Server) releaseJSON(r *http.Request, rel Release) releaseJSON {
	out := releaseJSON{
		URL:             fmt.Sprintf("%s/repos/%s/%s/releases/%d", apiBase(r), rel.Owner, rel.Repo, rel.ID),
		HTMLURL:         fmt.Sprintf("https://github.com/%s/%s/releases/tag/%s", rel.Owner, rel.Repo, rel.Tag),
		ID:              rel.ID,
		NodeID:          base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("RE_%d", rel.ID))),
		TagName:         rel.Tag,
		TargetCommitish: "master",
		Name:            rel.Name,
		Draft:           rel.Draft,
		Prerelease:      rel.Prerelease,
		Body:            rel.Body,
		Assets:          []any{},
	}
	if !rel.PublishedAt.IsZero() {
		ts := rel.PublishedAt.UTC().Format(time.RFC3339)
		out.CreatedAt, out.PublishedAt = &ts, &ts
	}
	return out
}

// apiBase is the base URL the client used, /api/v3 included when it was.
func apiBase(r *http.Request) string {
	base := "http://" + r.Host
	if strings.HasPrefix(r.URL.Path, "/api/v3/") {
		base += "/api/v3"
	}
	return base
}

func (s *Server) listReleases(r *http.Request, owner, repo string) answer {
	q := r.URL.Query()
	perPage, err := strconv.Atoi(cmp.Or(q.Get("per_page"), "30"))
	if err != nil || perPage < 1 {
		perPage = 30
	}
	perPage = min(perPage, 100)
	page, err := strconv.Atoi(cmp.Or(q.Get("page"), "1"))
	if err != nil || page < 1 {
		page = 1
	}
	s.mu.Lock()
	all := slices.Clone(s.releases[owner+"/"+repo])
	s.mu.Unlock()
	out := []releaseJSON{}
	for i := (page - 1) * perPage; i < len(all) && i < page*perPage; i++ {
		out = append(out, s.releaseJSON(r, all[i]))
	}
	a := jsonAnswer(out)
	a.header.Set("Last-Modified", s.lastModified())
	last := max(1, (len(all)+perPage-1)/perPage)
	link := func(p int, rel string) string {
		q := url.Values{"per_page": {strconv.Itoa(perPage)}, "page": {strconv.Itoa(p)}}
		return fmt.Sprintf(`<%s/repos/%s/%s/releases?%s>; rel="%s"`, apiBase(r), owner, repo, q.Encode(), rel)
	}
	var links []string
	if page > 1 {
		links = append(links, link(page-1, "prev"))
	}
	if page < last {
		links = append(links, link(page+1, "next"), link(last, "last"))
	}
	if page > 1 {
		links = append(links, link(1, "first"))
	}
	if len(links) > 0 {
		a.header.Set("Link", strings.Join(links, ", "))
	}
	return a
}

func (s *Server) releaseByTag(r *http.Request, owner, repo, tag string) answer {
	s.mu.Lock()
	i := slices.IndexFunc(s.releases[owner+"/"+repo], func(rel Release) bool { return rel.Tag == tag })
	var rel Release
	if i >= 0 {
		rel = s.releases[owner+"/"+repo][i]
	}
	s.mu.Unlock()
	if i < 0 {
		return s.errorAnswer(http.StatusNotFound, "Not Found", "https://docs.github.com/rest/releases/releases#get-a-release-by-tag-name")
	}
	a := jsonAnswer(s.releaseJSON(r, rel))
	a.header.Set("Last-Modified", s.lastModified())
	return a
}

// rawMediaType asks the contents API for the file itself, the only form
// GitHub serves for files over 1 MB.
const rawMediaType = "application/vnd.github.raw"

func (s *Server) contents(r *http.Request, owner, repo, filePath string) answer {
	key := owner + "/" + repo + "/" + filePath
	s.mu.Lock()
	b, ok := s.files[key]
	s.mu.Unlock()
	if !ok {
		return s.errorAnswer(http.StatusNotFound, "Not Found", "https://docs.github.com/rest/repos/contents#get-repository-content")
	}
	var a answer
	if strings.HasPrefix(r.Header.Get("Accept"), rawMediaType) {
		a = answer{status: http.StatusOK, header: http.Header{"Content-Type": {"text/plain; charset=utf-8"}}, body: bytes.Clone(b)}
	} else {
		sum := sha256.Sum256(b)
		content, encoding := base64.StdEncoding.EncodeToString(b), "base64"
		if len(b) > 1<<20 {
			content, encoding = "", "none" // GitHub leaves large files out of the JSON form
		}
		ref := cmp.Or(r.URL.Query().Get("ref"), "master")
		a = jsonAnswer(map[string]any{
			"type": "file", "encoding": encoding, "size": len(b), "name": path.Base(filePath), "path": filePath,
			"content": content, "sha": hex.EncodeToString(sum[:20]),
			"url":          fmt.Sprintf("%s/repos/%s/%s/contents/%s?ref=%s", apiBase(r), owner, repo, filePath, ref),
			"html_url":     fmt.Sprintf("https://github.com/%s/%s/blob/%s/%s", owner, repo, ref, filePath),
			"download_url": fmt.Sprintf("http://%s/raw/%s/%s/%s/%s", r.Host, owner, repo, ref, filePath),
		})
	}
	a.header.Set("Last-Modified", s.lastModified())
	return a
}
