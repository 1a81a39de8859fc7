package server

import (
	"fmt"
	"time"
)

// staleIntervals is how many intervals may pass without a success before
// the service stops reporting ready: one missed run is noise, three mean the
// data is going stale.
const staleIntervals = 3

// CheckFresh is a building block for Options.Ready: it returns nil when the
// last successful run of what (e.g. "sync") finished less than three
// intervals before now, and an error saying how stale it is otherwise. A zero
// last means no run has succeeded yet; a non-positive interval means the job
// is not scheduled, which is never stale.
func CheckFresh(what string, last time.Time, interval time.Duration, now time.Time) error {
	if interval <= 0 {
		return nil
	}
	if last.IsZero() {
		return fmt.Errorf("no successful %s yet", what)
	}
	if age := now.Sub(last); age >= staleIntervals*interval {
		return fmt.Errorf("last successful %s %s ago, %d intervals of %s allowed",
			what, age.Round(time.Second), staleIntervals, interval)
	}
	return nil
}
