// Package changelog parses upstream release notes into kubedrift's releases and
// classified notes: the Kubernetes CHANGELOG-1.x.md files (releases, kinds,
// urgent upgrade notes, security entries with affected and fixed versions) and
// the generic GitHub release bodies of other projects. Structure is read from
// goldmark's markdown AST, never from line regexes, and bad input yields
// Problems rather than failures so one odd entry never hides the rest.
package changelog
