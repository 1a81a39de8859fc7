package tracker

// Crossing selects the notes a cluster crosses when upgrading from one version
// to another: versions after from (exclusive) up to to (inclusive). A zero
// from or to leaves that side open. Notes are attributed to final releases, so
// by default only finals count; includePrereleases also admits notes whose
// Version is a pre-release (generic release bodies can carry those).
func Crossing(notes []Note, from, to Version, includePrereleases bool) []Note {
	var out []Note
	for _, n := range notes {
		v, err := ParseVersion(n.Version)
		if err != nil {
			continue
		}
		if v.IsPrerelease() && !includePrereleases {
			continue
		}
		if !from.IsZero() && v.Compare(from.Upstream()) <= 0 {
			continue
		}
		if !to.IsZero() && v.Compare(to.Upstream()) > 0 {
			continue
		}
		out = append(out, n)
	}
	return out
}
