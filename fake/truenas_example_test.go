package fake_test

import (
	"fmt"
	"strings"

	"github.com/gorilla/websocket"

	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/fake/truenas"
)

// The fake serves TrueNAS's legacy websocket protocol at /websocket next
// to JSON-RPC 2.0 at /api/current, over the same jobs; SetVersion picks
// the release it emulates.
func ExampleServer_TrueNAS() {
	srv := fake.NewServer(nil, fake.Options{})
	defer srv.Close()
	srv.TrueNAS().SetVersion(truenas.Version2504)

	url := "ws" + strings.TrimPrefix(srv.URL(), "http") + "/websocket"
	conn, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()
	for _, frame := range []string{
		`{"msg": "connect", "version": "1", "support": ["1"]}`,
		`{"id": "a", "msg": "method", "method": "auth.login_with_api_key", "params": ["1-longrunfakeapikey"]}`,
		`{"id": "b", "msg": "method", "method": "system.version", "params": []}`,
		`{"id": "c", "msg": "method", "method": "core.ping", "params": ["extra"]}`,
	} {
		_ = conn.WriteMessage(websocket.TextMessage, []byte(frame))
		_, reply, _ := conn.ReadMessage()
		s := string(reply)
		if i := strings.Index(s, `,"trace"`); i > 0 {
			s = s[:i] + ",...}}"
		}
		if strings.Contains(s, `"connected"`) {
			s = `{"msg":"connected","session":"..."}`
		}
		fmt.Println(s)
	}
	// Output:
	// {"msg":"connected","session":"..."}
	// {"id":"a","msg":"result","result":true}
	// {"id":"b","msg":"result","result":"TrueNAS-25.04.2"}
	// {"msg":"result","id":"c","error":{"error":11,"errname":"EAGAIN","type":"VALIDATION","reason":"[EINVAL] : Too many arguments (expected 0, found 1)\n",...}}
}
