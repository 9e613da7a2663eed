package rpc

import (
	"context"
	"encoding/json"
	"testing"
)

var frameSeeds = []string{
	`{"jsonrpc":"2.0","id":1,"result":true}`,
	`{"jsonrpc":"2.0","id":2,"result":null}`,
	`{"jsonrpc":"2.0","id":3,"error":{"code":-32602,"message":"Invalid params","data":{"error":22,"errname":"EINVAL","reason":"x","trace":null,"extra":[["a","b",22],[null,"c",2]]}}}`,
	`{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}`,
	`{"jsonrpc":"2.0","method":"collection_update","params":{"msg":"added","collection":"core.get_jobs","id":101,"fields":{"id":101,"message_ids":[5]}}}`,
	`{"jsonrpc":"2.0","method":"collection_update","params":{"msg":"changed","collection":"core.get_jobs","id":101,"fields":{"id":101,"state":"RUNNING","progress":{"percent":50,"description":"half"}}}}`,
	`{"jsonrpc":"2.0","method":"collection_update","params":{"msg":"changed","collection":"core.get_jobs","id":7,"fields":{"id":7,"state":"FAILED","exc_info":{"type":"VALIDATION","extra":[["x","y",22]]},"error":"bad"}}}`,
	`{"jsonrpc":"2.0","method":"notify_unsubscribed","params":{"collection":"core.get_jobs","error":null}}`,
	`[1,2]`, `{}`, `{"id":"x"}`, `{"method":"collection_update","params":[]}`,
}

// FuzzDecodeFrame feeds server frames to the decoder and to the reader's
// dispatch with a job and a pending call being followed.
func FuzzDecodeFrame(f *testing.F) {
	for _, s := range frameSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fr, err := decodeFrame(data)
		if err == nil && fr == nil {
			t.Fatal("nil frame without error")
		}
		if err == nil && fr.Method == "collection_update" {
			_, _ = decodeEvent(fr.Params)
		}
		c := newFuzzConn()
		h := &JobHandle{c: c, reqID: 5, method: "filesystem.copy", bound: make(chan struct{}),
			done: make(chan struct{}), progress: make(chan JobProgress, 8), legacy: true}
		c.tracker.byReq[5] = h
		w := c.tracker.watch(7)
		c.pending[1] = &pending{ch: make(chan reply, 1), method: "x"}
		c.dispatch(data)
		c.dispatch(data) // duplicates must be harmless
		c.tracker.unwatch(7, w)
		c.tracker.closeAll(ErrClosed)
		c.endLife()
		c.wg.Wait()
	})
}

func newFuzzConn() *Conn {
	cfg, _ := newOptions(nil)
	c := &Conn{cfg: cfg, pending: map[int64]*pending{}, subs: map[*Subscription]struct{}{},
		ready: make(chan struct{}), done: make(chan struct{}), sem: make(chan struct{}, 1)}
	c.life, c.endLife = context.WithCancel(context.Background())
	close(c.done) // background work (verification) ends at once
	c.closed = true
	c.tracker = newTracker(c)
	return c
}

// FuzzJobEntry decodes job entries, converts them and writes them back.
func FuzzJobEntry(f *testing.F) {
	seeds := []string{
		`{"id":53,"method":"catalog.sync_all","arguments":[],"logs_path":null,"logs_excerpt":null,"progress":{"percent":100,"description":"Syncing TEST catalog","extra":null},"result":null,"error":null,"exception":null,"exc_info":null,"state":"SUCCESS","time_started":{"$date":1571300596053},"time_finished":null}`,
		`{"id":2,"state":"FAILED","error":"[EINVAL] a: b","exc_info":{"repr":"x","type":"VALIDATION","errno":null,"extra":[["a","b",22]]},"new_field":{"x":1}}`,
		`{"id":3,"state":"ABORTED","progress":{"percent":30}}`,
		`{"id":4,"state":"RUNNING","progress":{"percent":100},"time_started":{"$date":1.5e12}}`,
		`{"id":"x"}`, `{"time_started":{"$date":"soon"}}`, `null`, `{"exc_info":{"extra":"notalist","type":"VALIDATION"},"state":"FAILED"}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var e JobEntry
		if err := json.Unmarshal(data, &e); err != nil {
			return
		}
		j := e.ToJob()
		if j == nil || j.Dialect != "truenas" {
			t.Fatal("bad conversion")
		}
		if !e.Terminal() && j.Done() {
			t.Fatalf("unfinished job reported done: %+v", j)
		}
		if e.Terminal() != j.Done() {
			t.Fatalf("done %v for state %q", j.Done(), e.State)
		}
		if e.State == StateFailed || e.State == StateAborted {
			_ = jobErrorFromEntry(&e).Error()
		}
		out, err := json.Marshal(e)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		var back JobEntry
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("decode of re-encoded entry: %v\n%s", err, out)
		}
		if back.ID != e.ID || back.State != e.State || len(back.Unknown) != len(e.Unknown) {
			t.Fatalf("round trip changed the entry:\n%s\n%s", data, out)
		}
	})
}
