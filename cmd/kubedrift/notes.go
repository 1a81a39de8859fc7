package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kubedrift/kubedrift/data"
	"github.com/kubedrift/kubedrift/feeds/changelog"
	"github.com/kubedrift/kubedrift/tracker"
)

type notesOptions struct {
	changelogs         []string
	from, to           string
	kinds              []string
	actionRequired     bool
	includePrereleases bool
	output             string
	component          string
}

func newNotesCmd(g *globalOptions) *cobra.Command {
	o := &notesOptions{output: formatTable, component: tracker.ComponentKubernetes}
	cmd := &cobra.Command{
		Use:   "notes",
		Short: "List upstream release notes, classified (security, removal, deprecation ...)",
		Long: `List the notes of upstream Kubernetes releases with their kinds, PR and CVEs.

With --from and --to, list the notes a cluster crosses when it upgrades: releases
after --from (exclusive) up to --to (inclusive), final releases only unless
--include-prereleases. A note listed under a pre-release belongs to the final
release it leads to.

Notes come from the store (the embedded offline data until 'kubedrift sync' ran;
offline, a note shows its kinds, PR and link until its text is synced), or from
CHANGELOG files given with --changelog.`,
		Example: `  kubedrift notes --changelog CHANGELOG/ --from v1.24.3 --to v1.25.0 --kind removal,security
  kubedrift notes --changelog CHANGELOG-1.25.md --action-required -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runNotes(cmd.Context(), g, o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&o.changelogs, "changelog", nil, "read these CHANGELOG-1.x.md files or directories instead of the store (repeatable)")
	f.StringVar(&o.component, "component", o.component, "component whose notes the store lists (kubernetes, or an extra repository's name)")
	f.StringVar(&o.from, "from", "", "list notes of releases after this version (exclusive)")
	f.StringVar(&o.to, "to", "", "list notes of releases up to this version (inclusive)")
	f.StringSliceVar(&o.kinds, "kind", nil, "only notes with one of these kinds: "+kindList())
	f.BoolVar(&o.actionRequired, "action-required", false, "only notes from Urgent Upgrade Notes")
	f.BoolVar(&o.includePrereleases, "include-prereleases", false, "also select notes attributed to pre-releases")
	f.StringVarP(&o.output, "output", "o", o.output, "output format: table, json or markdown")
	return cmd
}

func kindList() string {
	var s []string
	for _, k := range tracker.AllKinds {
		s = append(s, string(k))
	}
	return strings.Join(s, ", ")
}

func runNotes(ctx context.Context, g *globalOptions, o *notesOptions, stdout, stderr io.Writer) error {
	if err := checkFormat(o.output, formatTable, formatJSON, formatMarkdown); err != nil {
		return err
	}
	sel, err := o.selection()
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	var notes []tracker.Note
	failed := 0
	if len(o.changelogs) > 0 {
		notes, failed, err = parseChangelogs(ctx, o.changelogs, stderr)
		if err != nil {
			return &exitError{code: exitUsage, err: err}
		}
	} else {
		st, err := g.openStore(ctx)
		if err != nil {
			return err
		}
		defer st.Close()
		if notes, err = st.Notes(ctx, data.NoteFilter{Component: o.component}); err != nil {
			return err
		}
	}
	notes = sel.apply(notes)
	if err := printNotes(stdout, o.output, notes); err != nil {
		return err
	}
	if failed > 0 {
		return &exitError{code: exitPartial}
	}
	return nil
}

// noteSelection is the filter of `notes` flags, validated once.
type noteSelection struct {
	from, to           tracker.Version
	kinds              []tracker.Kind
	actionRequired     bool
	includePrereleases bool
}

func (o *notesOptions) selection() (noteSelection, error) {
	s := noteSelection{actionRequired: o.actionRequired, includePrereleases: o.includePrereleases}
	var err error
	if o.from != "" {
		if s.from, err = tracker.ParseVersion(o.from); err != nil {
			return s, fmt.Errorf("--from: %w", err)
		}
	}
	if o.to != "" {
		if s.to, err = tracker.ParseVersion(o.to); err != nil {
			return s, fmt.Errorf("--to: %w", err)
		}
	}
	if !s.from.IsZero() && !s.to.IsZero() && s.to.Compare(s.from) < 0 {
		return s, fmt.Errorf("--to %s is older than --from %s", o.to, o.from)
	}
	for _, k := range o.kinds {
		k = strings.TrimSpace(strings.ToLower(k))
		if !tracker.ValidKind(tracker.Kind(k)) {
			return s, fmt.Errorf("--kind: unknown kind %q: want one of %s", k, kindList())
		}
		s.kinds = append(s.kinds, tracker.Kind(k))
	}
	return s, nil
}

func (s noteSelection) apply(notes []tracker.Note) []tracker.Note {
	notes = tracker.Crossing(notes, s.from, s.to, s.includePrereleases)
	out := notes[:0:0]
	for _, n := range notes {
		if s.actionRequired && !n.ActionRequired {
			continue
		}
		if len(s.kinds) > 0 && !slices.ContainsFunc(s.kinds, n.HasKind) {
			continue
		}
		out = append(out, n)
	}
	return out
}

// parseChangelogs reads every changelog named by paths (directories are searched
// for CHANGELOG*.md). A file that fails to parse is reported on stderr and
// counted; the others are still used. The error is for unusable arguments.
func parseChangelogs(ctx context.Context, paths []string, stderr io.Writer) ([]tracker.Note, int, error) {
	files, err := changelogFiles(paths)
	if err != nil {
		return nil, 0, err
	}
	var notes []tracker.Note
	failed := 0
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return nil, 0, err
		}
		src, err := os.ReadFile(f)
		if err != nil {
			fmt.Fprintf(stderr, "kubedrift: %v\n", err)
			failed++
			continue
		}
		res, err := changelog.ParseKubernetes(f, src)
		if err != nil {
			fmt.Fprintf(stderr, "kubedrift: %v\n", err)
			failed++
			continue
		}
		for _, p := range res.Problems {
			fmt.Fprintf(stderr, "kubedrift: warning: %s:%d: %s\n", f, p.Line, p.Msg)
		}
		notes = append(notes, res.Notes...)
	}
	sortNotes(notes)
	return notes, failed, nil
}

func changelogFiles(paths []string) ([]string, error) {
	var files []string
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("--changelog: %w", err)
		}
		if !info.IsDir() {
			files = append(files, p)
			continue
		}
		found := 0
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			name := d.Name()
			if !d.IsDir() && strings.HasPrefix(name, "CHANGELOG") && strings.HasSuffix(name, ".md") {
				files = append(files, path)
				found++
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("--changelog %s: %w", p, err)
		}
		if found == 0 {
			return nil, fmt.Errorf("--changelog %s: no CHANGELOG*.md files in the directory", p)
		}
	}
	return files, nil
}

// sortNotes orders notes newest release first, then by PR, so output is stable
// whichever order the files were read in.
func sortNotes(notes []tracker.Note) {
	sort.SliceStable(notes, func(i, j int) bool {
		if c := tracker.CompareVersionStrings(notes[i].Version, notes[j].Version); c != 0 {
			return c > 0
		}
		if notes[i].Component != notes[j].Component {
			return notes[i].Component < notes[j].Component
		}
		return notes[i].PR < notes[j].PR
	})
}

func printNotes(w io.Writer, format string, notes []tracker.Note) error {
	switch format {
	case formatJSON:
		if notes == nil {
			notes = []tracker.Note{}
		}
		return writeJSON(w, notes)
	case formatMarkdown:
		return notesMarkdown(w, notes)
	}
	tw := newTable(w)
	fmt.Fprintln(tw, "VERSION\tKINDS\tPR\tCVES\tNOTE")
	for _, n := range notes {
		kinds := kindsString(n)
		if n.ActionRequired {
			kinds = "ACTION-REQUIRED," + kinds
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", n.Version, kinds, prString(n), strings.Join(n.CVEs, ","), terminalSafe(noteSummary(n), 80))
	}
	return tw.Flush()
}

func kindsString(n tracker.Note) string {
	var s []string
	for _, k := range n.Kinds {
		s = append(s, string(k))
	}
	if len(s) == 0 {
		return "-"
	}
	return strings.Join(s, ",")
}

func prString(n tracker.Note) string {
	if n.PR == 0 {
		return "-"
	}
	return fmt.Sprintf("#%d", n.PR)
}

// noteSummary is what a one-line view shows of a note: its text, or, for
// notes from the offline snapshot (which carries no upstream prose), a word
// on where the text comes from. Views show the PR beside it.
func noteSummary(n tracker.Note) string {
	const pending = "(text arrives with kubedrift sync)"
	switch {
	case n.Text != "":
		return n.Text
	case n.Security != nil && n.Security.ID != "":
		return n.Security.ID + " " + pending
	}
	return pending
}

func notesMarkdown(w io.Writer, notes []tracker.Note) error {
	current := ""
	for _, n := range notes {
		if n.Version != current {
			if current != "" {
				fmt.Fprintln(w)
			}
			current = n.Version
			fmt.Fprintf(w, "## %s %s\n\n", markdownInline(n.Component), markdownInline(n.Version))
		}
		var tags []string
		if n.ActionRequired {
			tags = append(tags, "**action required**")
		}
		tags = append(tags, "`"+kindsString(n)+"`")
		fmt.Fprintf(w, "- %s %s%s\n", strings.Join(tags, " "), markdownInline(noteSummary(n)), prLink(n))
	}
	return nil
}
