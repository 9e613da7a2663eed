package servers_test

import (
	"context"
	"errors"
	"testing"

	"github.com/longrun/longrun/cloudsigma"
	"github.com/longrun/longrun/drives"
	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/jobs"
	"github.com/longrun/longrun/servers"
)

// Every not-found and every auth failure of the drives and servers
// services matches the shared sentinels of package jobs (issue 9), against
// the fake. One table for both packages: they share their client and
// cloudsigma.Resource.
func TestSharedErrorSentinels(t *testing.T) {
	srv := fake.NewServer(t, fake.Options{})
	ctx := context.Background()
	const unknown = "00000000-0000-4000-8000-000000000000"
	type call func(ds *drives.Service, ss *servers.Service) error
	for _, tc := range []struct {
		name, password string
		call           call
		want           error
	}{
		{"get unknown drive", "secret", func(ds *drives.Service, _ *servers.Service) error { _, err := ds.Get(ctx, unknown); return err }, jobs.ErrNotFound},
		{"delete unknown drive", "secret", func(ds *drives.Service, _ *servers.Service) error { return ds.Delete(ctx, unknown) }, jobs.ErrNotFound},
		{"clone unknown drive", "secret", func(ds *drives.Service, _ *servers.Service) error {
			_, err := ds.Clone(ctx, unknown, nil, nil)
			return err
		}, jobs.ErrNotFound},
		{"get unknown server", "secret", func(_ *drives.Service, ss *servers.Service) error { _, err := ss.Get(ctx, unknown); return err }, jobs.ErrNotFound},
		{"start unknown server", "secret", func(_ *drives.Service, ss *servers.Service) error { _, err := ss.Start(ctx, unknown); return err }, jobs.ErrNotFound},
		{"delete unknown server", "secret", func(_ *drives.Service, ss *servers.Service) error { return ss.Delete(ctx, unknown, nil) }, jobs.ErrNotFound},
		{"list drives, wrong password", "wrong-pass", func(ds *drives.Service, _ *servers.Service) error { _, err := ds.List(ctx, nil); return err }, jobs.ErrUnauthorized},
		{"get drive, wrong password", "wrong-pass", func(ds *drives.Service, _ *servers.Service) error { _, err := ds.Get(ctx, unknown); return err }, jobs.ErrUnauthorized},
		{"list servers, wrong password", "wrong-pass", func(_ *drives.Service, ss *servers.Service) error { _, err := ss.List(ctx, nil); return err }, jobs.ErrUnauthorized},
		{"start server, wrong password", "wrong-pass", func(_ *drives.Service, ss *servers.Service) error { _, err := ss.Start(ctx, unknown); return err }, jobs.ErrUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := cloudsigma.New(srv.URL(), "admin@example.com", tc.password, cloudsigma.WithoutPush())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			err = tc.call(drives.New(c), servers.New(c))
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want one matching %v", err, tc.want)
			}
			if errors.Is(err, jobs.ErrNotFound) && errors.Is(err, jobs.ErrUnauthorized) {
				t.Fatalf("err = %v matches both sentinels", err)
			}
		})
	}
}
