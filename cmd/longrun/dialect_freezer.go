package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/longrun/longrun/freezer"
	"github.com/longrun/longrun/jobs"
)

// frzService is OpenStack Freezer: its jobs API.
type frzService struct {
	c *freezer.Client
}

func openFreezer(_ context.Context, c FreezerConfig) (*frzService, error) {
	if err := need("freezer", "OS_BACKUP_URL", c.URL); err != nil {
		return nil, err
	}
	opts := []freezer.Option{}
	if c.APIVersion == "1" {
		opts = append(opts, freezer.WithAPIVersion(freezer.V1))
	}
	switch {
	case c.Token != "":
		opts = append(opts, freezer.WithToken(c.Token))
	case c.AuthURL != "":
		if err := need("freezer", "OS_USERNAME", c.Username, "OS_PASSWORD", c.Password); err != nil {
			return nil, err
		}
		opts = append(opts, freezer.WithPassword(freezer.Credentials{AuthURL: c.AuthURL, Username: c.Username,
			Password: c.Password, ProjectName: c.ProjectName, ProjectID: c.ProjectID,
			UserDomainName: c.UserDomainName, ProjectDomainName: c.ProjectDomainName}))
	default:
		return nil, need("freezer", "OS_TOKEN or OS_AUTH_URL", "")
	}
	if c.ProjectID != "" {
		opts = append(opts, freezer.WithProjectID(c.ProjectID))
	}
	fc, err := freezer.New(c.URL, opts...)
	if err != nil {
		return nil, usagef(err.Error())
	}
	return &frzService{c: fc}, nil
}

func (s *frzService) Source() jobs.Source { return s.c }

func (s *frzService) List(ctx context.Context, all bool) ([]*jobs.Job, error) {
	var out []*jobs.Job
	for j, err := range s.c.All(ctx, &freezer.ListOptions{Limit: 100}) {
		if err != nil {
			return out, err
		}
		n := j.ToJob()
		if all || !n.Done() {
			out = append(out, n)
		}
	}
	return out, nil
}

func (s *frzService) Close() error { return nil }

func (a *app) freezerCommand() *cobra.Command {
	var out outputFlags
	var wait bool
	var timeout time.Duration
	start := &cobra.Command{
		Use:   "start JOB_ID",
		Short: "Start a Freezer job now and optionally wait for that run's result",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, timeout)
				defer cancel()
			}
			svc, err := openFreezer(ctx, a.env.profile.Freezer)
			if err != nil {
				return err
			}
			res, err := svc.c.Start(ctx, args[0])
			if err != nil {
				return err
			}
			if !out.json {
				fmt.Fprintf(a.stdout, "job %s: start %s\n", args[0], res.Result)
			}
			if !wait {
				return nil
			}
			return a.waitJobs(ctx, svc.c, args, &out)
		},
	}
	out.add(start)
	start.Flags().BoolVar(&wait, "wait", false, "wait for the run's result")
	start.Flags().DurationVar(&timeout, "timeout", 0, "give up waiting after this long (exit code 3)")
	cmd := &cobra.Command{Use: "freezer", Short: "Start OpenStack Freezer backup jobs"}
	cmd.AddCommand(start)
	return cmd
}
