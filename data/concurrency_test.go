package data

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kubedrift/kubedrift/tracker"
)

var genBase = date("2026-01-01T00:00:00Z")

// genUpdate builds a large update for one source whose every row is stamped
// with gen, so a reader can tell whether it sees one update whole.
func genUpdate(source, component string, gen, nRel, nNotes int) Update {
	u := Update{Source: source, At: genBase.Add(time.Duration(gen) * time.Second)}
	for i := range nRel {
		v := fmt.Sprintf("v1.%d.%d", 20+i/50, i%50)
		u.Releases = append(u.Releases, tracker.Release{Component: component, Version: v,
			Date: genBase, URL: "gen-" + strconv.Itoa(gen)})
		u.NoteScopes = append(u.NoteScopes, NoteScope{component, v})
	}
	for i := range nNotes {
		r := u.Releases[i%nRel]
		u.Notes = append(u.Notes, tracker.Note{Component: component, Version: r.Version, FirstSeen: r.Version,
			Kinds: []tracker.Kind{tracker.KindBug}, PR: 1 + i, URL: "gen-" + strconv.Itoa(gen),
			Text: fmt.Sprintf("generation %d: the widget controller no longer drops item %d %s", gen, i, strings.Repeat("x", 200))})
	}
	return u
}

// readGen returns the generation a component's releases and notes are at
// (0 when absent), failing when a read sees a mix or a partial update.
func readGen(s *SQLite, component string, nRel, nNotes int) (relGen, noteGen int, err error) {
	rel, err := s.Releases(ctxBG, ReleaseFilter{Component: component, IncludePrereleases: true})
	if err != nil {
		return 0, 0, err
	}
	notes, err := s.Notes(ctxBG, NoteFilter{Component: component})
	if err != nil {
		return 0, 0, err
	}
	urls := make([]string, 0, len(rel)+len(notes))
	for _, r := range rel {
		urls = append(urls, r.URL)
	}
	if relGen, err = oneGen(urls, len(rel), nRel); err != nil {
		return 0, 0, fmt.Errorf("releases of %s: %w", component, err)
	}
	urls = urls[:0]
	for _, n := range notes {
		urls = append(urls, n.URL)
	}
	if noteGen, err = oneGen(urls, len(notes), nNotes); err != nil {
		return 0, 0, fmt.Errorf("notes of %s: %w", component, err)
	}
	return relGen, noteGen, nil
}

func oneGen(urls []string, n, want int) (int, error) {
	if n == 0 {
		return 0, nil
	}
	if n != want {
		return 0, fmt.Errorf("%d rows, want 0 or %d", n, want)
	}
	for _, u := range urls {
		if u != urls[0] {
			return 0, fmt.Errorf("mixed generations %s and %s", urls[0], u)
		}
	}
	return strconv.Atoi(strings.TrimPrefix(urls[0], "gen-"))
}

func TestConcurrentReadersAndWriters(t *testing.T) {
	s := openTemp(t, Options{})
	const nRel, nNotes, gens = 30, 90, 8
	done := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(done)
		for g := 1; g <= gens; g++ {
			if err := s.Apply(ctxBG, genUpdate("conc", "conc", g, nRel, nNotes)); err != nil {
				errs <- err
				return
			}
		}
	}()
	// A second writer with unrelated writes must queue, not fail with SQLITE_BUSY.
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			default:
			}
			err := s.RecordClusters(ctxBG, []tracker.Cluster{{Name: "c", Version: "v1.25.0", ObservedAt: genBase.Add(time.Duration(i) * time.Second)}})
			if err == nil {
				err = s.SetMeta(ctxBG, "counter", strconv.Itoa(i))
			}
			if err != nil {
				errs <- err
				return
			}
		}
	}()
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			last := 0
			for {
				select {
				case <-done:
					return
				default:
				}
				rg, ng, err := readGen(s, "conc", nRel, nNotes)
				if err != nil {
					errs <- err
					return
				}
				// Generations only move forward.
				if rg < last || ng < last {
					errs <- fmt.Errorf("went back from generation %d to %d/%d", last, rg, ng)
					return
				}
				last = min(rg, ng)
				if _, err := s.Clusters(ctxBG); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if rg, ng, err := readGen(s, "conc", nRel, nNotes); err != nil || rg != gens || ng != gens {
		t.Errorf("final generation %d/%d, %v; want %d", rg, ng, err, gens)
	}
}

const crashEnv = "KUBEDRIFT_DATA_CRASH_DB"

const crashRel, crashNotes = 150, 600

// TestCrashChild is the child of TestCrashMidApply: it applies ever newer
// generations for two sources until killed.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		t.Skip("child process of TestCrashMidApply only")
	}
	s, err := Open(ctxBG, path, Options{})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	start, _ := s.Sources(ctxBG)
	g := 0
	for _, st := range start {
		g = max(g, int(st.LastSuccess.Sub(genBase)/time.Second))
	}
	for g++; ; g++ {
		for _, src := range []string{"a", "b"} {
			if err := s.Apply(ctxBG, genUpdate(src, "comp-"+src, g, crashRel, crashNotes)); err != nil {
				fmt.Println("error", err)
				os.Exit(1)
			}
			fmt.Printf("applied %s %d\n", src, g)
		}
	}
}

// TestCrashMidApply kills a process while it applies large updates and
// checks that the store opens and every source is wholly at one generation.
func TestCrashMidApply(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns child processes")
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	lastSeen := map[string]int{}
	for round, after := range []int{1, 2, 4} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashEnv+"="+path)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Bound the round even if the child hangs.
		watchdog := time.AfterFunc(30*time.Second, func() { cmd.Process.Kill() })
		sc := bufio.NewScanner(out)
		for n := 0; n < after && sc.Scan(); {
			line := sc.Text()
			var src string
			var g int
			if _, err := fmt.Sscanf(line, "applied %s %d", &src, &g); err != nil {
				continue // test framework output
			}
			lastSeen[src] = g
			n++
		}
		// The child is now inside its next Apply: kill it there, staggering
		// the moment a little from round to round.
		time.Sleep(time.Duration(round*7) * time.Millisecond)
		if err := cmd.Process.Kill(); err != nil { // SIGKILL: no cleanup runs
			t.Fatal(err)
		}
		cmd.Wait()
		watchdog.Stop()
		if len(lastSeen) == 0 {
			t.Fatalf("round %d: child applied nothing", round)
		}

		s, err := Open(ctxBG, path, Options{})
		if err != nil {
			t.Fatalf("round %d: open after crash: %v", round, err)
		}
		states, err := s.Sources(ctxBG)
		if err != nil {
			t.Fatal(err)
		}
		stateGen := map[string]int{}
		for _, st := range states {
			stateGen[st.Source] = int(st.LastSuccess.Sub(genBase) / time.Second)
		}
		for _, src := range []string{"a", "b"} {
			rg, ng, err := readGen(s, "comp-"+src, crashRel, crashNotes)
			if err != nil {
				t.Fatalf("round %d source %s: %v", round, src, err)
			}
			if rg != ng || rg != stateGen[src] {
				t.Errorf("round %d source %s: releases at %d, notes at %d, state at %d", round, src, rg, ng, stateGen[src])
			}
			// The child reports after each commit, so the store holds the last
			// reported generation or, if the kill came late, the next one.
			if rg < lastSeen[src] || rg > lastSeen[src]+1 {
				t.Errorf("round %d source %s: at generation %d, but %d was the last reported applied", round, src, rg, lastSeen[src])
			}
			t.Logf("round %d source %s: generation %d (last reported %d)", round, src, rg, lastSeen[src])
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
