package temporal_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"

	"github.com/longrun/longrun/cloudsigma"
	lrtemporal "github.com/longrun/longrun/contrib/temporal"
	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/jobs"
	"github.com/longrun/longrun/servers"
)

// CloneN clones a server three times in parallel and waits for the clones.
// Here it runs against the in-process fake in the Temporal SDK's test
// environment; a real worker registers the same activities and workflow
// (worker.RegisterActivity(acts), worker.RegisterWorkflow(CloneN)).
func ExampleCloneN() {
	srv, err := fake.New(fake.Options{})
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	u := srv.Env().Users()[0]
	c, err := cloudsigma.New(srv.CloudSigmaURL(), u.Email, u.Password)
	if err != nil {
		panic(err)
	}
	defer c.Close()
	page, err := servers.New(c).List(context.Background(), &servers.ListOptions{Filters: map[string][]string{"name": {"web-1"}}})
	if err != nil {
		panic(err)
	}

	// The worker's side: its accounts (credentials stay on the worker).
	acc := lrtemporal.NewCloudSigmaAccount(c)
	acts, err := lrtemporal.NewActivities(
		lrtemporal.WithCloudSigma(func(ctx context.Context, account string) (lrtemporal.CloudSigmaAccount, error) { return acc, nil }),
		lrtemporal.WithJobOptions(jobs.WithClock(srv.Clock())))
	if err != nil {
		panic(err)
	}

	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	env := s.NewTestWorkflowEnvironment()
	env.RegisterActivity(acts)
	env.RegisterWorkflow(lrtemporal.CloneN)
	env.ExecuteWorkflow(lrtemporal.CloneN, lrtemporal.CloneNRequest{
		Account: "main", Source: page.Items[0].UUID, NamePrefix: "web-1-copy", N: 3})
	var res lrtemporal.CloneNResult
	if err := env.GetWorkflowResult(&res); err != nil {
		panic(err)
	}
	for _, s := range res.Servers {
		fmt.Println(s.Name, s.Existed)
	}
	// Output:
	// web-1-copy-1 false
	// web-1-copy-2 false
	// web-1-copy-3 false
}
