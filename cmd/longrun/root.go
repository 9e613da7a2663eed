package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/longrun/longrun/internal/redact"
)

// app carries one invocation's streams and global flags.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer

	profileName string
	configFile  string
	interval    time.Duration
	env         *env
}

// run executes one command line and returns its exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var reported *reportedError
	if !errors.As(err, &reported) {
		fmt.Fprintln(stderr, "longrun:", redact.String(err.Error()))
	}
	if isCobraUsage(err) {
		return exitUsage
	}
	if reported != nil {
		return reported.code
	}
	return exitCode(err)
}

// reportedError is an error the command already printed (with its code).
type reportedError struct {
	err  error
	code int
}

func (e *reportedError) Error() string { return e.err.Error() }
func (e *reportedError) Unwrap() error { return e.err }

// isCobraUsage recognises cobra's own argument and flag errors.
func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "accepts ", "requires at least",
		"invalid argument", "flag needs an argument", "required flag"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "longrun",
		Short: "Wait on, watch and inspect long-running jobs of CloudSigma, TrueNAS, Freezer and ftrack",
		Long: `longrun follows long-running jobs to the end: CloudSigma clones and their
sub-jobs, TrueNAS middleware jobs, OpenStack Freezer backups and ftrack jobs.

Endpoints and credentials come from flags, the environment variables each
service's own tools read, or a profile of the config file (--profile):
  CloudSigma  CLOUDSIGMA_URL CLOUDSIGMA_USER CLOUDSIGMA_PASSWORD
  TrueNAS     TRUENAS_URL TRUENAS_USER TRUENAS_API_KEY (or TRUENAS_PASSWORD)
  Freezer     OS_BACKUP_URL (or FREEZER_URL) OS_AUTH_URL OS_USERNAME OS_PASSWORD
              OS_PROJECT_NAME OS_PROJECT_ID OS_TOKEN
  ftrack      FTRACK_SERVER FTRACK_API_USER FTRACK_API_KEY
Secrets are never printed.

Exit codes: see 'longrun help exit-codes'.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if cmd.Name() == "fake" || cmd.Name() == "completion" || cmd.Name() == "help" {
				return nil
			}
			path := a.configFile
			if path == "" {
				path = configPath()
			}
			p, err := loadProfile(path, a.profileName)
			if err != nil {
				return err
			}
			p.env()
			a.env = &env{profile: p, interval: a.interval}
			return nil
		},
	}
	pf := root.PersistentFlags()
	pf.StringVar(&a.profileName, "profile", envOr("LONGRUN_PROFILE", ""), "profile of the config file to use (env LONGRUN_PROFILE)")
	pf.StringVar(&a.configFile, "config", "", "config file (default $LONGRUN_CONFIG or ~/.config/longrun/config.yaml)")
	pf.DurationVar(&a.interval, "interval", 0, "smallest poll interval (default: the SDK's backoff)")
	root.AddCommand(a.waitCommand(), a.watchCommand(), a.getCommand(), a.listCommand(),
		a.cloudsigmaCommand(), a.truenasCommand(), a.freezerCommand(), a.ftrackCommand(),
		a.fakeCommand(), exitCodesTopic())
	return root
}

// exitCodesTopic is `longrun help exit-codes`.
func exitCodesTopic() *cobra.Command {
	return &cobra.Command{
		Use:   "exit-codes",
		Short: "The exit codes a script can rely on",
		Long:  exitCodesHelp,
	}
}

// dialectArg completes and checks the DIALECT argument.
func dialectArg(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	if len(args) == 0 {
		return dialects, cobra.ShellCompDirectiveNoFileComp
	}
	return nil, cobra.ShellCompDirectiveNoFileComp
}
