package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/longrun/longrun/cloudsigma"
	"github.com/longrun/longrun/drives"
	"github.com/longrun/longrun/jobs"
	"github.com/longrun/longrun/servers"
)

// csService is CloudSigma: its client and /jobs/ service.
type csService struct {
	c *cloudsigma.Client
}

func openCloudSigma(_ context.Context, c CloudSigmaConfig) (*csService, error) {
	if err := need("cloudsigma", "CLOUDSIGMA_URL", c.URL, "CLOUDSIGMA_USER", c.User, "CLOUDSIGMA_PASSWORD", c.Password); err != nil {
		return nil, err
	}
	rc, err := cloudsigma.New(c.URL, c.User, c.Password)
	if err != nil {
		return nil, usagef(err.Error())
	}
	return &csService{c: rc}, nil
}

func (s *csService) Source() jobs.Source { return s.c.Jobs }

func (s *csService) List(ctx context.Context, all bool) ([]*jobs.Job, error) {
	opts := &cloudsigma.JobListOptions{}
	if !all {
		opts.State = []string{"started"}
	}
	var out []*jobs.Job
	for j, err := range s.c.Jobs.All(ctx, opts) {
		if err != nil {
			return out, err
		}
		out = append(out, j.ToJob())
	}
	return out, nil
}

func (s *csService) Close() error { return s.c.Close() }

func (a *app) cloudsigmaCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "cloudsigma", Short: "Start CloudSigma clones"}
	cmd.AddCommand(a.csClone("clone-server", "Clone a server (all its disks) and optionally wait for every disk's sub-job"),
		a.csClone("clone-drive", "Clone a drive and optionally wait for the clone job"))
	return cmd
}

func (a *app) csClone(use, short string) *cobra.Command {
	var out outputFlags
	var name string
	var wait bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   use + " UUID",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, timeout)
				defer cancel()
			}
			svc, err := openCloudSigma(ctx, a.env.profile.CloudSigma)
			if err != nil {
				return err
			}
			var uuid, newName, jobID string
			if use == "clone-server" {
				s, err := servers.New(svc.c).Clone(ctx, args[0], &servers.CloneRequest{Name: name, RandomVNCPassword: true}, nil)
				if err != nil {
					return err
				}
				uuid, newName = s.UUID, s.Name
				if len(s.Jobs) > 0 {
					jobID = s.Jobs[0].UUID
				}
			} else {
				d, err := drives.New(svc.c).Clone(ctx, args[0], &drives.CloneRequest{Name: name}, nil)
				if err != nil {
					return err
				}
				uuid, newName = d.UUID, d.Name
				if len(d.Jobs) > 0 {
					jobID = d.Jobs[0].UUID
				}
			}
			if out.json {
				_ = json.NewEncoder(a.stdout).Encode(map[string]string{"uuid": uuid, "name": newName, "job": jobID})
			} else {
				fmt.Fprintf(a.stdout, "%s %s job %s\n", uuid, newName, jobID)
			}
			if !wait {
				return nil
			}
			if jobID == "" {
				return errors.New("the clone answer carries no job to wait for")
			}
			return a.waitJobs(ctx, svc.Source(), []string{jobID}, &out)
		},
	}
	out.add(cmd)
	cmd.Flags().StringVar(&name, "name", "", "name of the clone (default: the service's naming)")
	cmd.Flags().BoolVar(&wait, "wait", false, "wait until the clone and every sub-job are done")
	cmd.Flags().DurationVar(&timeout, "timeout", 0, "give up waiting after this long (exit code 3)")
	return cmd
}

// Discover streams the uuids of jobs the async websocket reports, so watch
// sees a new clone the moment it starts.
func (s *csService) Discover(ctx context.Context) (<-chan string, error) {
	frames, err := s.c.Frames(ctx, "jobs")
	if err != nil {
		return nil, err
	}
	out := make(chan string)
	go func() {
		defer close(out)
		for f := range frames {
			if f.Object == nil {
				continue // a deleted job
			}
			select {
			case out <- f.UUID():
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}
