package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/fake/sim"
	"github.com/longrun/longrun/rpc"
)

// TestWaitThousandTrueNASJobsOneConnection starts 1,000 TrueNAS jobs, then
// runs `longrun wait truenas ID...` on all of them through a proxy that
// counts websocket upgrades: one connection serves every wait.
func TestWaitThousandTrueNASJobsOneConnection(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 jobs: not in -short")
	}
	const n = 1000
	srv := fake.NewServer(t, fake.Options{Clock: sim.NewScaledClock(600)})
	u := srv.Env().Users()[0]

	var upgrades, requests atomic.Int64
	h := srv.Handler()
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			upgrades.Add(1)
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(proxy.Close)

	ctx := context.Background()
	starter, err := rpc.Dial(ctx, srv.WebsocketURL(), rpc.WithAPIKey(u.Name, u.APIKey), rpc.WithLegacyJobs(true))
	require.NoError(t, err)
	defer starter.Close()
	args := []string{"wait", "truenas", "--plain", "--interval", "20ms"}
	for i := range n {
		h, err := starter.CallJob(ctx, "filesystem.copy", "/mnt/tank/src"+strconv.Itoa(i), "/mnt/tank/dst"+strconv.Itoa(i))
		require.NoError(t, err)
		args = append(args, h.ID())
	}

	t.Setenv("LONGRUN_CONFIG", t.TempDir()+"/none.yaml")
	t.Setenv("TRUENAS_URL", "ws"+strings.TrimPrefix(proxy.URL, "http")+"/api/current")
	t.Setenv("TRUENAS_USER", u.Name)
	t.Setenv("TRUENAS_API_KEY", u.APIKey)
	var stdout, stderr bytes.Buffer
	code := run(ctx, args, strings.NewReader(""), &stdout, &stderr)
	require.Equal(t, exitOK, code, "stderr: %s", stderr.String())
	assert.Equal(t, int64(1), upgrades.Load(), "websocket connections for %d waits", n)
	assert.Equal(t, int64(1), requests.Load(), "HTTP requests for %d waits", n)
	assert.Equal(t, n, strings.Count(stdout.String(), "SUCCESS 100%"), "every job's end shown once")
}
