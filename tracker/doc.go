// Package tracker is kubedrift's domain model: Kubernetes versions, releases and
// their notes, CVEs, support windows, and the arithmetic over them (drift, skew,
// upgrade paths, advisories).
//
// Everything here is a pure function over values. The package does no network or
// disk I/O and never reads the clock: callers pass "now" in. That keeps the rules
// that decide what a platform team is told testable with table-driven tests.
package tracker
