// Package githubtest is a fake GitHub REST API for kubedrift's tests: it
// serves releases (paginated with Link headers), releases by tag and
// repository contents (raw and JSON forms), with strong ETags, 304 answers,
// rate-limit headers, and scripted failures (5xx, secondary and primary rate
// limits, malformed or truncated bodies, hangs, dropped connections). It runs
// on 127.0.0.1 through net/http/httptest and never touches the network.
package githubtest
