package data_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/kubedrift/kubedrift/data"
	"github.com/kubedrift/kubedrift/tracker"
)

func ExampleOpen() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "kubedrift-example")
	defer os.RemoveAll(dir)

	s, err := data.Open(ctx, filepath.Join(dir, "kubedrift.db"), data.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	err = s.Apply(ctx, data.Update{
		Source:     "changelog-1.25",
		At:         time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
		Releases:   []tracker.Release{{Component: "kubernetes", Version: "v1.25.0"}},
		NoteScopes: []data.NoteScope{{Component: "kubernetes", Version: "v1.25.0"}},
		Notes: []tracker.Note{{Component: "kubernetes", Version: "v1.25.0", FirstSeen: "v1.25.0-rc.1",
			Kinds: []tracker.Kind{tracker.KindRemoval}, PR: 4100, Text: "The frobnicator plugin is removed."}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	notes, _ := s.Notes(ctx, data.NoteFilter{Component: "kubernetes", Minor: "1.25"})
	out, _ := json.Marshal(notes)
	fmt.Println(string(out))
	// Output:
	// [{"component":"kubernetes","version":"v1.25.0","first_seen":"v1.25.0-rc.1","kinds":["removal"],"action_required":false,"cves":[],"pr":4100,"text":"The frobnicator plugin is removed."}]
}
