package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newConfigCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "config", Short: "Work with the service configuration file"}
	path := "kubedrift.yaml"
	validate := &cobra.Command{
		Use:   "validate",
		Short: "Check a configuration: every problem with file:line, files and secrets readable",
		Long: `Check a configuration file without starting anything: unknown keys, bad cron
specs, durations, kinds and severities, channels with no destination, secrets
written inline instead of *_file or *_env, unreadable files and unset secret
environment variables. Every problem is listed with its file:line.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, _, err := loadConfig(path)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: ok (%d channels)\n", path, len(cfg.Channels))
			return nil
		},
	}
	validate.Flags().StringVar(&path, "config", path, "configuration file")
	cmd.AddCommand(validate)
	return cmd
}
