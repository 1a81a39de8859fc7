package tracker

import "time"

// Support statuses of a minor line, from the upstream release schedule
// (kubernetes/website data/releases/schedule.yaml and eol.yaml).
const (
	// SupportSupported: released and before its maintenance-mode start.
	SupportSupported = "supported"
	// SupportMaintenance: maintenance-mode start ≤ now < end of life; only
	// critical fixes still land.
	SupportMaintenance = "maintenance"
	// SupportEOL: on or after the end-of-life date; no more patches.
	SupportEOL = "eol"
	// SupportUnknown: the schedule has no window, or no dates, for the minor.
	SupportUnknown = "unknown"
)

// Support is where a minor line stands in its upstream support window. The JSON
// field names are a contract (DESIGN.md).
type Support struct {
	Status           string `json:"status"`
	EndOfLife        string `json:"end_of_life,omitempty"`
	MaintenanceStart string `json:"maintenance_start,omitempty"`
	// DaysLeft is the number of whole calendar days (UTC) from now until the
	// end of life: 1 the day before, 0 on the day, negative afterwards. Nil when
	// the end of life is unknown.
	DaysLeft *int `json:"days_left,omitempty"`
}

const dateLayout = "2006-01-02"

// Support reports the status of minor m at now from the schedule data the
// catalog was built with. Upstream supports the three newest minors for about
// 14 months (kubernetes.io/releases/patch-releases), but which minors those are
// is read from the schedule only, never from a list kept here.
//
// Dates are compared as UTC calendar days, because upstream publishes dates,
// not instants: on the end-of-life day the minor is already "eol". With only an
// end of life known, the minor is "supported" until it; with only a
// maintenance start, "maintenance" from it on. A zero now yields "unknown"
// rather than a status computed for the year 1.
func (c *Catalog) Support(m Minor, now time.Time) Support {
	w, ok := c.windows[m]
	if !ok || now.IsZero() || (w.EndOfLife.IsZero() && w.MaintenanceStart.IsZero()) {
		s := Support{Status: SupportUnknown}
		if ok {
			s.EndOfLife, s.MaintenanceStart = formatDate(w.EndOfLife), formatDate(w.MaintenanceStart)
		}
		return s
	}
	today := utcDay(now)
	s := Support{
		Status:           SupportSupported,
		EndOfLife:        formatDate(w.EndOfLife),
		MaintenanceStart: formatDate(w.MaintenanceStart),
	}
	if !w.MaintenanceStart.IsZero() && !today.Before(utcDay(w.MaintenanceStart)) {
		s.Status = SupportMaintenance
	}
	if !w.EndOfLife.IsZero() {
		eol := utcDay(w.EndOfLife)
		if !today.Before(eol) {
			s.Status = SupportEOL
		}
		// Both are UTC midnights, so the difference is a whole number of days
		// (UTC has no daylight saving).
		d := int(eol.Sub(today).Hours() / 24)
		s.DaysLeft = &d
	}
	return s
}

// Window returns the schedule entry of minor m, if the catalog has one.
func (c *Catalog) Window(m Minor) (SupportWindow, bool) {
	w, ok := c.windows[m]
	return w, ok
}

func utcDay(t time.Time) time.Time {
	y, mo, d := t.UTC().Date()
	return time.Date(y, mo, d, 0, 0, 0, 0, time.UTC)
}

func formatDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(dateLayout)
}
