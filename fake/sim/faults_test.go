package sim_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/longrun/longrun/fake/sim"
)

func serve(t *testing.T, f *sim.Faults, clk *sim.Clock) string {
	t.Helper()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "10000")
		_, _ = w.Write([]byte(strings.Repeat("a", 10000)))
	})
	srv := httptest.NewServer(f.Middleware(clk, h))
	t.Cleanup(srv.Close)
	return srv.URL
}

func get(t *testing.T, url string) (*http.Response, []byte, error) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

func TestStatusFaultAppliesTimesThenGoes(t *testing.T) {
	f := &sim.Faults{}
	u := serve(t, f, nil)
	f.Add(sim.Fault{Method: "GET", PathPrefix: "/api/2.0/jobs/", Times: 2, Status: 503,
		Body: `[{"error_type":"backend"}]`, Header: http.Header{"Retry-After": {"1"}}})
	for range 2 {
		resp, body, err := get(t, u+"/api/2.0/jobs/x/")
		require.NoError(t, err)
		assert.Equal(t, 503, resp.StatusCode)
		assert.Equal(t, "1", resp.Header.Get("Retry-After"))
		assert.Equal(t, `[{"error_type":"backend"}]`, string(body))
	}
	resp, body, err := get(t, u+"/api/2.0/jobs/x/")
	require.NoError(t, err)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Len(t, body, 10000)
	// Other paths were never affected.
	f.Add(sim.Fault{PathPrefix: "/v1/", Status: 500})
	resp, _, err = get(t, u+"/api/2.0/drives/")
	require.NoError(t, err)
	assert.Equal(t, 200, resp.StatusCode)
}

func TestDropAndTruncateFaults(t *testing.T) {
	f := &sim.Faults{}
	u := serve(t, f, nil)
	f.Add(sim.Fault{Drop: true, Times: 1})
	_, _, err := get(t, u+"/x")
	require.Error(t, err)

	f.Add(sim.Fault{TruncateAfter: 100, Times: 1})
	_, body, err := get(t, u+"/x")
	require.Error(t, err, "a cut body is an error, not a short file")
	assert.LessOrEqual(t, len(body), 100)
}

func TestLatencyFaultWaitsOnTheFakeClock(t *testing.T) {
	clk := sim.NewClock(sim.Epoch)
	clk.SetAuto(true)
	f := &sim.Faults{}
	u := serve(t, f, clk)
	f.Add(sim.Fault{Latency: 5 * time.Minute, Times: 1})
	resp, _, err := get(t, u+"/x")
	require.NoError(t, err)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, 5*time.Minute, clk.Since(sim.Epoch))
}

func TestNamedFaults(t *testing.T) {
	f := &sim.Faults{}
	assert.False(t, f.Take(sim.FaultDropWebsocket))
	f.Inject(sim.FaultDropWebsocket, 2)
	assert.True(t, f.Take(sim.FaultDropWebsocket))
	assert.True(t, f.Take(sim.FaultDropWebsocket))
	assert.False(t, f.Take(sim.FaultDropWebsocket))
	f.Inject(sim.FaultDuplicateEvents, -1)
	for range 10 {
		assert.True(t, f.Take(sim.FaultDuplicateEvents))
	}
	f.Reset()
	assert.False(t, f.Take(sim.FaultDuplicateEvents))
	var nilFaults *sim.Faults
	assert.False(t, nilFaults.Take("x"))
}

func TestTruncateChunkedBodyIsAnErrorAndKeepsTheResponseController(t *testing.T) {
	f := &sim.Faults{}
	ctlErr := make(chan error, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A streaming handler (a download): no Content-Length, a write
		// deadline through the ResponseController, several writes.
		ctlErr <- http.NewResponseController(w).SetWriteDeadline(time.Time{})
		_, _ = w.Write([]byte(strings.Repeat("a", 50)))
		_, _ = w.Write([]byte(strings.Repeat("b", 10000)))
	})
	srv := httptest.NewServer(f.Middleware(nil, h))
	t.Cleanup(srv.Close)
	f.Add(sim.Fault{TruncateAfter: 100, Times: 1})
	_, body, err := get(t, srv.URL)
	require.Error(t, err, "a cut chunked body is an error, not a short file")
	assert.LessOrEqual(t, len(body), 100)
	require.NoError(t, <-ctlErr, "the truncating writer hides the ResponseController's features")
}
