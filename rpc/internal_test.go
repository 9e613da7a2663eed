package rpc

import (
	"context"
	"encoding/binary"
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/fake/sim"
	"github.com/longrun/longrun/internal/redact"
	"github.com/longrun/longrun/jobs"
)

func TestCancelledCallLeavesNoPending(t *testing.T) {
	clk := sim.NewClock(sim.Epoch)
	srv := fake.NewServer(t, fake.Options{Clock: clk})
	ctx, stop := context.WithTimeout(context.Background(), 20*time.Second)
	defer stop()
	c, err := Dial(ctx, srv.WebsocketURL())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	srv.Faults().Inject(sim.FaultSlowReplies, 1)
	callCtx, cancel := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() { errc <- c.Call(callCtx, "core.ping", nil, nil) }()
	// Cancel once the server holds the slow reply on the clock, not as
	// soon as the call is pending: a call cancelled before its request
	// is written is never sent, the server never takes the fault, and
	// nothing would ever put the reply on the clock.
	for clk.Pending() == 0 {
		runtime.Gosched()
	}
	c.mu.Lock()
	n := len(c.pending)
	c.mu.Unlock()
	if n != 1 {
		t.Fatalf("%d pending calls while the server holds the reply", n)
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	c.mu.Lock()
	n = len(c.pending)
	c.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d pending calls left", n)
	}
	// The late reply is dropped; the connection goes on.
	clk.Advance(time.Second)
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if id := c.nextID.Load(); id < 3 {
		t.Fatalf("request ids: last %d", id)
	}
}

// TestHugeFrame: a server announces a 1 GiB frame. The client must end
// with a typed error without reading it into memory.
func TestHugeFrame(t *testing.T) {
	up := websocket.Upgrader{}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		if _, _, err := ws.ReadMessage(); err != nil { // core.set_options
			return
		}
		hdr := []byte{0x81, 127, 0, 0, 0, 0, 0, 0, 0, 0}
		binary.BigEndian.PutUint64(hdr[2:], 1<<30)
		raw := ws.NetConn()
		_, _ = raw.Write(append(hdr, []byte(`{"jsonrpc":"2.0","id":1,"result":"`)...))
		buf := make([]byte, 1)
		_, _ = raw.Read(buf) // until the client goes away
	}))
	defer hs.Close()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	ctx, stop := context.WithTimeout(context.Background(), 20*time.Second)
	defer stop()
	_, err := Dial(ctx, "ws"+strings.TrimPrefix(hs.URL, "http")+"/api/current", WithReadLimit(1<<20), WithoutReconnect())
	runtime.ReadMemStats(&after)
	var fe *FrameTooLargeError
	if !errors.Is(err, ErrFrameTooLarge) || !errors.As(err, &fe) || fe.Limit != 1<<20 {
		t.Fatalf("err = %v", err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20 {
		t.Fatalf("allocated %d bytes for a refused frame", grew)
	}
}

func TestURLRedaction(t *testing.T) {
	u, err := normalizeURL("https://root:hunter2@nas.local?auth_token=s3cret", ProtocolAuto)
	if err != nil {
		t.Fatal(err)
	}
	r := redact.URL(u)
	if strings.Contains(r, "hunter2") || strings.Contains(r, "s3cret") || !strings.HasPrefix(r, "wss://root:REDACTED@nas.local/api/current") {
		t.Fatalf("redacted %q", r)
	}
	if _, err := normalizeURL("ftp://x", ProtocolAuto); err == nil {
		t.Fatal("ftp accepted")
	}
}

// TestAllStreamOverflow: a receiver that stops reading breaks its stream
// once MaxQueuedChanges snapshots wait; what was queued is still handed
// over, in order, before the channel closes.
func TestAllStreamOverflow(t *testing.T) {
	s := &allStream{out: make(chan *jobs.Job), wake: make(chan struct{}, 1)}
	for i := range MaxQueuedChanges + 10 {
		s.push(&jobs.Job{ID: strconv.Itoa(i)})
	}
	go s.run(context.Background(), make(chan struct{}))
	n := 0
	for j := range s.out {
		if j.ID != strconv.Itoa(n) {
			t.Fatalf("snapshot %d is job %s", n, j.ID)
		}
		n++
	}
	if n != MaxQueuedChanges {
		t.Fatalf("%d snapshots handed over, want %d", n, MaxQueuedChanges)
	}
}
