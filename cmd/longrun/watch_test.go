package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/fake/sim"
	"github.com/longrun/longrun/rpc"
)

// TestWatchTrueNASSeesNewJobsByPush runs `longrun watch truenas --json` with
// a listing interval of an hour, so a job started after the watch began can
// only be found through the core.get_jobs push stream, and follows it to
// its end.
func TestWatchTrueNASSeesNewJobsByPush(t *testing.T) {
	srv := fake.NewServer(t, fake.Options{Clock: sim.NewScaledClock(60)})
	u := srv.Env().Users()[0]
	t.Setenv("LONGRUN_CONFIG", t.TempDir()+"/none.yaml")
	t.Setenv("TRUENAS_URL", srv.WebsocketURL())
	t.Setenv("TRUENAS_USER", u.Name)
	t.Setenv("TRUENAS_API_KEY", u.APIKey)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// A job running before the watch starts shows in its first listing;
	// once its line is out, the listing is over, and a second job can only
	// be found through the push stream (the next listing is an hour away).
	starter, err := rpc.Dial(ctx, srv.WebsocketURL(), rpc.WithAPIKey(u.Name, u.APIKey), rpc.WithLegacyJobs(true))
	require.NoError(t, err)
	defer starter.Close()
	first, err := starter.CallJob(ctx, "filesystem.copy", "/mnt/tank/a", "/mnt/tank/b")
	require.NoError(t, err)
	pr, pw := io.Pipe()
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, []string{"watch", "truenas", "--json", "--every", "1h", "--interval", "20ms"}, strings.NewReader(""), pw, io.Discard)
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	require.True(t, sc.Scan(), "the first listing")
	require.Contains(t, sc.Text(), `"id":"`+idString(first.ID())+`"`)
	h, err := starter.CallJob(ctx, "filesystem.copy", "/mnt/tank/c", "/mnt/tank/d")
	require.NoError(t, err)
	id := h.ID()

	for sc.Scan() {
		var ev struct {
			ID    string `json:"id"`
			State string `json:"state"`
			Done  bool   `json:"done"`
		}
		require.NoError(t, json.Unmarshal(sc.Bytes(), &ev), sc.Text())
		if ev.ID == idString(id) && ev.Done {
			require.Equal(t, "succeeded", ev.State)
			cancel() // interrupting a watch is its normal end
			break
		}
	}
	go io.Copy(io.Discard, pr) //nolint:errcheck // drain the rest
	require.Equal(t, exitOK, <-code)
}

func idString[T int64 | string](id T) string {
	switch v := any(id).(type) {
	case int64:
		return strconv.FormatInt(v, 10)
	case string:
		return v
	}
	return ""
}
