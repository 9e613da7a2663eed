package servers_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/longrun/longrun/cloudsigma"
	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/fake/sim"
	"github.com/longrun/longrun/jobs"
	"github.com/longrun/longrun/rest"
	"github.com/longrun/longrun/servers"
	"github.com/longrun/longrun/testutil/cstest"
)

func TestCloneAndWait(t *testing.T) {
	ctx := context.Background()
	srv := fake.NewServer(t, fake.Options{})
	c, _ := cstest.Client(t, srv)
	svc := servers.New(c)
	src := cstest.Named(t, ctx, svc.Resource, "web-1")
	var snaps []*jobs.Job
	clone, job, err := svc.CloneAndWait(ctx, src.UUID, &servers.CloneRequest{Name: "web-2", RandomVNCPassword: true}, nil,
		jobs.WithClock(srv.Clock()), jobs.WithOnProgress(func(j *jobs.Job) { snaps = append(snaps, j) }))
	if err != nil {
		t.Fatal(err)
	}
	if clone.Name != "web-2" || clone.Status != "stopped" || clone.VNCPassword == src.VNCPassword || clone.UUID == src.UUID {
		t.Errorf("clone = %+v", clone)
	}
	if len(job.Children) != 3 || !job.TreeDone() || job.Operation != "server_clone" || job.State != jobs.StateSucceeded {
		t.Fatalf("job = %+v", job)
	}
	if len(snaps) < 3 || snaps[0].Aggregate().Percent >= 100 {
		t.Errorf("%d snapshots, first at %v%%", len(snaps), snaps[0].Aggregate().Percent)
	}
	// Disks are cloned, the cdrom is attached as it is, IPs become DHCP.
	if len(clone.Drives) != 4 {
		t.Fatalf("clone has %d drives", len(clone.Drives))
	}
	for i, d := range clone.Drives {
		same := d.Drive.UUID == src.Drives[i].Drive.UUID
		if cdrom := d.Device == "ide"; same != cdrom {
			t.Errorf("drive %d (%s): same uuid %v", i, d.Device, same)
		}
	}
	if clone.NICs[0].IPv4Conf.Conf != "dhcp" || src.NICs[0].IPv4Conf.Conf != "static" {
		t.Errorf("nics %+v / %+v", clone.NICs[0].IPv4Conf, src.NICs[0].IPv4Conf)
	}
	if clone.Jobs[0].UUID != job.ID {
		t.Errorf("server jobs %+v", clone.Jobs)
	}
}

func TestCloneHundredDisks(t *testing.T) {
	ctx := context.Background()
	srv := fake.NewServer(t, fake.Options{})
	id, err := srv.CloudSigma().AddServerWithDisks("admin@example.com", "wide", 100, 4<<30)
	if err != nil {
		t.Fatal(err)
	}
	c, cnt := cstest.Client(t, srv)
	svc := servers.New(c)
	rounds := 0
	src := &countingSource{Source: svc.Client().Jobs, n: &rounds}
	clone, err := svc.Clone(ctx, id, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	cnt.N.Store(0)
	job, err := jobs.Wait(ctx, src, clone.Jobs[0].UUID, jobs.WithClock(srv.Clock()))
	if err != nil {
		t.Fatal(err)
	}
	if len(job.Children) != 100 || !job.TreeDone() {
		t.Fatalf("%d children, done %v", len(job.Children), job.TreeDone())
	}
	if reqs := cnt.N.Load(); reqs != int64(rounds) {
		t.Errorf("%d requests for %d poll rounds", reqs, rounds)
	}
	if clone.Name != "wide" || clone.Status != "stopped" {
		t.Errorf("clone %+v", clone)
	}
}

type countingSource struct {
	jobs.Source
	n *int
}

func (c *countingSource) Fetch(ctx context.Context, ids ...string) ([]*jobs.Job, error) {
	*c.n++
	return c.Source.Fetch(ctx, ids...)
}

func TestFailureMidTree(t *testing.T) {
	ctx := context.Background()
	srv := fake.NewServer(t, fake.Options{})
	c, _ := cstest.Client(t, srv)
	svc := servers.New(c)
	src := cstest.Named(t, ctx, svc.Resource, "web-1")
	clone, err := svc.Clone(ctx, src.UUID, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	root, _ := srv.CloudSigma().Job(clone.Jobs[0].UUID)
	victim := root.Children[1]
	failAt := 0
	_, err = jobs.Wait(ctx, svc.Client().Jobs, root.UUID, jobs.WithClock(srv.Clock()), jobs.WithOnProgress(func(j *jobs.Job) {
		failAt++
		if failAt == 2 {
			if err := srv.CloudSigma().FailJob(victim, "failed", "storage host unreachable"); err != nil {
				t.Error(err)
			}
		}
	}))
	var fe *jobs.FailedError
	if !errors.As(err, &fe) || !errors.Is(err, jobs.ErrJobFailed) {
		t.Fatalf("got %v", err)
	}
	if fe.Node.ID != victim || fe.Job.ID != root.UUID || fe.Node.Message != "storage host unreachable" || fe.Node.RawState != "failed" {
		t.Errorf("failed node %+v", fe.Node)
	}
	if fe.Job.TreeDone() {
		t.Error("a failed tree reported done")
	}
}

func TestCancelAndDeadline(t *testing.T) {
	clk := sim.NewClock(sim.Epoch) // manual: nothing moves unless advanced
	srv := fake.NewServer(t, fake.Options{Clock: clk})
	c, _ := cstest.Client(t, srv)
	svc := servers.New(c)
	src := cstest.Named(t, context.Background(), svc.Resource, "web-1")

	t.Run("cancel", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		_, job, err := svc.CloneAndWait(ctx, src.UUID, nil, nil, jobs.WithClock(clk),
			jobs.WithOnProgress(func(*jobs.Job) { cancel() }))
		var te *jobs.TimeoutError
		if !errors.As(err, &te) || !errors.Is(err, context.Canceled) || te.Last == nil || len(te.Last.Children) != 3 {
			t.Fatalf("got %v", err)
		}
		if job != te.Last {
			t.Error("CloneAndWait did not return the last tree")
		}
	})
	t.Run("deadline", func(t *testing.T) {
		clone, err := svc.Clone(context.Background(), src.UUID, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		// The manual clock never moves, so only the deadline can end the
		// wait; it must come back with the tree it saw.
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err = jobs.Wait(ctx, svc.Client().Jobs, clone.Jobs[0].UUID, jobs.WithClock(clk))
		var te *jobs.TimeoutError
		if !errors.As(err, &te) || !errors.Is(err, context.DeadlineExceeded) || te.Last == nil || te.Last.Operation != "server_clone" {
			t.Fatalf("got %v", err)
		}
		if len(te.Last.Children) != 3 || te.Last.TreeDone() {
			t.Errorf("last tree %+v", te.Last)
		}
	})
}

const unavailable = `[{"error_point": null, "error_type": "backend", "error_message": "Service temporarily unavailable"}]`

func TestServiceUnavailableBurst(t *testing.T) {
	ctx := context.Background()
	t.Run("rest retries", func(t *testing.T) {
		srv := fake.NewServer(t, fake.Options{})
		c, cnt := cstest.Client(t, srv)
		svc := servers.New(c)
		src := cstest.Named(t, ctx, svc.Resource, "web-1")
		srv.Faults().Add(sim.Fault{Method: "GET", PathPrefix: "/api/2.0/jobs/", Status: 503, Body: unavailable,
			Header: http.Header{"Retry-After": {"0"}}, Times: 3})
		cnt.N.Store(0)
		_, job, err := svc.CloneAndWait(ctx, src.UUID, nil, nil, jobs.WithClock(srv.Clock()))
		if err != nil || !job.TreeDone() {
			t.Fatalf("%v", err)
		}
		if cnt.N.Load() < 5 {
			t.Errorf("only %d requests: the burst was not hit", cnt.N.Load())
		}
	})
	t.Run("wait backs off on the fake clock", func(t *testing.T) {
		srv := fake.NewServer(t, fake.Options{})
		// Polling only: with push the wait would not need the jobs route.
		c, _ := cstest.Client(t, srv, cloudsigma.WithRESTOptions(rest.WithRetry(0, 0, 0)), cloudsigma.WithoutPush())
		svc := servers.New(c)
		src := cstest.Named(t, ctx, svc.Resource, "web-1")
		srv.Faults().Add(sim.Fault{Method: "GET", PathPrefix: "/api/2.0/jobs/", Status: 503, Body: unavailable,
			Header: http.Header{"Retry-After": {"3600"}}, Times: 4})
		before := srv.Clock().Now()
		_, job, err := svc.CloneAndWait(ctx, src.UUID, nil, nil, jobs.WithClock(srv.Clock()), jobs.WithInterval(time.Second, 5*time.Second))
		if err != nil || !job.TreeDone() {
			t.Fatalf("%v", err)
		}
		if waited := srv.Clock().Since(before); waited < 4*time.Hour { // the clone itself takes 20 minutes
			t.Errorf("Retry-After not honoured: %v of fake time", waited)
		}
	})
	t.Run("latency on the jobs route", func(t *testing.T) {
		srv := fake.NewServer(t, fake.Options{})
		// Polling only: jobs.Wait takes pushes while a poll is in flight,
		// so with push the frames would report the clone meanwhile.
		c, _ := cstest.Client(t, srv, cloudsigma.WithoutPush())
		svc := servers.New(c)
		src := cstest.Named(t, ctx, svc.Resource, "web-1")
		// The first job poll answers 30 fake minutes late: by then the
		// 20-minute clone is over, so the first snapshot is the last.
		srv.Faults().Add(sim.Fault{Method: "GET", PathPrefix: "/api/2.0/jobs/", Latency: 30 * time.Minute, Times: 1})
		var snaps []*jobs.Job
		_, job, err := svc.CloneAndWait(ctx, src.UUID, nil, nil, jobs.WithClock(srv.Clock()),
			jobs.WithOnProgress(func(j *jobs.Job) { snaps = append(snaps, j) }))
		if err != nil || !job.TreeDone() {
			t.Fatalf("%v", err)
		}
		if len(snaps) != 1 || !snaps[0].TreeDone() {
			t.Errorf("%d snapshots; latency not applied", len(snaps))
		}
	})
	t.Run("a burst longer than the retries is a typed error", func(t *testing.T) {
		srv := fake.NewServer(t, fake.Options{})
		c, _ := cstest.Client(t, srv, cloudsigma.WithRESTOptions(rest.WithRetry(1, 0, time.Millisecond)))
		srv.Faults().Add(sim.Fault{Method: "GET", PathPrefix: "/api/2.0/servers/", Status: 503, Body: unavailable})
		_, err := servers.New(c).List(ctx, nil)
		var ae *rest.APIError
		if !errors.As(err, &ae) || ae.StatusCode != 503 || ae.Type != "backend" || !ae.Temporary() {
			t.Fatalf("got %v", err)
		}
	})
}

func TestServerCRUD(t *testing.T) {
	ctx := context.Background()
	srv := fake.NewServer(t, fake.Options{})
	c, _ := cstest.Client(t, srv)
	svc := servers.New(c)
	s, err := svc.Create(ctx, &servers.CreateRequest{Name: "testServerAcc", CPU: 1000, Mem: 512 << 20, VNCPassword: "testserver"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Status != "stopped" || s.UUID == "" || s.Hypervisor != "kvm" {
		t.Errorf("created %+v", s)
	}
	s.Name = "renamed"
	s.CPU = 2000
	u, err := svc.Update(ctx, s.UUID, s)
	if err != nil || u.Name != "renamed" || u.CPU != 2000 {
		t.Fatalf("update: %v %+v", err, u)
	}
	l, err := svc.List(ctx, &servers.ListOptions{Filters: map[string][]string{"name": {"renamed", "web-1"}}})
	if err != nil || l.Total != 2 {
		t.Fatalf("list: %v %+v", err, l)
	}
	if o := l.Items[0]; o.Name == "" || o.CPU != 0 || o.Drives != nil {
		t.Errorf("/servers/ is not trimmed: %+v", o)
	}
	if err := svc.Delete(ctx, s.UUID, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Get(ctx, s.UUID); !errors.Is(err, rest.ErrNotFound) {
		t.Errorf("after delete: %v", err)
	}
	_, err = svc.Create(ctx, &servers.CreateRequest{Name: "x"})
	errs := cloudsigma.ErrorsOf(err)
	if len(errs) != 1 || errs[0].Type != "validation" || errs[0].Point == nil || *errs[0].Point != "cpu" {
		t.Errorf("validation: %v %+v", err, errs)
	}
}

// dumps/response_server_clone
const docServerClone = `{
    "context": true,
    "cpu": 1000,
    "cpu_model": null,
    "cpu_type": "amd",
    "cpus_instead_of_cores": false,
    "drives": [],
    "enable_numa": false,
    "grantees": [],
    "hv_relaxed": false,
    "hv_tsc": false,
    "hypervisor": "kvm",
    "jobs": [
        {
            "resource_uri": "/api/2.0/jobs/559a2a76-df4a-4c0d-8449-979576b2c354/",
            "uuid": "559a2a76-df4a-4c0d-8449-979576b2c354"
        }
    ],
    "mem": 536870912,
    "meta": {},
    "name": "test_cloned_server_name",
    "nics": [],
    "owner": {
        "resource_uri": "/api/2.0/user/c2fc9982-cf2e-434a-bf63-e22a27b39f00/",
        "uuid": "c2fc9982-cf2e-434a-bf63-e22a27b39f00"
    },
    "permissions": [],
    "pubkeys": [],
    "requirements": [],
    "resource_uri": "/api/2.0/servers/2d69b07c-c7a3-4e25-88d2-c7055217e1fb/",
    "runtime": null,
    "smp": 1,
    "status": "stopped",
    "tags": [],
    "uuid": "2d69b07c-c7a3-4e25-88d2-c7055217e1fb",
    "vnc_password": "QR5coR4V"
}`

// The drives member of dumps/response_server_attach_drive, plus a NIC
// shaped like the NIC examples, plus a member longrun does not model.
const docServerWithDrive = `{
    "drives": [
        {
            "boot_order": 1,
            "dev_channel": "0:0",
            "device": "virtio",
            "drive": {
                "resource_uri": "/api/2.0/drives/756f5728-2123-4381-bc7c-f73dc2a3f55f/",
                "uuid": "756f5728-2123-4381-bc7c-f73dc2a3f55f"
            },
            "runtime": null
        }
    ],
    "nics": [
        {
            "boot_order": null,
            "firewall_policy": null,
            "ip_v4_conf": {"conf": "static", "ip": {"resource_uri": "/api/2.0/ips/31.171.246.37/", "uuid": "31.171.246.37"}},
            "ip_v6_conf": null,
            "mac": "22:a7:b4:5b:7c:01",
            "model": "virtio",
            "runtime": null,
            "vlan": null
        }
    ],
    "auto_start": false,
    "uuid": "0dacaaf7-1ba8-451d-b135-8848e76381ee"
}`

// The request body of dumps/request_server_attach_drive: drive as a uuid.
const docAttachRequest = `{
    "cpu": 2000,
    "drives": [
        {
            "boot_order": 1,
            "dev_channel": "0:0",
            "device": "virtio",
            "drive": "756f5728-2123-4381-bc7c-f73dc2a3f55f"
        }
    ],
    "mem": 536870912,
    "name": "test_server_updated",
    "vnc_password": "updated_password"
}`

// dumps/response_server_list (the meta and two of its five trimmed objects).
const docServerList = `{
    "meta": {
        "limit": 0,
        "offset": 0,
        "total_count": 5
    },
    "objects": [
        {
            "name": "test_server_3",
            "owner": {
                "resource_uri": "/api/2.0/user/5b4a69a3-8e78-4c45-a8ba-8b13f0895e23/",
                "uuid": "5b4a69a3-8e78-4c45-a8ba-8b13f0895e23"
            },
            "resource_uri": "/api/2.0/servers/3ca429cc-b4f4-42a8-aaa8-3a6df700af06/",
            "runtime": null,
            "status": "stopped",
            "uuid": "3ca429cc-b4f4-42a8-aaa8-3a6df700af06"
        },
        {
            "name": "test_server_0",
            "owner": {
                "resource_uri": "/api/2.0/user/5b4a69a3-8e78-4c45-a8ba-8b13f0895e23/",
                "uuid": "5b4a69a3-8e78-4c45-a8ba-8b13f0895e23"
            },
            "resource_uri": "/api/2.0/servers/f50b672f-a963-4b8a-bf05-809b3ffd9a9f/",
            "runtime": null,
            "status": "stopped",
            "uuid": "f50b672f-a963-4b8a-bf05-809b3ffd9a9f"
        }
    ]
}`

func TestWireDocumentedServerList(t *testing.T) {
	var l struct {
		Meta    cloudsigma.Meta   `json:"meta"`
		Objects []*servers.Server `json:"objects"`
	}
	if err := json.Unmarshal([]byte(docServerList), &l); err != nil {
		t.Fatal(err)
	}
	if l.Meta.TotalCount != 5 || len(l.Objects) != 2 || l.Objects[1].Name != "test_server_0" || l.Objects[0].Owner.UUID == "" {
		t.Fatalf("%+v", l)
	}
	out, err := json.Marshal(l)
	if err != nil {
		t.Fatal(err)
	}
	var a, b any
	_ = json.Unmarshal([]byte(docServerList), &a)
	_ = json.Unmarshal(out, &b)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("round trip lost data:\n%s", out)
	}
}

func TestWireDocumentedServers(t *testing.T) {
	for name, doc := range map[string]string{"clone": docServerClone, "with drive": docServerWithDrive, "attach request": docAttachRequest} {
		t.Run(name, func(t *testing.T) {
			var s servers.Server
			if err := json.Unmarshal([]byte(doc), &s); err != nil {
				t.Fatal(err)
			}
			out, err := json.Marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			var a, b any
			_ = json.Unmarshal([]byte(doc), &a)
			_ = json.Unmarshal(out, &b)
			if !reflect.DeepEqual(a, b) {
				t.Errorf("round trip lost data:\n%s\n%s", doc, out)
			}
		})
	}
	var s servers.Server
	_ = json.Unmarshal([]byte(docServerClone), &s)
	if s.Status != "stopped" || s.Jobs[0].UUID != "559a2a76-df4a-4c0d-8449-979576b2c354" || s.CPUModel != nil || s.Mem != 536870912 {
		t.Errorf("%+v", s)
	}
	_ = json.Unmarshal([]byte(docServerWithDrive), &s)
	if s.Drives[0].Drive.UUID != "756f5728-2123-4381-bc7c-f73dc2a3f55f" || string(s.Extra["auto_start"]) != "false" || s.NICs[0].IPv4Conf.IP.UUID != "31.171.246.37" {
		t.Errorf("%+v", s)
	}
}

func FuzzDecodeServer(f *testing.F) {
	f.Add([]byte(docServerClone))
	f.Add([]byte(docServerWithDrive))
	f.Add([]byte(docAttachRequest))
	f.Fuzz(func(t *testing.T, data []byte) {
		cstest.RoundTrip(t, data, func(s, s2 *servers.Server) bool {
			return s2.UUID == s.UUID && s2.Status == s.Status && len(s2.Drives) == len(s.Drives) && len(s2.NICs) == len(s.NICs)
		})
	})
}
