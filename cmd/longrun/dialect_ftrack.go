package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/longrun/longrun/ftrack"
	"github.com/longrun/longrun/jobs"
)

// ftService is ftrack: one API session.
type ftService struct {
	s *ftrack.Session
}

func openFtrack(_ context.Context, c FtrackConfig) (*ftService, error) {
	if err := need("ftrack", "FTRACK_SERVER", c.Server, "FTRACK_API_USER", c.User, "FTRACK_API_KEY", c.APIKey); err != nil {
		return nil, err
	}
	s, err := ftrack.NewSession(c.Server, c.User, c.APIKey)
	if err != nil {
		return nil, usagef(err.Error())
	}
	return &ftService{s: s}, nil
}

func (s *ftService) Source() jobs.Source { return s.s }

func (s *ftService) List(ctx context.Context, all bool) ([]*jobs.Job, error) {
	opts := &ftrack.ListOptions{Descending: true}
	if !all {
		opts.Status = []ftrack.Status{ftrack.StatusQueued, ftrack.StatusRunning}
	}
	var out []*jobs.Job
	for j, err := range s.s.All(ctx, opts) {
		if err != nil {
			return out, err
		}
		out = append(out, j.ToJob())
	}
	return out, nil
}

func (s *ftService) Close() error { return nil }

func (a *app) ftrackCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "ftrack", Short: "Report jobs and attach files in ftrack"}
	attach := &cobra.Command{
		Use:   "attach JOB_ID FILE",
		Short: "Attach FILE to an ftrack job (streamed, checksummed); prints the component id",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			svc, err := openFtrack(ctx, a.env.profile.Ftrack)
			if err != nil {
				return err
			}
			f, err := os.Open(args[1])
			if err != nil {
				return usagef(err.Error())
			}
			defer f.Close()
			st, err := f.Stat()
			if err != nil {
				return err
			}
			att, err := svc.s.Attach(ctx, args[0], filepath.Base(args[1]), f, st.Size())
			if err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, att.ComponentID)
			return nil
		},
	}
	var status, desc string
	create := &cobra.Command{
		Use:   "create",
		Short: "Create a job shown in the user's Jobs menu; prints its id",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			svc, err := openFtrack(cmd.Context(), a.env.profile.Ftrack)
			if err != nil {
				return err
			}
			j, err := svc.s.CreateJob(cmd.Context(), ftrack.CreateJobRequest{Status: ftrack.Status(status), Description: desc})
			if err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, j.ID)
			return nil
		},
	}
	create.Flags().StringVar(&status, "status", "running", "queued, running, done or failed")
	create.Flags().StringVar(&desc, "description", "", "the job's description")
	setStatus := &cobra.Command{
		Use:   "set-status JOB_ID STATUS [DESCRIPTION]",
		Short: "Set a job's status (done and failed set its finished time)",
		Args:  cobra.RangeArgs(2, 3),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, err := openFtrack(cmd.Context(), a.env.profile.Ftrack)
			if err != nil {
				return err
			}
			d := ""
			if len(args) == 3 {
				d = args[2]
			}
			_, err = svc.s.SetStatus(cmd.Context(), args[0], ftrack.Status(args[1]), d)
			return err
		},
	}
	cmd.AddCommand(attach, create, setStatus)
	return cmd
}
