package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// Validator holds the HTTP validators a response carried, keyed by the URL
// that was requested (the key ValidatorSource is asked with).
type Validator struct {
	URL, ETag, LastModified string
}

// ValidatorOf reads the validators of resp. A 304 that omits them keeps the
// ones the request sent, so storing the result never forgets a validator.
func ValidatorOf(resp *http.Response) Validator {
	var v Validator
	if resp == nil {
		return v
	}
	v.ETag = resp.Header.Get("ETag")
	v.LastModified = resp.Header.Get("Last-Modified")
	if req := resp.Request; req != nil {
		if req.URL != nil {
			v.URL = req.URL.String()
		}
		if resp.StatusCode == http.StatusNotModified {
			if v.ETag == "" {
				v.ETag = req.Header.Get("If-None-Match")
			}
			if v.LastModified == "" {
				v.LastModified = req.Header.Get("If-Modified-Since")
			}
		}
	}
	return v
}

// Result is the outcome of Get.
type Result struct {
	// URL is the URL requested.
	URL string
	// NotModified is true on a 304: Body is empty and the caller's stored
	// copy is current.
	NotModified bool
	Body        []byte
	Header      http.Header
	Validator   Validator
}

// StatusError reports a response that was neither 2xx nor 304.
type StatusError struct {
	// URL is redacted (no userinfo, query or fragment).
	URL    string
	Code   int
	Status string
	// Body holds at most the first 4 KiB of the response, for diagnosis.
	Body []byte
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("GET %s: unexpected status %d %s", e.URL, e.Code, http.StatusText(e.Code))
}

var defaultClient = sync.OnceValue(func() *http.Client {
	return &http.Client{Transport: NewTransport(Options{UserAgent: "kubedrift"})}
})

// Get fetches rawURL with a plain GET for sources other than GitHub's API.
// Conditional headers, retries and timeouts come from c's transport (a
// *Transport in production); a nil c uses a shared client over a default
// Transport. Errors name the redacted URL.
func Get(ctx context.Context, c *http.Client, rawURL string) (*Result, error) {
	if c == nil {
		c = defaultClient()
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL may hold a secret: do not echo it
		}
		return nil, fmt.Errorf("fetch: invalid URL: %w", err)
	}
	safe := Redact(u)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("fetch GET %s: %w", safe, err)
	}
	resp, err := c.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error repeats the full URL, query included
		}
		if strings.Contains(err.Error(), safe) {
			return nil, fmt.Errorf("fetch: %w", err) // a Transport error names it already
		}
		return nil, fmt.Errorf("fetch GET %s: %w", safe, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("fetch GET %s: reading body: %w", safe, err)
	}
	res := &Result{URL: rawURL, Header: resp.Header, Validator: ValidatorOf(resp)}
	switch code := resp.StatusCode; {
	case code == http.StatusNotModified:
		res.NotModified = true
	case code >= 200 && code <= 299:
		res.Body = body
	default:
		return nil, &StatusError{URL: safe, Code: code, Status: resp.Status, Body: body[:min(len(body), 4096)]}
	}
	return res, nil
}
