package drives_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/longrun/longrun/cloudsigma"
	"github.com/longrun/longrun/drives"
	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/jobs"
	"github.com/longrun/longrun/rest"
	"github.com/longrun/longrun/testutil/cstest"
)

// dumps/response_drive_clone
const docDriveClone = `{
    "objects": [
        {
            "affinities": [],
            "allow_multimount": false,
            "grantees": [],
            "jobs": [
                {
                    "resource_uri": "/api/2.0/jobs/8b00acbb-889b-44a5-8a8d-dc3617a6145d/",
                    "uuid": "8b00acbb-889b-44a5-8a8d-dc3617a6145d"
                }
            ],
            "licenses": [],
            "media": "cdrom",
            "meta": {},
            "mounted_on": [],
            "name": "test_drive_y",
            "owner": {
                "resource_uri": "/api/2.0/user/c2fc9982-cf2e-434a-bf63-e22a27b39f00/",
                "uuid": "c2fc9982-cf2e-434a-bf63-e22a27b39f00"
            },
            "permissions": [],
            "resource_uri": "/api/2.0/drives/03cb7ca7-ca07-4380-9071-c19260fbec59/",
            "runtime": {
                "is_snapshotable": true,
                "snapshots_allocated_size": 0,
                "storage_type": "dssd"
            },
            "size": 1207975936,
            "snapshots": [],
            "status": "cloning_dst",
            "storage_type": "dssd",
            "tags": [],
            "uuid": "03cb7ca7-ca07-4380-9071-c19260fbec59"
        }
    ]
}`

// dumps/response_drive_create_minimal (runtime.is_snapshotable is null).
const docDriveCreate = `{
    "objects": [
        {
            "affinities": [],
            "allow_multimount": false,
            "grantees": [],
            "jobs": [],
            "licenses": [],
            "media": "disk",
            "meta": {},
            "mounted_on": [],
            "name": "test_drive_1",
            "owner": {
                "resource_uri": "/api/2.0/user/5b4a69a3-8e78-4c45-a8ba-8b13f0895e23/",
                "uuid": "5b4a69a3-8e78-4c45-a8ba-8b13f0895e23"
            },
            "permissions": [],
            "resource_uri": "/api/2.0/drives/5d3bb6d8-ce39-41e8-8742-2ba5af5ef2d0/",
            "runtime": {
                "is_snapshotable": null,
                "snapshots_allocated_size": 0,
                "storage_type": "dssd"
            },
            "size": 1073741824,
            "snapshots": [],
            "status": "creating",
            "storage_type": "dssd",
            "tags": [],
            "uuid": "5d3bb6d8-ce39-41e8-8742-2ba5af5ef2d0"
        }
    ]
}`

// dumps/response_drive_list (the meta and two trimmed objects) and
// dumps/response_drive_list_just_uuid_and_status (fields=uuid,status).
const docDriveList = `{
    "meta": {"limit": 0, "offset": 0, "total_count": 7},
    "objects": [
        {
            "owner": {"resource_uri": "/api/2.0/user/5b4a69a3-8e78-4c45-a8ba-8b13f0895e23/", "uuid": "5b4a69a3-8e78-4c45-a8ba-8b13f0895e23"},
            "resource_uri": "/api/2.0/drives/3d504199-6bac-4612-a19e-691c9c6c6728/",
            "status": "unmounted",
            "uuid": "3d504199-6bac-4612-a19e-691c9c6c6728"
        },
        {"status": "unmounted", "uuid": "b969d04b-b63f-4b67-9a92-c878d9d53232"}
    ]
}`

func sameJSON(t *testing.T, a, b []byte) {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(x, y) {
		t.Errorf("round trip lost data:\n%s\n%s", a, b)
	}
}

func TestWireDocumentedDrives(t *testing.T) {
	for name, doc := range map[string]string{"clone": docDriveClone, "create": docDriveCreate} {
		t.Run(name, func(t *testing.T) {
			var env struct {
				Objects []*drives.Drive `json:"objects"`
			}
			if err := json.Unmarshal([]byte(doc), &env); err != nil {
				t.Fatal(err)
			}
			out, err := json.Marshal(env)
			if err != nil {
				t.Fatal(err)
			}
			sameJSON(t, []byte(doc), out)
		})
	}
	var env struct{ Objects []*drives.Drive }
	_ = json.Unmarshal([]byte(docDriveClone), &env)
	d := env.Objects[0]
	if d.Status != drives.StatusCloningDst || d.Jobs[0].UUID != "8b00acbb-889b-44a5-8a8d-dc3617a6145d" || d.Size != 1207975936 || !*d.Runtime.IsSnapshotable {
		t.Errorf("%+v", d)
	}
	var l struct {
		Meta    cloudsigma.Meta `json:"meta"`
		Objects []*drives.Drive `json:"objects"`
	}
	if err := json.Unmarshal([]byte(docDriveList), &l); err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(l)
	sameJSON(t, []byte(docDriveList), out)
	if l.Meta.TotalCount != 7 || l.Objects[0].Owner.UUID == "" || l.Objects[1].Owner != nil {
		t.Errorf("%+v", l)
	}
}

func TestCloneAndWait(t *testing.T) {
	ctx := context.Background()
	srv := fake.NewServer(t, fake.Options{})
	c, _ := cstest.Client(t, srv)
	svc := drives.New(c)
	src := cstest.Named(t, ctx, svc.Resource, "web-data")
	var seen []float64
	d, job, err := svc.CloneAndWait(ctx, src.UUID, &drives.CloneRequest{Name: "web-data-copy", Size: 30 << 30}, &drives.CloneOptions{Avoid: []string{src.UUID}},
		jobs.WithClock(srv.Clock()), jobs.WithOnProgress(func(j *jobs.Job) {
			seen = append(seen, j.Progress.Percent)
			if st, _ := srv.CloudSigma().DriveStatus(src.UUID); j.Progress.Percent < 100 && st != drives.StatusCloningSrc {
				t.Errorf("source status %s during the clone", st)
			}
		}))
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != drives.StatusUnmounted || d.Name != "web-data-copy" || d.Size != 30<<30 || d.UUID == src.UUID {
		t.Errorf("clone %+v", d)
	}
	if job.Operation != "drive_clone" || job.Progress.Percent != 100 || job.State != jobs.StateSucceeded || len(job.Resources) != 2 {
		t.Errorf("job %+v", job)
	}
	if len(seen) < 3 || seen[0] >= 100 {
		t.Errorf("progress snapshots %v", seen)
	}
	// web-data is attached to the seeded server web-1: back to mounted.
	after, _ := svc.Get(ctx, src.UUID)
	if after.Status != drives.StatusMounted || len(after.Jobs) != 1 {
		t.Errorf("source after clone %+v", after)
	}
	// Smaller than the source is refused with CloudSigma's validation error.
	_, err = svc.Clone(ctx, src.UUID, &drives.CloneRequest{Size: 1 << 30}, nil)
	var ae *rest.APIError
	if !errors.As(err, &ae) || ae.StatusCode != 400 || ae.Type != "validation" {
		t.Errorf("small clone: %v", err)
	}
}

func TestCloneStatusAndJobRef(t *testing.T) {
	ctx := context.Background()
	srv := fake.NewServer(t, fake.Options{})
	c, _ := cstest.Client(t, srv)
	svc := drives.New(c)
	src := cstest.Named(t, ctx, svc.Resource, "scratch")
	d, err := svc.Clone(ctx, src.UUID, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != drives.StatusCloningDst || len(d.Jobs) != 1 || d.Name != src.Name || d.Jobs[0].ResourceURI != "/api/2.0/jobs/"+d.Jobs[0].UUID+"/" {
		t.Fatalf("clone %+v", d)
	}
	if _, err := svc.Client().Jobs.Get(ctx, d.Jobs[0].UUID); err != nil {
		t.Fatal(err)
	}
	// A drive being cloned cannot be deleted.
	if err := svc.Delete(ctx, src.UUID); !errors.Is(err, rest.ErrForbidden) {
		t.Errorf("delete during clone: %v", err)
	}
	srv.Clock().Advance(2 * time.Minute) // scratch is 2 GiB: two fake minutes
	got, _ := svc.Get(ctx, d.UUID)
	if got.Status != drives.StatusUnmounted {
		t.Errorf("status after the clone %s", got.Status)
	}
}

func TestDriveCRUD(t *testing.T) {
	ctx := context.Background()
	srv := fake.NewServer(t, fake.Options{})
	c, _ := cstest.Client(t, srv)
	svc := drives.New(c)
	d, err := svc.Create(ctx, &drives.CreateRequest{Name: "test_drive_1", Size: 1 << 30, Media: drives.MediaDisk})
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != drives.StatusCreating || d.StorageType != "dssd" {
		t.Errorf("created %+v", d)
	}
	d.Name = "test_drive_y"
	d.Media = drives.MediaCDROM
	u, err := svc.Update(ctx, d.UUID, d)
	if err != nil || u.Name != "test_drive_y" || u.Media != drives.MediaCDROM {
		t.Fatalf("update %v %+v", err, u)
	}
	l, err := svc.List(ctx, &drives.ListOptions{NoLimit: true})
	if err != nil || l.Total != 6 || l.Limit != 0 || len(l.Items) != 6 {
		t.Fatalf("list %v %+v", err, l)
	}
	if o := l.Items[0]; o.Name != "" || o.Owner == nil || o.Status == "" {
		t.Errorf("/drives/ is not trimmed: %+v", o)
	}
	page, err := svc.List(ctx, &drives.ListOptions{Detail: true, Limit: 2, Fields: []string{"uuid", "status"}})
	if err != nil || len(page.Items) != 2 || page.Limit != 2 || page.Items[0].Size != 0 {
		t.Fatalf("detail %v %+v", err, page)
	}
	if err := svc.Delete(ctx, d.UUID); !errors.Is(err, rest.ErrForbidden) {
		t.Errorf("delete while creating: %v", err)
	}
	srv.Clock().Advance(time.Minute)
	if err := svc.Delete(ctx, d.UUID); err != nil {
		t.Fatal(err)
	}
	_, err = svc.Get(ctx, d.UUID)
	errs := cloudsigma.ErrorsOf(err)
	if !errors.Is(err, rest.ErrNotFound) || len(errs) != 1 || errs[0].Type != "notexist" {
		t.Errorf("after delete: %v", err)
	}
	_, err = svc.Create(ctx, &drives.CreateRequest{Name: "x", Size: 1, Media: "tape"})
	if errs := cloudsigma.ErrorsOf(err); len(errs) != 1 || *errs[0].Point != "media" {
		t.Errorf("bad media: %v", err)
	}
}

func FuzzDecodeDrive(f *testing.F) {
	f.Add([]byte(docDriveClone))
	f.Add([]byte(docDriveCreate))
	f.Add([]byte(docDriveList))
	f.Add([]byte(`{"drive":"x","jobs":["a",{"uuid":"b"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		cstest.RoundTrip(t, data, func(d, d2 *drives.Drive) bool {
			return d2.UUID == d.UUID && d2.Status == d.Status && d2.Size == d.Size && len(d2.Jobs) == len(d.Jobs)
		})
	})
}
