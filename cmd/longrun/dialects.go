package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/longrun/longrun/jobs"
)

// dialects are the services longrun speaks, by the name used on the
// command line.
var dialects = []string{"cloudsigma", "truenas", "freezer", "ftrack"}

// service is what the generic commands (wait, watch, get, list) need of a
// dialect: a Source to wait on, a listing of its jobs, and a Close.
type service interface {
	// Source is the dialect's jobs.Source (a jobs.Pusher where the
	// service pushes).
	Source() jobs.Source
	// List lists the account's jobs: running ones, or every recent one
	// with all set.
	List(ctx context.Context, all bool) ([]*jobs.Job, error)
	// Close releases connections.
	Close() error
}

// env is what a command runs with: the profile and the global options.
type env struct {
	profile  *Profile
	interval time.Duration // smallest poll interval
}

// open connects to a dialect's service.
func (e *env) open(ctx context.Context, dialect string) (service, error) {
	switch strings.ToLower(dialect) {
	case "cloudsigma":
		return openCloudSigma(ctx, e.profile.CloudSigma)
	case "truenas":
		return openTrueNAS(ctx, e.profile.TrueNAS)
	case "freezer":
		return openFreezer(ctx, e.profile.Freezer)
	case "ftrack":
		return openFtrack(ctx, e.profile.Ftrack)
	}
	return nil, usagef(fmt.Sprintf("unknown dialect %q (want one of %s)", dialect, strings.Join(dialects, ", ")))
}

// waitOptions are the jobs options every wait of the command uses.
func (e *env) waitOptions() []jobs.Option {
	if e.interval <= 0 {
		return nil
	}
	return []jobs.Option{jobs.WithInterval(e.interval, e.interval*10)}
}

func need(dialect string, pairs ...string) error {
	var missing []string
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			missing = append(missing, pairs[i])
		}
	}
	if len(missing) == 0 {
		return nil
	}
	sort.Strings(missing)
	return usagef(fmt.Sprintf("%s: missing %s (set the environment variables, or a profile in %s)", dialect, strings.Join(missing, ", "), configPath()))
}
