// Package stdout is the plain-text channel: it prints each batch of
// advisories, grouped per cluster, to a writer (standard output for
// `make run` and one-shot commands), with upstream text made safe for a
// terminal.
package stdout
