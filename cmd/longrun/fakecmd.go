package main

import (
	"github.com/spf13/cobra"

	"github.com/longrun/longrun/fake/fakecmd"
)

// fakeCommand is `longrun fake`: longrun-fake's own command line (the same
// flags, parsed by the same code), so `longrun fake &` then
// `longrun cloudsigma clone-server ... --wait` works with nothing else
// installed.
func (a *app) fakeCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "fake [-addr ADDR] [-speed N] [-seed FILE] [-truenas-version V] [-control-token T] [-log-level L]",
		Short: "Run the bundled fake of all four services (the same flags as longrun-fake)",
		Long: `Run longrun's in-memory fake of CloudSigma, TrueNAS, Freezer and ftrack until
interrupted, with the same flags as the longrun-fake program. It prints each
dialect's URL, the seeded credentials, the export lines for this command's
environment variables, and the control API's token.`,
		DisableFlagParsing: true, // longrun-fake's flags, parsed by fakecmd
		RunE: func(cmd *cobra.Command, args []string) error {
			if code := fakecmd.Main(cmd.Context(), "longrun fake", args, a.stdout, a.stderr); code != 0 {
				return &reportedError{err: errFake, code: code}
			}
			return nil
		},
	}
}

// errFake marks a fake that could not start (fakecmd printed why).
var errFake = fakeError("the fake could not run")

type fakeError string

func (e fakeError) Error() string { return string(e) }
