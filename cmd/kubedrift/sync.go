package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

type syncOptions struct {
	upstream  upstreamConfig
	tokenFile string
	output    string
}

// addUpstreamFlags registers where upstream lives; shared by sync and serve.
func addUpstreamFlags(cmd *cobra.Command, u *upstreamConfig, tokenFile *string) {
	f := cmd.Flags()
	f.StringVar(&u.GitHubAPIURL, "github-api-url", u.GitHubAPIURL, "GitHub API base URL (GitHub Enterprise: https://HOST/api/v3/); default api.github.com")
	f.StringVar(tokenFile, "github-token-file", "", "file holding a GitHub token (default: the GITHUB_TOKEN environment variable; optional)")
	f.StringSliceVar(&u.ExtraRepos, "repo", u.ExtraRepos, "extra GitHub repository (owner/repo) whose releases are tracked, repeatable")
	f.StringSliceVar(&u.OSVURLs, "osv-url", u.OSVURLs, "URL of OSV records (one record, a JSON array or a zip), repeatable")
	f.StringVar(&u.CVEFeedURL, "cve-feed-url", u.CVEFeedURL, "URL of the official Kubernetes CVE feed (empty to skip)")
	f.IntVar(&u.ChangelogMinors, "changelog-minors", u.ChangelogMinors, "how many of the newest minors get their CHANGELOG refreshed")
}

// resolveToken reads the GitHub token from a file or the environment. The
// token is never printed; errors name the file, not its content.
func resolveToken(file string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("--github-token-file: %w", err)
		}
		tok := strings.TrimSpace(string(b))
		if tok == "" {
			return "", fmt.Errorf("--github-token-file %s: file is empty", file)
		}
		return tok, nil
	}
	return strings.TrimSpace(os.Getenv("GITHUB_TOKEN")), nil
}

func newSyncCmd(g *globalOptions) *cobra.Command {
	o := &syncOptions{upstream: defaultUpstream(), output: formatTable}
	cmd := &cobra.Command{
		Use:   "sync",
		Short: "Refresh releases, changelogs, CVEs and support windows from upstream",
		Long: `Refresh the store from upstream: Kubernetes releases and CHANGELOG files from
GitHub, the release schedule, official CVE records, and the releases of any extra
repositories. Requests are conditional, so a sync with nothing new costs no rate
limit. A source that fails is reported and the others still refresh.

The exit status is non-zero only when nothing could be refreshed and the store
holds no data at all.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSync(cmd, g, o)
		},
	}
	addUpstreamFlags(cmd, &o.upstream, &o.tokenFile)
	cmd.Flags().StringVarP(&o.output, "output", "o", o.output, "summary format: table or json")
	return cmd
}

func runSync(cmd *cobra.Command, g *globalOptions, o *syncOptions) error {
	if err := checkFormat(o.output, formatTable, formatJSON); err != nil {
		return err
	}
	log, err := g.logger(cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	tok, err := resolveToken(o.tokenFile)
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	o.upstream.Token = tok
	ctx := cmd.Context()
	st, err := g.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	s, err := newSyncer(st, o.upstream, log)
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	if isTerminal(cmd.ErrOrStderr()) {
		s.progress = func(format string, args ...any) {
			fmt.Fprintf(cmd.ErrOrStderr(), "\r\033[K"+format, args...)
		}
		defer fmt.Fprint(cmd.ErrOrStderr(), "\r\033[K")
	}
	rep := s.Sync(ctx)
	if err := printSyncReport(cmd.OutOrStdout(), o.output, rep, s); err != nil {
		return err
	}
	if rep.count("updated")+rep.count("unchanged") == 0 {
		empty, err := st.Empty(ctx)
		if err != nil || empty {
			var errs []error
			for _, r := range rep.Results {
				errs = append(errs, r.Err)
			}
			return &exitError{code: exitPartial, err: fmt.Errorf("nothing could be refreshed and the store is empty: %w", errors.Join(errs...))}
		}
	}
	return nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func printSyncReport(w io.Writer, format string, rep syncReport, s *syncer) error {
	st := s.transport.Stats()
	if format == formatJSON {
		type result struct {
			sourceResult
			Error string `json:"error,omitempty"`
		}
		out := struct {
			Sources          []result `json:"sources"`
			Requests         int64    `json:"requests"`
			NotModified      int64    `json:"not_modified"`
			RateLimitedUntil string   `json:"rate_limited_until,omitempty"`
		}{Sources: []result{}, Requests: st.Requests, NotModified: st.Status304}
		for _, r := range rep.Results {
			res := result{sourceResult: r}
			if r.Err != nil {
				res.Error = r.Err.Error()
			}
			out.Sources = append(out.Sources, res)
		}
		if !rep.RateLimitedUntil.IsZero() {
			out.RateLimitedUntil = rep.RateLimitedUntil.UTC().Format("2006-01-02T15:04:05Z")
		}
		return writeJSON(w, out)
	}
	tw := newTable(w)
	fmt.Fprintln(tw, "SOURCE\tSTATUS\tDETAIL")
	for _, r := range rep.Results {
		detail := r.Detail
		if r.Err != nil {
			detail = terminalSafe(r.Err.Error(), 200)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.Source, r.Status, detail)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%d updated, %d unchanged, %d failed, %d skipped; %d requests (%d not modified)\n",
		rep.count("updated"), rep.count("unchanged"), rep.count("failed"), rep.count("skipped"), st.Requests, st.Status304)
	if !rep.RateLimitedUntil.IsZero() {
		fmt.Fprintf(w, "GitHub rate limit exhausted: GitHub sources resume after %s\n", rep.RateLimitedUntil.UTC().Format("2006-01-02 15:04:05 MST"))
	}
	return nil
}
