package servers_test

import (
	"context"
	"testing"

	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/internal/cstest"
	"github.com/longrun/longrun/jobs"
	"github.com/longrun/longrun/servers"
)

func findServer(t testing.TB, ctx context.Context, svc *servers.Service, name string) *servers.Server {
	t.Helper()
	for s, err := range svc.AllDetail(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no server %q", name)
	return nil
}

func TestCloneAndWait(t *testing.T) {
	ctx := context.Background()
	srv := fake.NewServer(t, fake.Options{})
	c, _ := cstest.Client(t, srv)
	svc := servers.New(c)
	src := findServer(t, ctx, svc, "web-1")
	var snaps int
	clone, job, err := svc.CloneAndWait(ctx, src.UUID, &servers.CloneRequest{Name: "web-2", RandomVNCPassword: true}, nil,
		jobs.WithClock(srv.Clock()), jobs.WithOnProgress(func(*jobs.Job) { snaps++ }))
	if err != nil {
		t.Fatal(err)
	}
	if clone.Name != "web-2" || clone.Status != "stopped" || clone.VNCPassword == src.VNCPassword {
		t.Errorf("clone = %+v", clone)
	}
	if len(job.Children) != 3 || !job.TreeDone() || job.Operation != "server_clone" {
		t.Fatalf("job = %+v", job)
	}
	t.Logf("snapshots %d, children %d", snaps, len(job.Children))
}
