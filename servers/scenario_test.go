package servers_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/longrun/longrun/cloudsigma"
	"github.com/longrun/longrun/drives"
	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/jobs"
	"github.com/longrun/longrun/servers"
	"github.com/longrun/longrun/testutil/cstest"
)

// TestWaitSurvivesWebsocketDrop: the async websocket drops in the middle
// of a server clone; the wait reconciles with a fetch, reconnects with a
// fresh cookie and still returns the final tree.
func TestWaitSurvivesWebsocketDrop(t *testing.T) {
	ctx := context.Background()
	srv := fake.NewServer(t, fake.Options{})
	id, err := srv.CloudSigma().AddServerWithDisks("admin@example.com", "wide", 5, 4<<30)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := cstest.Client(t, srv)
	svc := servers.New(c)
	var once sync.Once
	dropped := false
	_, job, err := svc.CloneAndWait(ctx, id, nil, nil, jobs.WithClock(srv.Clock()), jobs.WithOnProgress(func(j *jobs.Job) {
		if p := j.Aggregate(); p.Percent > 0 && p.Percent < 100 {
			once.Do(func() {
				if srv.CloudSigma().Websockets() == 0 {
					t.Error("no websocket open mid-clone: the wait is not push-first")
				}
				srv.CloudSigma().DropWebsockets()
				dropped = true
			})
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	if !dropped {
		t.Fatal("the wait saw no progress between 0 and 100")
	}
	if !job.TreeDone() || len(job.Children) != 5 {
		t.Fatalf("final tree: %+v", job)
	}
	for _, ch := range job.Children {
		if ch.State != jobs.StateSucceeded {
			t.Errorf("child %s %s", ch.ID, ch.State)
		}
	}
	// Whether the wait reconnected before the clone ended depends on when
	// the client's reader sees the drop: the fake's clock runs ahead as
	// soon as the wait sleeps. cloudsigma's TestPushAgainstTheDocumentedProtocol
	// checks the reconnect with a fresh cookie step by step.
	t.Logf("websocket opened %d times", c.Connects())
}

// TestScenarioServerLifecycle: create a server with two disks and a nic,
// start it, see its drives mounted, stop it, clone it and wait with push,
// delete both with their disks: nothing is left.
func TestScenarioServerLifecycle(t *testing.T) {
	ctx := context.Background()
	srv := fake.NewServer(t, fake.Options{})
	c, cnt := cstest.Client(t, srv)
	ds, ss := drives.New(c), servers.New(c)
	var attached []*servers.ServerDrive
	for i, name := range []string{"scn-boot", "scn-data"} {
		d, err := ds.Create(ctx, &drives.CreateRequest{Name: name, Size: 2 << 30, Media: drives.MediaDisk})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ds.WaitStatus(ctx, d.UUID, drives.StatusUnmounted); err != nil {
			t.Fatal(err)
		}
		boot := i + 1
		attached = append(attached, &servers.ServerDrive{BootOrder: &boot, DevChannel: "0:" + string(rune('0'+i)), Device: "virtio", Drive: cloudsigma.RefTo(d.UUID)})
	}
	s, err := ss.Create(ctx, &servers.CreateRequest{Name: "scn", CPU: 1000, Mem: 1 << 30, VNCPassword: "vncpass1",
		Drives: attached, NICs: []*servers.NIC{{IPv4Conf: &servers.IPConf{Conf: "dhcp"}, Model: "virtio"}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Drives) != 2 || len(s.NICs) != 1 || s.Status != servers.StatusStopped {
		t.Fatalf("created %+v", s)
	}
	if r, err := ss.Start(ctx, s.UUID); err != nil || r.Action != "start" || r.Result != "success" {
		t.Fatalf("start: %+v %v", r, err)
	}
	if _, err := ss.WaitStatus(ctx, s.UUID, servers.StatusRunning); err != nil {
		t.Fatal(err)
	}
	for _, a := range attached {
		if d, err := ds.Get(ctx, a.Drive.UUID); err != nil || d.Status != drives.StatusMounted {
			t.Fatalf("drive of a running server: %v %v", d, err)
		}
	}
	if r, err := ss.OpenVNC(ctx, s.UUID); err != nil || r.VNCURL == "" {
		t.Errorf("open_vnc: %+v %v", r, err)
	}
	if _, err := ss.CloseVNC(ctx, s.UUID); err != nil {
		t.Error(err)
	}
	if _, err := ss.Stop(ctx, s.UUID); err != nil {
		t.Fatal(err)
	}
	if _, err := ss.WaitStatus(ctx, s.UUID, servers.StatusStopped); err != nil {
		t.Fatal(err)
	}
	before := cnt.N.Load()
	clone, job, err := ss.CloneAndWait(ctx, s.UUID, &servers.CloneRequest{Name: "scn-clone"}, nil, jobs.WithClock(srv.Clock()))
	if err != nil {
		t.Fatal(err)
	}
	if !job.TreeDone() || len(job.Children) != 2 || len(clone.Drives) != 2 {
		t.Fatalf("clone %+v job %+v", clone, job)
	}
	t.Logf("clone and push wait: %d HTTP requests", cnt.N.Load()-before)
	for _, id := range []string{s.UUID, clone.UUID} {
		if err := ss.Delete(ctx, id, &servers.DeleteOptions{Recurse: "disks"}); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"scn"} {
		p, err := ss.List(ctx, &servers.ListOptions{Filters: map[string][]string{"name__contains": {name}}})
		if err != nil || len(p.Items) != 0 {
			t.Errorf("servers left: %+v %v", p, err)
		}
		pd, err := ds.List(ctx, &drives.ListOptions{Filters: map[string][]string{"name__contains": {name}}})
		if err != nil || len(pd.Items) != 0 {
			t.Errorf("drives left: %+v %v", pd, err)
		}
	}
}

// TestActionsRefusedAndWaitTimeout: CloudSigma's refusals come back as
// *cloudsigma.Errors; a status wait that cannot end returns a
// *jobs.TimeoutError when its ctx does.
func TestActionsRefusedAndWaitTimeout(t *testing.T) {
	ctx := context.Background()
	srv := fake.NewServer(t, fake.Options{})
	c, _ := cstest.Client(t, srv)
	ds, ss := drives.New(c), servers.New(c)
	d, err := ds.Create(ctx, &drives.CreateRequest{Name: "rt-disk", Size: 1 << 30, Media: drives.MediaDisk})
	if err != nil {
		t.Fatal(err)
	}
	if d, err = ds.WaitStatus(ctx, d.UUID, drives.StatusUnmounted); err != nil {
		t.Fatal(err)
	}
	boot := 1
	s, err := ss.Create(ctx, &servers.CreateRequest{Name: "rt", CPU: 1000, Mem: 1 << 30, VNCPassword: "vncpass1",
		Drives: []*servers.ServerDrive{{BootOrder: &boot, DevChannel: "0:0", Device: "virtio", Drive: cloudsigma.RefTo(d.UUID)}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ss.Start(ctx, s.UUID); err != nil {
		t.Fatal(err)
	}
	if _, err := ss.WaitStatus(ctx, s.UUID, servers.StatusRunning); err != nil {
		t.Fatal(err)
	}
	d, _ = ds.Get(ctx, d.UUID)
	_, err = ds.Resize(ctx, d, 2<<30)
	var ce *cloudsigma.Errors
	if !errors.As(err, &ce) || ce.API.StatusCode != 403 || ce.Type() != cloudsigma.TypePermission {
		t.Errorf("resize of a running server's drive: %v", err)
	}
	if err := ds.Delete(ctx, d.UUID); !errors.As(err, &ce) || ce.API.StatusCode != 403 {
		t.Errorf("delete of a mounted drive: %v", err)
	}
	if r, err := ss.Shutdown(ctx, s.UUID); err != nil || r.Action != "shutdown" {
		t.Fatalf("shutdown: %+v %v", r, err)
	}
	if _, err := ss.WaitStatus(ctx, s.UUID, servers.StatusStopped); err != nil {
		t.Fatal(err)
	}
	if _, err := ss.Get(ctx, "00000000-0000-4000-8000-000000000000"); !errors.Is(err, jobs.ErrNotFound) {
		t.Errorf("unknown server: %v", err)
	}
	wctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = ss.WaitStatus(wctx, s.UUID, "paused")
	var te *jobs.TimeoutError
	if !errors.As(err, &te) || !errors.Is(err, context.Canceled) {
		t.Errorf("wait past its ctx: %v", err)
	}
}
