package truenas_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

	"github.com/gorilla/websocket"

	"github.com/longrun/longrun/fake/sim"
	"github.com/longrun/longrun/fake/truenas"
)

// A 24.10 box speaks only the legacy protocol at /websocket: connect,
// log in, call a method.
func ExampleNewWithOptions() {
	env := sim.NewEnv(sim.NewClock(sim.Epoch), nil, nil)
	b := truenas.NewWithOptions(env, truenas.Options{Version: truenas.Version2410})
	mux := http.NewServeMux()
	b.Register(mux)
	hs := httptest.NewServer(mux)
	defer hs.Close()
	defer b.Close()

	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(hs.URL, "http")+"/websocket", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()
	for _, frame := range []string{
		`{"msg": "connect", "version": "1", "support": ["1"]}`,
		`{"id": "1", "msg": "method", "method": "auth.login", "params": ["admin", "secret"]}`,
		`{"id": "2", "msg": "method", "method": "system.version", "params": []}`,
	} {
		_ = conn.WriteMessage(websocket.TextMessage, []byte(frame))
		_, reply, _ := conn.ReadMessage()
		if strings.Contains(string(reply), `"connected"`) {
			reply = []byte(`{"msg":"connected",...}`)
		}
		fmt.Println(string(reply))
	}
	// Output:
	// {"msg":"connected",...}
	// {"id":"1","msg":"result","result":true}
	// {"id":"2","msg":"result","result":"TrueNAS-SCALE-24.10.2"}
}

// Calls counts the calls a method received, to check how often a client
// polls: here one legacy session logs in and asks for the version twice.
func ExampleBackend_Calls() {
	b := truenas.NewWithOptions(sim.NewEnv(sim.NewClock(sim.Epoch), nil, nil), truenas.Options{Version: truenas.Version2410})
	defer b.Close()
	mux := http.NewServeMux()
	b.Register(mux)
	hs := httptest.NewServer(mux)
	defer hs.Close()

	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(hs.URL, "http")+"/websocket", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()
	send := func(frames ...map[string]any) { // and read as many answers
		for _, f := range frames {
			_ = conn.WriteJSON(f)
		}
		for range frames {
			_, _, _ = conn.ReadMessage()
		}
	}
	send(map[string]any{"msg": "connect", "version": "1", "support": []string{"1"}})
	send(map[string]any{"id": "1", "msg": "method", "method": "auth.login", "params": []string{"admin", "secret"}})
	version := func(id string) map[string]any {
		return map[string]any{"id": id, "msg": "method", "method": "system.version", "params": []any{}}
	}
	send(version("2"), version("3")) // two calls in flight at once
	fmt.Println(b.Calls("auth.login"), b.Calls("system.version"), b.Calls("core.get_jobs"))
	// Output: 1 2 0
}

// ParseVersion reads the names the longrun-fake flag -truenas-version
// takes.
func ExampleParseVersion() {
	for _, name := range []string{"24.10", "25.04", "25.10", "26.0", "newest", "23.10"} {
		v, err := truenas.ParseVersion(name)
		fmt.Println(v, err)
	}
	// Output:
	// 24.10 <nil>
	// 25.04 <nil>
	// 25.10 <nil>
	// 26.0 <nil>
	// 26.0 <nil>
	//  truenas fake: unknown version "23.10" (known: 24.10, 25.04, 25.10, 26.0, newest)
}

// File contents past the spool's memory live in temporary files, removed
// with the file, or when the fake closes.
func ExampleFiles_SetSpool() {
	b := truenas.New(sim.NewEnv(sim.NewClock(sim.Epoch), nil, nil))
	defer b.Close()
	files := truenas.NewFiles(b)
	defer files.Close()
	dir, _ := os.MkdirTemp("", "spool-example")
	defer os.RemoveAll(dir)
	files.SetSpool(1024, dir) // 1 KiB in memory per file, the rest on disk

	count := func() int { e, _ := os.ReadDir(dir); return len(e) }
	_ = files.WriteFile("/mnt/tank/small.txt", []byte("hello"))
	_ = files.WriteFile("/mnt/tank/big.bin", make([]byte, 1<<20))
	fmt.Println("temporary files:", count())
	files.RemoveFile("/mnt/tank/big.bin")
	fmt.Println("after RemoveFile:", count())
	_ = files.WriteFile("/mnt/tank/big.bin", make([]byte, 1<<20))
	files.Close()
	fmt.Println("after Close:", count())
	// Output:
	// temporary files: 1
	// after RemoveFile: 0
	// after Close: 0
}
