// Package snapshot holds kubedrift's offline data: a bundle of upstream facts
// (releases, note kinds and PR numbers, CVE ids and affected ranges, support
// windows) compiled into the binary so that a fresh install answers with no
// network. It carries no upstream prose; note texts arrive with `kubedrift sync`.
//
// The bundle is built by `make snapshot` (kubedrift data build) from the
// upstream corpus. This package only exposes the bytes; the store decides what
// to do with them.
package snapshot

import _ "embed"

//go:embed kubedrift-snapshot.json
var bundle []byte

// FileName is the bundle's file name inside this package directory, for the
// build target that rewrites it.
const FileName = "kubedrift-snapshot.json"

// Bytes returns the embedded bundle. Callers must not modify it.
func Bytes() []byte { return bundle }
