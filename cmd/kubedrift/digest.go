package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

func newDigestCmd(g *globalOptions) *cobra.Command {
	var configPath, preview string
	var send bool
	cmd := &cobra.Command{
		Use:   "digest",
		Short: "Render the weekly email digest to a file, or send it now",
		Long: `Build the weekly digest from the store: fleet summary, pending upgrades with
the blockers of each next step, CVEs published or newly affecting the fleet this
week, removals ahead, and delivery problems. --preview writes the HTML to a file;
--send mails it to the configuration's digest channels (once per week and
channel, like the service).`,
		Example: `  kubedrift digest --config kubedrift.yaml --preview digest.html
  kubedrift digest --config kubedrift.yaml --send`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if preview == "" && !send {
				return &exitError{code: exitUsage, err: errors.New("pass --preview FILE or --send")}
			}
			s, closeAll, err := openService(cmd, g, configPath)
			if err != nil {
				return err
			}
			defer closeAll()
			ctx := cmd.Context()
			// The digest describes the current state: evaluate without
			// delivering advisories (the service does that).
			if err := s.refreshReport(ctx); err != nil {
				return err
			}
			if preview != "" {
				if err := s.writeDigestPreview(ctx, preview); err != nil {
					return err
				}
			}
			if send {
				if len(s.digests) == 0 {
					return &exitError{code: exitUsage, err: errors.New("no digest channels: set digest: true on an email channel")}
				}
				sent, err := s.sendDigest(ctx)
				if err != nil {
					return &exitError{code: exitPartial, err: err}
				}
				if len(sent) == 0 {
					fmt.Fprintln(cmd.OutOrStdout(), "the digest was already sent this week to every digest channel")
				} else {
					fmt.Fprintf(cmd.OutOrStdout(), "digest sent to %s\n", strings.Join(sent, ", "))
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&configPath, "config", "kubedrift.yaml", "configuration file")
	f.StringVar(&preview, "preview", "", "write the digest as HTML to this file")
	f.BoolVar(&send, "send", false, "send the digest to the digest channels")
	return cmd
}
