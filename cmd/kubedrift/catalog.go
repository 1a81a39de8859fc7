package main

import (
	"context"
	"fmt"

	"github.com/kubedrift/kubedrift/data"
	"github.com/kubedrift/kubedrift/tracker"
)

// loadCatalog reads everything the tracker needs from the store, once.
func loadCatalog(ctx context.Context, st data.Store) (*tracker.Catalog, error) {
	rels, err := st.Releases(ctx, data.ReleaseFilter{IncludePrereleases: true})
	if err != nil {
		return nil, fmt.Errorf("read releases: %w", err)
	}
	notes, err := st.Notes(ctx, data.NoteFilter{})
	if err != nil {
		return nil, fmt.Errorf("read notes: %w", err)
	}
	cves, err := st.CVEs(ctx)
	if err != nil {
		return nil, fmt.Errorf("read CVEs: %w", err)
	}
	windows, err := st.SupportWindows(ctx)
	if err != nil {
		return nil, fmt.Errorf("read support windows: %w", err)
	}
	return tracker.NewCatalog(rels, notes, cves, windows), nil
}
