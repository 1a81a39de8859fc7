// Package data is kubedrift's persistence: the Store interface that the rest of
// the program codes against, and its SQLite implementation (modernc.org/sqlite,
// pure Go). It keeps upstream facts (releases, notes, CVEs, support windows),
// the HTTP validators and refresh state of each feed source, cluster
// observations, small key/value metadata, and the tables the notifier's outbox
// will use. It also reads and writes bundles: the versioned, checksummed
// export format used to move data into air-gapped sites and for the offline
// snapshot that the binary embeds and hands to Open as a seed.
package data
