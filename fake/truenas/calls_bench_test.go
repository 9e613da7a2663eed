package truenas_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/longrun/longrun/fake/truenas"
)

// benchCalls measures core.ping calls per second on one connection of
// either protocol, keeping up to inflight calls outstanding (the
// middleware allows HardCallLimit).
func benchCalls(b *testing.B, legacy bool, inflight int) {
	_, _, base := legacyServer(b, truenas.Version2510)
	path := "/api/current"
	if legacy {
		path = "/websocket"
	}
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+path, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	if legacy {
		_ = conn.WriteMessage(websocket.TextMessage, []byte(`{"msg":"connect","version":"1","support":["1"]}`))
		if _, _, err := conn.ReadMessage(); err != nil {
			b.Fatal(err)
		}
	}
	frame := func(i int) []byte {
		if legacy {
			return fmt.Appendf(nil, `{"id":"%d","msg":"method","method":"core.ping","params":[]}`, i)
		}
		return fmt.Appendf(nil, `{"jsonrpc":"2.0","id":%d,"method":"core.ping","params":[]}`, i)
	}
	done := make(chan error, 1)
	slots := make(chan struct{}, inflight)
	go func() {
		for range b.N {
			if _, _, err := conn.ReadMessage(); err != nil {
				done <- err
				return
			}
			<-slots
		}
		done <- nil
	}()
	b.ResetTimer()
	for i := range b.N {
		slots <- struct{}{}
		if err := conn.WriteMessage(websocket.TextMessage, frame(i)); err != nil {
			b.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
}

// BenchmarkFakeCalls is the fake's own capacity: core.ping on one
// connection, one call at a time and 20 in flight, on both protocols.
func BenchmarkFakeCalls(b *testing.B) {
	for _, legacy := range []bool{false, true} {
		for _, n := range []int{1, truenas.HardCallLimit} {
			name := fmt.Sprintf("%s/inflight=%d", map[bool]string{false: "jsonrpc", true: "legacy"}[legacy], n)
			b.Run(name, func(b *testing.B) { benchCalls(b, legacy, n) })
		}
	}
}
