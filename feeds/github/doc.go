// Package github reads kubedrift's upstream from the GitHub REST API through
// go-github: the releases of a repository (all pages, each fetched
// conditionally), single releases by tag, and raw files such as the
// Kubernetes CHANGELOG-1.x.md (over 1 MB, so fetched with the raw media
// type). A 304 is reported as "not modified", never as an error, and an
// exhausted primary rate limit is reported with its reset time (see
// IsRateLimited) so that callers skip the cycle instead of spinning.
package github
