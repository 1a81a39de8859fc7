package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kubedrift/kubedrift/data"
	"github.com/kubedrift/kubedrift/feeds/changelog"
	"github.com/kubedrift/kubedrift/feeds/cve"
	"github.com/kubedrift/kubedrift/feeds/schedule"
	"github.com/kubedrift/kubedrift/tracker"
)

func newDataCmd(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "data",
		Short: "Move upstream data in and out of the store (air-gapped sites, the offline snapshot)",
	}
	cmd.AddCommand(newDataExportCmd(g), newDataImportCmd(g), newDataBuildCmd())
	return cmd
}

func newDataExportCmd(g *globalOptions) *cobra.Command {
	var factsOnly bool
	cmd := &cobra.Command{
		Use:   "export FILE",
		Short: "Write the store's upstream data to a versioned, checksummed bundle",
		Long: `Write releases, notes, CVEs and support windows to a gzip-compressed,
checksummed bundle that 'kubedrift data import' reads on a machine without
network access. Use - for standard output.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			st, err := g.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			return writeFileAtomic(args[0], cmd.OutOrStdout(), func(w io.Writer) error {
				return st.Export(ctx, w, data.ExportOptions{FactsOnly: factsOnly, Compress: true})
			})
		},
	}
	cmd.Flags().BoolVar(&factsOnly, "facts-only", false, "leave out upstream prose (note texts, CVE descriptions)")
	return cmd
}

func newDataImportCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "import FILE",
		Short: "Load a bundle written by 'kubedrift data export' into the store",
		Long: `Load a bundle into the store. The bundle is verified completely first
(format, version, checksum); a tampered or truncated bundle is refused and the
store is left unchanged. Use - for standard input.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			var r io.Reader = cmd.InOrStdin()
			if args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return &exitError{code: exitUsage, err: err}
				}
				defer f.Close()
				r = f
			}
			st, err := g.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			sum, err := st.Import(ctx, r)
			if err != nil {
				return &exitError{code: exitUsage, err: fmt.Errorf("import %s: %w", args[0], err)}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "imported %d releases, %d notes, %d CVEs, %d support windows (bundle built %s)\n",
				sum.Releases, sum.Notes, sum.CVEs, sum.SupportWindows, sum.BuiltAt.UTC().Format(time.RFC3339))
			return nil
		},
	}
}

func newDataBuildCmd() *cobra.Command {
	var corpus, eolFile, out, builtAt string
	cmd := &cobra.Command{
		Use:   "build",
		Short: "Build the offline snapshot from a directory of upstream files",
		Long: `Build a facts-only bundle (versions, dates, note kinds and PR numbers, CVE ids
and ranges, support windows; no upstream prose) from a directory laid out like the
upstream corpus: kubernetes/releases.tsv, kubernetes/CHANGELOG-*.md, osv/*.json,
cve-feed/*.json and schedule/*.yaml. 'make snapshot' uses it to refresh the
snapshot compiled into kubedrift.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			at := time.Now().UTC()
			if builtAt != "" {
				var err error
				if at, err = time.Parse(time.DateOnly, builtAt); err != nil {
					return &exitError{code: exitUsage, err: fmt.Errorf("--built-at: want YYYY-MM-DD: %w", err)}
				}
			}
			return buildSnapshot(cmd.Context(), corpus, eolFile, out, at, cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&corpus, "corpus", "../shared/corpus", "directory of upstream files")
	f.StringVar(&eolFile, "eol", "", "extra end-of-life list in the shape of the website's eol.yaml (minors that ended before the schedule begins)")
	f.StringVarP(&out, "output", "o", "", "bundle file to write (required)")
	f.StringVar(&builtAt, "built-at", "", "build date recorded in the bundle, YYYY-MM-DD (default today)")
	_ = cmd.MarkFlagRequired("output")
	return cmd
}

// buildSnapshot parses a corpus directory into a scratch store and exports it
// facts-only. Every input problem is reported; a missing part of the corpus
// is an error, because a snapshot silently lacking CVEs would mislead.
func buildSnapshot(ctx context.Context, corpus, eolFile, out string, builtAt time.Time, stderr io.Writer) error {
	tmp, err := os.MkdirTemp("", "kubedrift-build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	st, err := data.Open(ctx, filepath.Join(tmp, "build.db"), data.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	warn := func(err error) { fmt.Fprintf(stderr, "kubedrift: warning: %v\n", err) }

	rels, err := readReleasesTSV(filepath.Join(corpus, "kubernetes", "releases.tsv"))
	if len(rels) == 0 {
		return err
	}
	if err != nil {
		warn(err)
	}
	if err := st.Apply(ctx, data.Update{Source: "corpus:releases", At: builtAt, Releases: rels}); err != nil {
		return err
	}

	logs, _ := filepath.Glob(filepath.Join(corpus, "kubernetes", "CHANGELOG-*.md"))
	if len(logs) == 0 {
		return fmt.Errorf("%s: no CHANGELOG-*.md files", filepath.Join(corpus, "kubernetes"))
	}
	for _, p := range logs {
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		res, err := changelog.ParseKubernetes(p, src)
		if err != nil {
			return err
		}
		u := data.Update{Source: "corpus:" + filepath.Base(p), At: builtAt, Releases: res.Releases, Notes: res.Notes}
		for _, r := range res.Releases {
			if !r.Prerelease {
				u.NoteScopes = append(u.NoteScopes, data.NoteScope{Component: r.Component, Version: r.Version})
			}
		}
		if err := st.Apply(ctx, u); err != nil {
			return err
		}
	}

	osv, errs := cve.ParseOSVDir(os.DirFS(corpus), "osv")
	for _, e := range errs {
		warn(e)
	}
	if len(osv) == 0 {
		return fmt.Errorf("%s: no OSV records", filepath.Join(corpus, "osv"))
	}
	var feed []cve.FeedItem
	feeds, _ := filepath.Glob(filepath.Join(corpus, "cve-feed", "*.json"))
	for _, p := range feeds {
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		items, err := cve.ParseFeed(p, b)
		if err != nil {
			return err
		}
		feed = append(feed, items...)
	}
	if err := st.Apply(ctx, data.Update{Source: "corpus:cve", At: builtAt, CVEs: cve.Merge(osv, feed)}); err != nil {
		return err
	}

	var windows []tracker.SupportWindow
	var patches []tracker.Release
	if b, err := os.ReadFile(filepath.Join(corpus, "schedule", "schedule.yaml")); err == nil {
		sc, err := schedule.ParseSchedule(filepath.Join(corpus, "schedule", "schedule.yaml"), b)
		if err != nil {
			warn(err)
		}
		windows, patches = sc.Windows, sc.Patches
	} else {
		return err
	}
	eolFiles := []string{filepath.Join(corpus, "schedule", "eol.yaml")}
	if eolFile != "" {
		eolFiles = append(eolFiles, eolFile)
	}
	for _, p := range eolFiles {
		b, err := os.ReadFile(p)
		if err != nil {
			if p == eolFile {
				return err
			}
			continue
		}
		eol, err := schedule.ParseEOLSchedule(p, b)
		if err != nil {
			warn(err)
		}
		windows = schedule.MergeWindows(windows, eol.Windows)
		patches = append(patches, eol.Patches...)
	}
	if err := st.Apply(ctx, data.Update{Source: "corpus:schedule", At: builtAt, SupportWindows: windows, Releases: patches}); err != nil {
		return err
	}
	return writeFileAtomic(out, nil, func(w io.Writer) error {
		return st.Export(ctx, w, data.ExportOptions{FactsOnly: true, BuiltAt: builtAt})
	})
}

// readReleasesTSV reads the corpus list of release versions (version, minor,
// prerelease, ...). Lines that do not hold a version are reported by line.
func readReleasesTSV(path string) ([]tracker.Release, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []tracker.Release
	var errs []error
	sc := bufio.NewScanner(bytes.NewReader(b))
	line := 0
	for sc.Scan() {
		line++
		fields := strings.Split(sc.Text(), "\t")
		if line == 1 && fields[0] == "version" || strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		v, err := tracker.ParseVersion(fields[0])
		if err != nil {
			errs = append(errs, fmt.Errorf("%s:%d: %w", path, line, err))
			continue
		}
		out = append(out, tracker.Release{
			Component:  tracker.ComponentKubernetes,
			Version:    v.String(),
			Prerelease: v.IsPrerelease(),
			URL:        "https://github.com/kubernetes/kubernetes/releases/tag/" + v.String(),
		})
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", path, err))
	}
	if len(out) == 0 {
		errs = append(errs, fmt.Errorf("%s: no releases", path))
	}
	return out, errors.Join(errs...)
}

// writeFileAtomic writes through a temporary file renamed into place, so a
// failed export never leaves half a bundle under the final name. "-" writes
// to stdout.
func writeFileAtomic(path string, stdout io.Writer, write func(io.Writer) error) error {
	if path == "-" && stdout != nil {
		return write(stdout)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
