package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/longrun/longrun/upload"
	"github.com/spf13/cobra"

	"github.com/longrun/longrun/jobs"
	"github.com/longrun/longrun/rpc"
)

// nasService is TrueNAS: one middleware connection.
type nasService struct {
	conn *rpc.Conn
}

func openTrueNAS(ctx context.Context, c TrueNASConfig) (*nasService, error) {
	if err := need("truenas", "TRUENAS_URL", c.URL); err != nil {
		return nil, err
	}
	var opts []rpc.Option
	switch {
	case c.APIKey != "":
		opts = append(opts, rpc.WithAPIKey(c.User, c.APIKey))
	case c.Password != "":
		opts = append(opts, rpc.WithPassword(c.User, c.Password))
	default:
		return nil, need("truenas", "TRUENAS_API_KEY or TRUENAS_PASSWORD", "")
	}
	if c.Insecure {
		opts = append(opts, rpc.WithTLSConfig(&tls.Config{InsecureSkipVerify: true})) //nolint:gosec // asked for by the user
	}
	conn, err := rpc.Dial(ctx, c.URL, opts...)
	if err != nil {
		return nil, err
	}
	return &nasService{conn: conn}, nil
}

func (s *nasService) Source() jobs.Source { return s.conn }

func (s *nasService) List(ctx context.Context, all bool) ([]*jobs.Job, error) {
	var filters []rpc.Filter
	if !all {
		filters = rpc.And(rpc.Where("state", rpc.In, []string{rpc.StateWaiting, rpc.StateRunning}))
	}
	entries, err := s.conn.GetJobs(ctx, filters, rpc.QueryOptions{})
	if err != nil {
		return nil, err
	}
	out := make([]*jobs.Job, 0, len(entries))
	for i := range entries {
		out = append(out, entries[i].ToJob())
	}
	return out, nil
}

func (s *nasService) Close() error { return s.conn.Close() }

func (a *app) truenasCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "truenas", Short: "Call TrueNAS middleware methods and move files through its jobs"}
	cmd.AddCommand(a.nasCall(), a.nasUpload(), a.nasDownload())
	return cmd
}

// jsonArgs reads each argument as JSON, or as a string when it is not JSON
// (so `longrun truenas call filesystem.stat /mnt/tank` works unquoted).
func jsonArgs(args []string) []any {
	out := make([]any, 0, len(args))
	for _, s := range args {
		var v any
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			v = s
		}
		out = append(out, v)
	}
	return out
}

func (a *app) nasCall() *cobra.Command {
	var out outputFlags
	var job bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "call METHOD [ARG...]",
		Short: "Call a middleware method; with --job, follow its job to the end",
		Long: `Call a middleware method with positional arguments, each read as JSON (or as a
string when it is not JSON), and print its result as JSON. With --job the
method runs as a job whose progress is shown live; the result is printed when
it succeeds and the exit code says how it ended.`,
		Example: `  longrun truenas call system.info
  longrun truenas call filesystem.copy '{"src": "/mnt/tank/a", "dst": "/mnt/tank/b"}' --job`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, timeout)
				defer cancel()
			}
			svc, err := openTrueNAS(ctx, a.env.profile.TrueNAS)
			if err != nil {
				return err
			}
			defer svc.Close()
			params := jsonArgs(args[1:])
			var result json.RawMessage
			if !job {
				if err := svc.conn.Call(ctx, args[0], params, &result); err != nil {
					return err
				}
				return printJSON(a, result)
			}
			h, err := svc.conn.CallJob(ctx, args[0], params...)
			if err != nil {
				return err
			}
			if err := a.waitJobs(ctx, svc.conn, []string{h.ID()}, &out); err != nil {
				return err
			}
			if err := h.Wait(ctx, &result); err != nil {
				return err
			}
			if !out.json {
				return printJSON(a, result)
			}
			return nil
		},
	}
	out.add(cmd)
	cmd.Flags().BoolVar(&job, "job", false, "the method is a job: follow it to the end")
	cmd.Flags().DurationVar(&timeout, "timeout", 0, "give up after this long (exit code 3)")
	return cmd
}

// files opens the upload/download client over the connection: the HTTP
// base URL is the websocket URL's scheme and host.
func (a *app) files(ctx context.Context) (*nasService, *upload.Client, error) {
	c := a.env.profile.TrueNAS
	svc, err := openTrueNAS(ctx, c)
	if err != nil {
		return nil, nil, err
	}
	u, err := url.Parse(c.URL)
	if err != nil {
		svc.Close()
		return nil, nil, usagef("TRUENAS_URL does not parse")
	}
	scheme := "https"
	if u.Scheme == "ws" || u.Scheme == "http" {
		scheme = "http"
	}
	var opts []upload.Option
	if c.APIKey != "" {
		opts = append(opts, upload.WithAPIKey(c.APIKey))
	} else {
		opts = append(opts, upload.WithBasicAuth(c.User, c.Password))
	}
	fc, err := upload.New(scheme+"://"+u.Host, svc.conn, opts...)
	if err != nil {
		svc.Close()
		return nil, nil, err
	}
	return svc, fc, nil
}

func (a *app) nasUpload() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "upload METHOD FILE [ARG...]",
		Short:   "Upload FILE into a job of METHOD through /_upload and follow the job to the end",
		Example: `  longrun truenas upload filesystem.put backup.db /mnt/tank/backup.db`,
		Args:    cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			svc, fc, err := a.files(ctx)
			if err != nil {
				return err
			}
			defer svc.Close()
			f, err := upload.FromPath(args[1])
			if err != nil {
				return usagef(err.Error())
			}
			res, err := fc.Upload(ctx, args[0], jsonArgs(args[2:]), f)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "uploaded %d bytes through job %s\n", res.Bytes, res.JobID)
			return nil
		},
	}
	return cmd
}

func (a *app) nasDownload() *cobra.Command {
	var name string
	cmd := &cobra.Command{
		Use:     "download METHOD OUT [ARG...]",
		Short:   "Run METHOD through core.download and save its output to OUT (- for stdout); never leaves a short file",
		Example: `  longrun truenas download config.save truenas.db '{}'`,
		Args:    cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			svc, fc, err := a.files(ctx)
			if err != nil {
				return err
			}
			defer svc.Close()
			if name == "" {
				name = "download"
			}
			params := jsonArgs(args[2:])
			if args[1] == "-" {
				_, err := fc.Download(ctx, args[0], params, name, a.stdout)
				return err
			}
			res, err := fc.DownloadFile(ctx, args[0], params, name, args[1])
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stderr, "saved %d bytes to %s (job %s)\n", res.Bytes, args[1], res.JobID)
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "filename", "", "the file name the middleware announces (default: download)")
	return cmd
}

// Discover streams the ids of jobs core.get_jobs events report, so watch
// sees a new job the moment the middleware adds it.
func (s *nasService) Discover(ctx context.Context) (<-chan string, error) {
	sub, err := s.conn.Subscribe(ctx, "core.get_jobs")
	if err != nil {
		return nil, err
	}
	out := make(chan string)
	go func() {
		defer close(out)
		defer sub.Close(context.WithoutCancel(ctx))
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-sub.C():
				if !ok {
					return
				}
				if ev.Msg != "added" || len(ev.ID) == 0 {
					continue
				}
				select {
				case out <- strings.Trim(string(ev.ID), `"`):
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out, nil
}
