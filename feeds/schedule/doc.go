// Package schedule reads the Kubernetes release schedule published in
// kubernetes/website: data/releases/schedule.yaml (supported minors with their
// release, maintenance-mode and end-of-life dates, past patches and the next
// one) and data/releases/eol.yaml (minors that have ended). The results feed
// the support-window and patch-lag checks in tracker.
//
// The parsers work on bytes; fetching is wired elsewhere. Bad YAML fails as a
// whole, with the line number the YAML decoder reports. Bad content does not:
// every entry and every patch is judged on its own, the good ones are
// returned, and the error joins one line per bad one, naming the file, the
// line of the entry when it can be found, its index and its release.
package schedule
