package github

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	gh "github.com/google/go-github/v60/github"
	"golang.org/x/mod/semver"

	"github.com/kubedrift/kubedrift/feeds/fetch"
	"github.com/kubedrift/kubedrift/tracker"
)

// Options configure a Client.
type Options struct {
	// BaseURL is the API root; "" means https://api.github.com/. A GitHub
	// Enterprise host (or a test server) gets /api/v3/ appended.
	BaseURL string
	// Token, when set, is sent as a bearer token. It never appears in errors.
	Token string
	// HTTPClient sends the requests; it should wrap a *fetch.Transport, which
	// adds the conditional headers and retries. nil: a client over a default
	// fetch.Transport (no stored validators).
	HTTPClient *http.Client
	// PerPage is the page size for listings; default and maximum 100.
	PerPage int
}

// Client reads releases and files from GitHub. Safe for concurrent use.
type Client struct {
	gh      *gh.Client
	perPage int

	mu   sync.Mutex
	rate RateState
}

// RateState is the last core rate limit GitHub reported.
type RateState struct {
	Limit, Remaining int
	Reset            time.Time
}

// New returns a Client for opt.
func New(opt Options) (*Client, error) {
	hc := opt.HTTPClient
	if hc == nil {
		hc = &http.Client{Transport: fetch.NewTransport(fetch.Options{UserAgent: "kubedrift"})}
	}
	c := gh.NewClient(hc)
	if opt.Token != "" {
		c = c.WithAuthToken(opt.Token)
	}
	if opt.BaseURL != "" {
		var err error
		c, err = c.WithEnterpriseURLs(opt.BaseURL, opt.BaseURL)
		if err != nil {
			// url.Parse quotes the URL; an API root holds no secret.
			return nil, fmt.Errorf("github: base URL: %w", err)
		}
	}
	perPage := opt.PerPage
	if perPage <= 0 || perPage > 100 {
		perPage = 100
	}
	return &Client{gh: c, perPage: perPage}, nil
}

// ReleaseInfo is a release with the GitHub fields kubedrift keeps.
type ReleaseInfo struct {
	tracker.Release
	// Tag is the tag exactly as GitHub has it.
	Tag  string
	Name string
	// Body is the release's markdown: upstream prose, untrusted.
	Body  string
	Draft bool
	ID    int64
}

// PageState describes one page of a listing.
type PageState struct {
	// Number is the page number requested (1-based).
	Number int
	// NotModified is true when the page answered 304: its releases are the
	// ones the caller stored with its validator.
	NotModified bool
	// Releases counts the releases the page contributed (0 when not modified).
	Releases  int
	Validator fetch.Validator
}

// ListResult is what ListReleases saw.
type ListResult struct {
	// Releases holds the releases of the pages that changed, drafts left out.
	Releases []ReleaseInfo
	// NotModified is true when every page answered 304.
	NotModified bool
	// Validators holds one validator per page, to store for the next call.
	Validators []fetch.Validator
	Pages      []PageState
	// Problems lists releases left out because their tag is not a version.
	Problems []error
}

// maxPages stops a listing whose Link headers never end.
const maxPages = 1000

// ListReleases lists every release of owner/repo, following Link rel="next"
// page by page. Each page request is conditional (through the transport's
// validators); a 304 page has no body, so its Link header alone carries the
// walk on and the caller keeps that page's stored releases. GitHub sends Link
// on a 304; a server that does not ends the walk at that page.
func (c *Client) ListReleases(ctx context.Context, owner, repo string) (ListResult, error) {
	res := ListResult{NotModified: true}
	opts := &gh.ListOptions{PerPage: c.perPage}
	for page := 1; ; {
		opts.Page = page
		if page == 1 {
			opts.Page = 0 // GitHub's canonical first-page URL, which the validators are keyed by
		}
		rels, resp, err := c.gh.Repositories.ListReleases(ctx, owner, repo, opts)
		c.noteRate(resp)
		notModified := isNotModified(resp, err)
		if err != nil && !notModified {
			return res, c.wrap(fmt.Sprintf("list releases of %s/%s page %d", owner, repo, page), resp, err)
		}
		st := PageState{Number: page, NotModified: notModified, Validator: fetch.ValidatorOf(resp.Response)}
		if !notModified {
			res.NotModified = false
			for _, r := range rels {
				info, err := c.releaseInfo(owner, repo, r)
				if err != nil {
					res.Problems = append(res.Problems, fmt.Errorf("%s/%s page %d (%s): %w", owner, repo, page, requestURL(resp), err))
					continue
				}
				if info.Draft {
					continue
				}
				res.Releases = append(res.Releases, info)
				st.Releases++
			}
		}
		res.Pages = append(res.Pages, st)
		res.Validators = append(res.Validators, st.Validator)
		if resp.NextPage == 0 {
			return res, nil
		}
		if resp.NextPage <= page || len(res.Pages) >= maxPages {
			return res, fmt.Errorf("list releases of %s/%s: page %d links to page %d as next (%s): refusing to loop",
				owner, repo, page, resp.NextPage, requestURL(resp))
		}
		page = resp.NextPage
	}
}

// GetReleaseByTag fetches one release, conditionally unless ctx carries
// fetch.WithForce (used to re-read recently published releases whose notes
// are still being edited). A draft is returned with Draft set.
func (c *Client) GetReleaseByTag(ctx context.Context, owner, repo, tag string) (ReleaseInfo, fetch.Validator, bool, error) {
	r, resp, err := c.gh.Repositories.GetReleaseByTag(ctx, owner, repo, url.PathEscape(tag))
	c.noteRate(resp)
	if isNotModified(resp, err) {
		return ReleaseInfo{}, fetch.ValidatorOf(resp.Response), true, nil
	}
	if err != nil {
		return ReleaseInfo{}, fetch.Validator{}, false, c.wrap(fmt.Sprintf("get release %s of %s/%s", tag, owner, repo), resp, err)
	}
	info, err := c.releaseInfo(owner, repo, r)
	if err != nil {
		return ReleaseInfo{}, fetch.Validator{}, false, fmt.Errorf("get release %s of %s/%s (%s): %w", tag, owner, repo, requestURL(resp), err)
	}
	return info, fetch.ValidatorOf(resp.Response), false, nil
}

// rawMediaType makes the contents API answer with the file itself, which
// also works for files over 1 MB (the JSON form leaves those out).
const rawMediaType = "application/vnd.github.raw"

// RawFile downloads path of owner/repo at ref ("" for the default branch)
// through the contents API. notModified reports a 304: body is then nil.
func (c *Client) RawFile(ctx context.Context, owner, repo, path, ref string) ([]byte, fetch.Validator, bool, error) {
	op := fmt.Sprintf("download %s from %s/%s", path, owner, repo)
	if ref != "" {
		op += "@" + ref
	}
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	u := fmt.Sprintf("repos/%s/%s/contents/%s", url.PathEscape(owner), url.PathEscape(repo), strings.Join(segs, "/"))
	if ref != "" {
		u += "?ref=" + url.QueryEscape(ref)
	}
	req, err := c.gh.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return nil, fetch.Validator{}, false, fmt.Errorf("%s: %w", op, err)
	}
	req.Header.Set("Accept", rawMediaType)
	var buf bytes.Buffer
	resp, err := c.gh.Do(ctx, req, &buf)
	c.noteRate(resp)
	if isNotModified(resp, err) {
		return nil, fetch.ValidatorOf(resp.Response), true, nil
	}
	if err != nil {
		return nil, fetch.Validator{}, false, c.wrap(op, resp, err)
	}
	// Do reports success for any 2xx; only 200 carries the file.
	if resp.StatusCode != http.StatusOK {
		return nil, fetch.Validator{}, false, fmt.Errorf("%s (%s): unexpected status %d", op, requestURL(resp), resp.StatusCode)
	}
	return buf.Bytes(), fetch.ValidatorOf(resp.Response), false, nil
}

// ChangelogPath is the path of a minor's changelog in kubernetes/kubernetes.
func ChangelogPath(m tracker.Minor) string {
	return fmt.Sprintf("CHANGELOG/CHANGELOG-%d.%d.md", m.Major, m.Minor)
}

// Rate returns the core rate limit of the last response.
func (c *Client) Rate() RateState {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rate
}

func (c *Client) noteRate(resp *gh.Response) {
	if resp == nil || resp.Response == nil || resp.Rate.Limit == 0 {
		return
	}
	// Only responses from the server: go-github's local "still limited" answer
	// carries no rate headers.
	if resp.Header.Get("X-RateLimit-Limit") == "" {
		return
	}
	c.mu.Lock()
	c.rate = RateState{Limit: resp.Rate.Limit, Remaining: resp.Rate.Remaining, Reset: resp.Rate.Reset.Time}
	c.mu.Unlock()
}

// IsRateLimited reports whether err means GitHub's rate limit stopped the
// request, and when to try again. The primary limit gives its reset; a
// secondary limit that outlasted the transport's retries gives now plus its
// Retry-After.
func IsRateLimited(err error) (time.Time, bool) {
	var rl *gh.RateLimitError
	if errors.As(err, &rl) {
		return rl.Rate.Reset.Time, true
	}
	var ab *gh.AbuseRateLimitError
	if errors.As(err, &ab) {
		if ab.RetryAfter != nil {
			return time.Now().Add(*ab.RetryAfter), true
		}
		return time.Now(), true
	}
	var ra *fetch.RetryAfterError
	if errors.As(err, &ra) {
		return ra.At, true
	}
	// go-github types only 403 as a rate-limit error; GitHub may send 429,
	// which reaches here when the transport's attempts ran out.
	var er *gh.ErrorResponse
	if !errors.As(err, &er) || er.Response == nil {
		return time.Time{}, false
	}
	if c := er.Response.StatusCode; c != http.StatusTooManyRequests && c != http.StatusForbidden {
		return time.Time{}, false
	}
	h := er.Response.Header
	if s, perr := strconv.ParseInt(h.Get("Retry-After"), 10, 64); perr == nil && s >= 0 {
		return time.Now().Add(time.Duration(s) * time.Second), true
	}
	if h.Get("X-RateLimit-Remaining") == "0" {
		if s, perr := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64); perr == nil && s > 0 {
			return time.Unix(s, 0), true
		}
		return time.Now(), true
	}
	if er.Response.StatusCode == http.StatusTooManyRequests {
		return time.Now(), true
	}
	return time.Time{}, false
}

// isNotModified recognises a 304, which go-github reports as an
// *ErrorResponse whose Response is also returned.
func isNotModified(resp *gh.Response, _ error) bool {
	return resp != nil && resp.Response != nil && resp.StatusCode == http.StatusNotModified
}

// wrap names the operation and the URL. Rate-limit and status errors keep
// their go-github types for errors.As.
func (c *Client) wrap(op string, resp *gh.Response, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		// url.Error repeats the URL; the fetch error inside names it already.
		return fmt.Errorf("%s: %w", op, ue.Err)
	}
	if u := requestURL(resp); u != "" {
		return fmt.Errorf("%s (%s): %w", op, u, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// requestURL is the URL a response answered, for errors. GitHub API URLs carry
// no secrets, and the page number in the query helps.
func requestURL(resp *gh.Response) string {
	if resp == nil || resp.Response == nil || resp.Request == nil || resp.Request.URL == nil {
		return ""
	}
	u := *resp.Request.URL
	u.User = nil
	return u.String()
}

func (c *Client) releaseInfo(owner, repo string, r *gh.RepositoryRelease) (ReleaseInfo, error) {
	tag := r.GetTagName()
	v, err := tracker.ParseVersion(tag)
	if err != nil {
		return ReleaseInfo{}, fmt.Errorf("release %d: tag is not a version: %w", r.GetID(), err)
	}
	component := repo
	if strings.EqualFold(owner, "kubernetes") && strings.EqualFold(repo, "kubernetes") {
		component = tracker.ComponentKubernetes
	}
	version := v.String()
	// tracker knows upstream's alpha/beta/rc; other projects use any semver
	// pre-release ("v2.0.0-preview.1").
	pre := r.GetPrerelease() || v.IsPrerelease() || semver.Prerelease(version) != ""
	return ReleaseInfo{
		Release: tracker.Release{
			Component:  component,
			Version:    version,
			Date:       r.GetPublishedAt().Time,
			Prerelease: pre,
			URL:        r.GetHTMLURL(),
		},
		Tag:   tag,
		Name:  cmp.Or(r.GetName(), tag),
		Body:  r.GetBody(),
		Draft: r.GetDraft(),
		ID:    r.GetID(),
	}, nil
}
