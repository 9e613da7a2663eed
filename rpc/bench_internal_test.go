package rpc

import (
	"encoding/json"
	"fmt"
	"runtime"
	"testing"
)

// BenchmarkTrackedJobHeap measures the heap a followed job costs: a
// watcher (what jobs.Wait holds through Changes) plus the merged fields
// of a full job entry, as retained after GC.
func BenchmarkTrackedJobHeap(b *testing.B) {
	c := newFuzzConn()
	var ws []*watcher
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ReportAllocs()
	for i := 1; b.Loop(); i++ {
		raw := fmt.Sprintf(`{"id":%d,"message_ids":[%d],"method":"filesystem.copy","arguments":["/mnt/tank/src","/mnt/tank/dst"],"transient":false,"description":"Copying","abortable":true,"logs_path":null,"logs_excerpt":null,"progress":{"percent":50,"description":"Copied 1000000 of 2000000 bytes","extra":null},"result":null,"result_encoding_error":null,"error":null,"exception":null,"exc_info":null,"state":"RUNNING","time_started":{"$date":1767323045000},"time_finished":null,"credentials":{"type":"API_KEY","data":{"username":"admin"}}}`, i, i)
		fields, _ := decodeJobFields(json.RawMessage(raw))
		ws = append(ws, c.tracker.watch(int64(i)))
		c.tracker.apply(int64(i), fields, json.RawMessage(raw), true)
	}
	b.StopTimer()
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/float64(b.N), "heapB/job")
	runtime.KeepAlive(ws)
	runtime.KeepAlive(c)
}
