package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/longrun/longrun/internal/display"
	"github.com/longrun/longrun/jobs"
)

// outputFlags choose how progress renders.
type outputFlags struct {
	json  bool
	plain bool
}

func (o *outputFlags) add(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&o.json, "json", false, "print one JSON object per change (NDJSON), then the final tree")
	cmd.Flags().BoolVar(&o.plain, "plain", false, "print timestamped lines even on a terminal")
}

func (o *outputFlags) display(a *app) *display.Display {
	mode := display.Auto
	switch {
	case o.json:
		mode = display.JSON
	case o.plain:
		mode = display.Lines
	}
	return display.New(display.Options{Out: a.stdout, Mode: mode})
}

func (a *app) waitCommand() *cobra.Command {
	var out outputFlags
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "wait DIALECT ID...",
		Short: "Wait until every job and every sub-job is done",
		Long: `Wait until every job given (and every sub-job under it) is done, showing
live progress: a bar per sub-job on a terminal, timestamped lines when piped,
NDJSON with --json. Many ids share one connection and one poller.
The exit code says how it ended (longrun help exit-codes).`,
		Example: `  longrun wait cloudsigma 5d1f3ac2-...
  longrun wait truenas 101 102 103 --timeout 30m
  longrun wait freezer 8f2c... --json | jq -c 'select(.done)'`,
		Args:              cobra.MinimumNArgs(2),
		ValidArgsFunction: dialectArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, timeout)
				defer cancel()
			}
			svc, err := a.env.open(ctx, args[0])
			if err != nil {
				return err
			}
			defer svc.Close()
			return a.waitJobs(ctx, svc.Source(), args[1:], &out)
		},
	}
	out.add(cmd)
	cmd.Flags().DurationVar(&timeout, "timeout", 0, "give up after this long (exit code 3)")
	return cmd
}

// waitJobs waits for every id on one Watcher, rendering every tree on one
// display, and returns the worst outcome.
func (a *app) waitJobs(ctx context.Context, src jobs.Source, ids []string, out *outputFlags) error {
	d := out.display(a)
	opts := append(a.env.waitOptions(), jobs.WithOnProgress(d.Update))
	if len(ids) == 1 {
		final, err := jobs.Wait(ctx, src, ids[0], opts...)
		d.Finish(lastTree(final, err), err)
		return reported(err)
	}
	w := jobs.NewWatcher(src, a.env.waitOptions()...)
	defer w.Close()
	var wg sync.WaitGroup
	errs := make([]error, len(ids))
	finals := make([]*jobs.Job, len(ids))
	for i, id := range ids {
		wg.Go(func() {
			finals[i], errs[i] = w.Wait(ctx, id, jobs.WithOnProgress(d.Update))
		})
	}
	wg.Wait()
	codes := make([]int, len(ids))
	var first error
	for i := range ids {
		codes[i] = exitCode(errs[i])
		if errs[i] != nil {
			d.Finish(lastTree(finals[i], errs[i]), fmt.Errorf("job %s: %w", ids[i], errs[i]))
			if first == nil || codes[i] == worst(codes[i], exitCode(first)) {
				first = errs[i]
			}
		} else {
			d.Finish(finals[i], nil)
		}
	}
	if first == nil {
		return nil
	}
	return &reportedError{err: first, code: worst(codes...)}
}

// lastTree is the final tree, or the last one an error carries.
func lastTree(final *jobs.Job, err error) *jobs.Job {
	if final != nil {
		return final
	}
	if te, ok := err.(*jobs.TimeoutError); ok {
		return te.Last
	}
	if fe, ok := err.(*jobs.FailedError); ok {
		return fe.Job
	}
	return nil
}

// reported marks an error the display already showed, so run does not
// print it twice.
func reported(err error) error {
	if err == nil {
		return nil
	}
	return &reportedError{err: err, code: exitCode(err)}
}

func printJSON(a *app, v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
