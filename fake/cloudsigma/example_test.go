package cloudsigma_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/gorilla/websocket"

	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/fake/cloudsigma"
)

// Start a server over the API, watch it on the async websocket, and see
// its status change as the fake clock moves.
func Example() {
	srv := fake.NewServer(nil, fake.Options{})
	defer srv.Close()
	call := func(method, path, body string) (*http.Response, []byte) {
		req, _ := http.NewRequest(method, srv.CloudSigmaURL()+path, strings.NewReader(body))
		req.SetBasicAuth("admin@example.com", "secret")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp, out
	}

	// The async websocket: a cookie from authenticate_asynchronous, valid
	// for 2 fake minutes, opens /api/2.0/websocket.
	resp, _ := call("POST", "accounts/action/?do=authenticate_asynchronous", "{}")
	var cookie string
	for _, c := range resp.Cookies() {
		if c.Name == cloudsigma.AsyncCookie {
			cookie = c.Name + "=" + c.Value
		}
	}
	wsURL := "ws" + strings.TrimPrefix(srv.URL(), "http") + cloudsigma.WebsocketPath
	ws, _, err := websocket.DefaultDialer.Dial(wsURL, http.Header{"Cookie": {cookie}})
	if err != nil {
		panic(err)
	}
	defer ws.Close()

	// A server; numbers may be strings, as CloudSigma accepts them.
	_, body := call("POST", "servers/", `{"name": "demo", "cpu": "1000", "mem": "536870912", "vnc_password": "secret1"}`)
	var created struct{ Objects []struct{ UUID string } }
	_ = json.Unmarshal(body, &created)
	id := created.Objects[0].UUID

	resp, body = call("POST", "servers/"+id+"/action/?do=start", "{}")
	fmt.Println(resp.StatusCode, string(body) == `{"action":"start","result":"success","uuid":"`+id+`"}`)
	srv.Clock().Advance(cloudsigma.StartTime)

	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			panic(err)
		}
		var f struct {
			ResourceType string `json:"resource_type"`
			Object       struct{ Status string }
		}
		_ = json.Unmarshal(data, &f)
		fmt.Println(f.ResourceType, f.Object.Status)
		if f.Object.Status == "running" {
			break
		}
	}
	// Output:
	// 202 true
	// servers stopped
	// servers starting
	// servers running
}
