package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/longrun/longrun/jobs"
)

// format is the -o flag of get and list.
type format struct{ o string }

func (f *format) add(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&f.o, "output", "o", "table", "output format: table, json or yaml")
	_ = cmd.RegisterFlagCompletionFunc("output", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{"table", "json", "yaml"}, cobra.ShellCompDirectiveNoFileComp
	})
}

func (f *format) check() error {
	switch f.o {
	case "table", "json", "yaml":
		return nil
	}
	return usagef(fmt.Sprintf("-o %q: want table, json or yaml", f.o))
}

// view is a job as get and list print it: the normalized fields and the
// service's own document.
type view struct {
	ID          string     `json:"id" yaml:"id"`
	Dialect     string     `json:"dialect" yaml:"dialect"`
	Operation   string     `json:"operation,omitempty" yaml:"operation,omitempty"`
	State       jobs.State `json:"state" yaml:"state"`
	RawState    string     `json:"raw_state,omitempty" yaml:"raw_state,omitempty"`
	Percent     float64    `json:"percent" yaml:"percent"`
	Description string     `json:"description,omitempty" yaml:"description,omitempty"`
	Message     string     `json:"message,omitempty" yaml:"message,omitempty"`
	Created     *time.Time `json:"created,omitempty" yaml:"created,omitempty"`
	Children    []*view    `json:"children,omitempty" yaml:"children,omitempty"`
	Raw         any        `json:"raw,omitempty" yaml:"raw,omitempty"`
}

func toView(j *jobs.Job, raw bool) *view {
	if j == nil {
		return nil
	}
	v := &view{ID: j.ID, Dialect: string(j.Dialect), Operation: j.Operation, State: j.State, RawState: j.RawState,
		Percent: j.Aggregate().Percent, Description: j.Progress.Description, Message: j.Message}
	if !j.Created.IsZero() {
		t := j.Created.UTC()
		v.Created = &t
	}
	for _, c := range j.Children {
		v.Children = append(v.Children, toView(c, false))
	}
	if raw && len(j.Raw) > 0 {
		var doc any
		if yaml.Unmarshal(j.Raw, &doc) == nil { // JSON is YAML
			v.Raw = doc
		}
	}
	return v
}

func (a *app) print(f *format, list []*jobs.Job) error {
	switch f.o {
	case "json":
		vs := make([]*view, 0, len(list))
		for _, j := range list {
			vs = append(vs, toView(j, true))
		}
		return printJSON(a, vs)
	case "yaml":
		vs := make([]*view, 0, len(list))
		for _, j := range list {
			vs = append(vs, toView(j, true))
		}
		enc := yaml.NewEncoder(a.stdout)
		defer enc.Close()
		return enc.Encode(vs)
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tOPERATION\tSTATE\tPROGRESS\tDESCRIPTION")
	for _, j := range list {
		for n, err := range jobs.Walk(j) {
			if err != nil {
				break
			}
			p := n.Job.Aggregate()
			fmt.Fprintf(tw, "%s%s\t%s\t%s\t%.0f%%\t%s\n", strings.Repeat("  ", n.Depth), n.Job.ID, n.Job.Operation,
				stateText(n.Job), p.Percent, oneLine(n.Job.Progress.Description))
		}
	}
	return tw.Flush()
}

func stateText(j *jobs.Job) string {
	if j.RawState != "" && j.RawState != string(j.State) {
		return string(j.State) + " (" + j.RawState + ")"
	}
	return string(j.State)
}

// oneLine keeps a server's text to one line without control characters.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

func (a *app) getCommand() *cobra.Command {
	var f format
	cmd := &cobra.Command{
		Use:               "get DIALECT ID...",
		Short:             "Show jobs and their sub-jobs",
		Args:              cobra.MinimumNArgs(2),
		ValidArgsFunction: dialectArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.check(); err != nil {
				return err
			}
			svc, err := a.env.open(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			defer svc.Close()
			got, err := svc.Source().Fetch(cmd.Context(), args[1:]...)
			if err != nil {
				return err
			}
			found := map[string]bool{}
			for _, j := range got {
				if j != nil {
					found[j.ID] = true
				}
			}
			for _, id := range args[1:] {
				if !found[id] {
					_ = a.print(&f, got)
					return &jobs.NotFoundError{ID: id}
				}
			}
			return a.print(&f, got)
		},
	}
	f.add(cmd)
	return cmd
}

func (a *app) listCommand() *cobra.Command {
	var f format
	var all bool
	cmd := &cobra.Command{
		Use:               "list DIALECT",
		Short:             "List the account's running jobs (--all: every recent job)",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: dialectArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.check(); err != nil {
				return err
			}
			svc, err := a.env.open(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			defer svc.Close()
			list, err := svc.List(cmd.Context(), all)
			if err != nil {
				return err
			}
			return a.print(&f, list)
		},
	}
	f.add(cmd)
	cmd.Flags().BoolVar(&all, "all", false, "list finished jobs too")
	return cmd
}

func (a *app) watchCommand() *cobra.Command {
	var out outputFlags
	var every time.Duration
	cmd := &cobra.Command{
		Use:   "watch DIALECT",
		Short: "Follow every running job of the account live, until interrupted",
		Long: `Follow every running job of the account live: new jobs appear as they start
and every job is followed to its end, until interrupted (Ctrl-C). Push-capable
services (TrueNAS) stream changes; the others are listed every --every.`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: dialectArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			svc, err := a.env.open(ctx, args[0])
			if err != nil {
				return err
			}
			defer svc.Close()
			return a.watch(ctx, svc, every, &out)
		},
	}
	out.add(cmd)
	cmd.Flags().DurationVar(&every, "every", 5*time.Second, "how often to look for new jobs")
	return cmd
}

// discoverer is a service that pushes the ids of jobs as they appear
// (TrueNAS core.get_jobs events, CloudSigma's async websocket).
type discoverer interface {
	Discover(ctx context.Context) (<-chan string, error)
}

// watch follows every running job on one shared Watcher until ctx ends:
// the running ones listed at the start and every --every, and, where the
// service pushes, each new one the moment it appears.
func (a *app) watch(ctx context.Context, svc service, every time.Duration, out *outputFlags) error {
	d := out.display(a)
	w := jobs.NewWatcher(svc.Source(), a.env.waitOptions()...)
	defer w.Close()
	following := map[string]bool{}
	follow := func(id string) {
		if following[id] {
			return
		}
		following[id] = true
		go func() {
			final, _ := w.Wait(ctx, id, jobs.WithOnProgress(d.Update))
			if final != nil {
				d.Update(final)
			}
		}()
	}
	var pushed <-chan string
	if disc, ok := svc.(discoverer); ok {
		if ch, err := disc.Discover(ctx); err == nil {
			pushed = ch
		} // else: listing alone still finds every job
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	list := func() error {
		got, err := svc.List(ctx, false)
		if err != nil && ctx.Err() == nil {
			return err
		}
		for _, j := range got {
			d.Update(j)
			follow(j.ID)
		}
		return nil
	}
	if err := list(); err != nil {
		return err
	}
	for {
		select {
		case <-ctx.Done():
			d.Finish(nil, nil)
			return nil // interrupted: the normal end of a watch
		case id, ok := <-pushed:
			if !ok {
				pushed = nil // the stream ended: listing goes on, and the next tick subscribes again
				continue
			}
			follow(id)
		case <-tick.C:
			if disc, ok := svc.(discoverer); ok && pushed == nil {
				if ch, err := disc.Discover(ctx); err == nil {
					pushed = ch
				}
			}
			if err := list(); err != nil {
				return err
			}
		}
	}
}
