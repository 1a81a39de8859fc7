// Package cve reads the official Kubernetes vulnerability data: OSV records
// (one JSON file per CVE, with affected packages, SEMVER ranges and CVSS
// vectors) and the official CVE feed (JSON Feed 1.1), and merges them into
// tracker.CVE values.
//
// The parsers work on bytes; fetching is wired elsewhere. They never stop at
// the first problem: a parser returns everything it could read together with
// an error that joins one entry per problem (errors.Join), each naming the
// input and the place in it. The result is empty only when the input as a
// whole could not be read; for ParseOSV that is a CVE with an empty ID.
//
// Upstream prose (summaries, details) is carried through but is untrusted and
// must never be committed to kubedrift's own data.
package cve
