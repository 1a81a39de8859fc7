// Package fetch is the HTTP layer shared by every upstream source kubedrift
// reads (the GitHub API, the CVE feeds, the release schedule): conditional
// requests from stored validators, a per-attempt timeout, bounded retries with
// full-jitter backoff, Retry-After handling, and a fast stop when GitHub's
// primary rate limit is exhausted. It never logs or reports request headers,
// and URLs in its errors and logs lose their userinfo and query string.
package fetch
