package cloudsigma_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/longrun/longrun/fake"
	"github.com/longrun/longrun/fake/cloudsigma"
)

// asyncCookie authenticates for the websocket and returns the cookie.
func asyncCookie(t *testing.T, srv *fake.Server) *http.Cookie {
	t.Helper()
	c := admin(t, srv, "POST", "/api/2.0/accounts/action/?do=authenticate_asynchronous", "{}")
	if c.status != 200 || strings.TrimSpace(string(c.body)) != "{}" {
		t.Fatalf("authenticate_asynchronous: %d %s", c.status, c.body)
	}
	resp := http.Response{Header: c.header}
	for _, ck := range resp.Cookies() {
		if ck.Name == cloudsigma.AsyncCookie {
			if ck.MaxAge != 120 || ck.Path != "/" {
				t.Errorf("cookie %+v", ck)
			}
			return ck
		}
	}
	t.Fatalf("no async_auth cookie in %v", c.header)
	return nil
}

func dial(srv *fake.Server, ck *http.Cookie) (*websocket.Conn, *http.Response, error) {
	h := http.Header{}
	if ck != nil {
		h.Set("Cookie", ck.Name+"="+ck.Value)
	}
	return websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL(), "http")+cloudsigma.WebsocketPath, h)
}

// readFrame reads one frame; the wall-clock deadline only guards against
// a hang, the test never waits on it for time to pass.
func readFrame(t *testing.T, ws *websocket.Conn) (cloudsigma.Frame, map[string]any) {
	t.Helper()
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, data, err := ws.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	f, err := cloudsigma.ParseFrame(data)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	_ = json.Unmarshal(data, &raw)
	return f, raw
}

// A clone's job changes arrive as frames with the full job document as
// the clock steps, with no request in between.
func TestWebsocketFramesForCloneJob(t *testing.T) {
	srv := fake.NewServer(t, fake.Options{})
	ws, _, err := dial(srv, asyncCookie(t, srv))
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	var drives struct{ Objects []map[string]any }
	_ = json.Unmarshal(admin(t, srv, "GET", "/api/2.0/drives/?name=scratch", "").body, &drives)
	src := drives.Objects[0]["uuid"].(string)
	c := admin(t, srv, "POST", "/api/2.0/drives/"+src+"/action/?do=clone", "")
	jobID := firstObject(t, c)["jobs"].([]any)[0].(map[string]any)["uuid"].(string)
	jobURI := "/api/2.0/jobs/" + jobID + "/"

	// The clone's own frames: the job, the new drive, the source.
	seen := map[string]bool{}
	for range 3 {
		f, raw := readFrame(t, ws)
		seen[f.ResourceType] = true
		if len(raw) != 3 || f.Object == nil {
			t.Errorf("frame %v", raw)
		}
	}
	if !seen["jobs"] || !seen["drives"] {
		t.Errorf("frame types %v", seen)
	}
	// Step the clock: every step past a tenth of the 2-minute clone is a
	// job frame, ending with success at 100.
	var progress []float64
	for len(progress) == 0 || progress[len(progress)-1] < 100 {
		srv.Clock().Advance(12 * time.Second)
		for {
			f, _ := readFrame(t, ws)
			if f.ResourceType != "jobs" {
				continue
			}
			if f.ResourceURI != jobURI {
				t.Fatalf("frame for %s", f.ResourceURI)
			}
			var j map[string]any
			if err := json.Unmarshal(f.Object, &j); err != nil {
				t.Fatal(err)
			}
			if k := keysOf(j); strings.Join(k, ",") != strings.Join(jobKeys, ",") {
				t.Errorf("job object keys %v", k)
			}
			p := j["data"].(map[string]any)["progress"].(float64)
			progress = append(progress, p)
			if p == 100 && j["state"] != "success" {
				t.Errorf("job at 100 in state %v", j["state"])
			}
			break
		}
		if len(progress) > 20 {
			t.Fatalf("no end: %v", progress)
		}
	}
	if len(progress) != 10 || progress[0] != 10 || progress[8] != 90 {
		t.Errorf("progress frames %v", progress)
	}
	// A deleted drive's frame has no object.
	newID := firstObject(t, c)["uuid"].(string)
	if c := admin(t, srv, "DELETE", "/api/2.0/drives/"+newID+"/", ""); c.status != 204 {
		t.Fatalf("delete: %d %s", c.status, c.body)
	}
	for {
		f, raw := readFrame(t, ws)
		if f.ResourceURI == "/api/2.0/drives/"+newID+"/" {
			if _, ok := raw["object"]; ok {
				t.Errorf("deleted drive frame %v", raw)
			}
			break
		}
	}
	if srv.CloudSigma().Websockets() != 1 {
		t.Errorf("%d websockets", srv.CloudSigma().Websockets())
	}
}

// The cookie admits a connection for 2 fake minutes, and only that one
// cookie.
func TestWebsocketCookieExpiry(t *testing.T) {
	srv := fake.NewServer(t, fake.Options{})
	ck := asyncCookie(t, srv)
	srv.Clock().Advance(cloudsigma.AsyncCookieLife - time.Second)
	ws, _, err := dial(srv, ck)
	if err != nil {
		t.Fatalf("a cookie 1 s from expiry: %v", err)
	}
	ws.Close()
	srv.Clock().Advance(2 * time.Second)
	_, resp, err := dial(srv, ck)
	if !errors.Is(err, websocket.ErrBadHandshake) || resp == nil || resp.StatusCode != 401 {
		t.Fatalf("an expired cookie: %v %v", err, resp)
	}
	var errs []map[string]any
	if json.NewDecoder(resp.Body).Decode(&errs) != nil || len(errs) != 1 || errs[0]["error_type"] != "permission" {
		t.Errorf("refusal body %v", errs)
	}
	for _, bad := range []*http.Cookie{nil, {Name: cloudsigma.AsyncCookie, Value: "forged|1|00"}} {
		if _, resp, err := dial(srv, bad); err == nil || resp.StatusCode != 401 {
			t.Errorf("cookie %v: %v", bad, err)
		}
	}
	// Basic auth alone does not open the websocket.
	req, _ := http.NewRequest("GET", srv.URL()+cloudsigma.WebsocketPath, nil)
	req.SetBasicAuth("admin@example.com", "secret")
	resp, err = http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 401 {
		t.Errorf("basic auth: %v %v", err, resp)
	}
	resp.Body.Close()
	// authenticate_asynchronous itself needs credentials.
	if c := do(t, srv, "POST", "/api/2.0/accounts/action/?do=authenticate_asynchronous", "", "", "{}"); c.status != 401 {
		t.Errorf("anonymous authenticate_asynchronous: %d", c.status)
	}
}

// The drop fault closes the socket at the next change; frames of other
// users never arrive.
func TestWebsocketDropFault(t *testing.T) {
	srv := fake.NewServer(t, fake.Options{})
	ws, _, err := dial(srv, asyncCookie(t, srv))
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	guest := do(t, srv, "POST", "/api/2.0/drives/", "guest@example.com", "guest", `{"name": "g", "size": 1073741824, "media": "disk"}`)
	if guest.status != 201 {
		t.Fatal(guest.status)
	}
	c := admin(t, srv, "POST", "/api/2.0/drives/", `{"name": "a", "size": 1073741824, "media": "disk"}`)
	f, _ := readFrame(t, ws)
	if f.ResourceURI != "/api/2.0/drives/"+firstObject(t, c)["uuid"].(string)+"/" {
		t.Errorf("first frame is not the admin's drive: %+v", f)
	}
	srv.Faults().Inject(cloudsigma.FaultDropWebsocket, 1)
	admin(t, srv, "POST", "/api/2.0/drives/", `{"name": "b", "size": 1073741824, "media": "disk"}`)
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, _, err := ws.ReadMessage(); err == nil {
		t.Fatalf("socket still open: %v", err)
	}
	// A new cookie and connection work again.
	ws2, _, err := dial(srv, asyncCookie(t, srv))
	if err != nil {
		t.Fatal(err)
	}
	defer ws2.Close()
	srv.CloudSigma().DropWebsockets()
	_ = ws2.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, _, err := ws2.ReadMessage(); err == nil {
		t.Fatal("DropWebsockets left the socket open")
	}
}

// /locations/ names the fake's own websocket, as a real location names
// its direct host's.
func TestLocationsNameTheWebsocket(t *testing.T) {
	srv := fake.NewServer(t, fake.Options{})
	l := getJSON(t, srv, "/api/2.0/locations/?limit=0")
	objs := l["objects"].([]any)
	if len(objs) != 1 {
		t.Fatalf("locations %v", l)
	}
	loc := objs[0].(map[string]any)
	if loc["websocket_url"] != srv.CloudSigmaWebsocketURL() || loc["api_endpoint"] != srv.CloudSigmaURL() {
		t.Errorf("location %v", loc)
	}
	ws, _, err := websocket.DefaultDialer.Dial(loc["websocket_url"].(string), http.Header{"Cookie": {cloudsigma.AsyncCookie + "=" + asyncCookie(t, srv).Value}})
	if err != nil {
		t.Fatal(err)
	}
	ws.Close()
}

// A server clone's disks move on together: each instant gives the root
// job one frame, however many disks changed at it.
func TestWebsocketOneFramePerInstant(t *testing.T) {
	srv := fake.NewServer(t, fake.Options{})
	id, err := srv.CloudSigma().AddServerWithDisks("admin@example.com", "wide", 20, cloudsigma.GiB)
	if err != nil {
		t.Fatal(err)
	}
	ws, _, err := dial(srv, asyncCookie(t, srv))
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	c := admin(t, srv, "POST", "/api/2.0/servers/"+id+"/action/?do=clone", "")
	var clone map[string]any
	_ = json.Unmarshal(c.body, &clone)
	root := clone["jobs"].([]any)[0].(map[string]any)["resource_uri"].(string)
	srv.Clock().Advance(time.Minute) // every 1 GiB disk clone takes one minute
	rootFrames, childFrames := 0, 0
	for {
		f, _ := readFrame(t, ws)
		if f.ResourceType != "jobs" {
			continue
		}
		var j map[string]any
		_ = json.Unmarshal(f.Object, &j)
		if f.ResourceURI != root {
			childFrames++
			continue
		}
		rootFrames++
		if j["state"] == "success" {
			break
		}
	}
	// The clone's own frame, one per tenth, the end.
	if rootFrames != 11 {
		t.Errorf("%d frames of the root job", rootFrames)
	}
	if childFrames != 20*11 {
		t.Errorf("%d frames of child jobs", childFrames)
	}
}

// A socket dropped mid-clone: a new cookie and connection see the rest of
// the job's frames, up to its end.
func TestWebsocketReconnectMidClone(t *testing.T) {
	srv := fake.NewServer(t, fake.Options{})
	ws, _, err := dial(srv, asyncCookie(t, srv))
	if err != nil {
		t.Fatal(err)
	}
	var drives struct{ Objects []map[string]any }
	_ = json.Unmarshal(admin(t, srv, "GET", "/api/2.0/drives/?name=scratch", "").body, &drives)
	c := admin(t, srv, "POST", "/api/2.0/drives/"+drives.Objects[0]["uuid"].(string)+"/action/?do=clone", "")
	jobURI := firstObject(t, c)["jobs"].([]any)[0].(map[string]any)["resource_uri"].(string)
	for range 3 {
		readFrame(t, ws)
	}
	srv.Faults().Inject(cloudsigma.FaultDropWebsocket, 1)
	srv.Clock().Advance(30 * time.Second) // a quarter of the clone
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, _, err := ws.ReadMessage(); err == nil {
		t.Fatal("the fault did not drop the socket")
	}
	ws.Close()
	ws, _, err = dial(srv, asyncCookie(t, srv))
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	srv.Clock().Advance(90 * time.Second)
	for {
		f, _ := readFrame(t, ws)
		if f.ResourceURI != jobURI {
			continue
		}
		var j map[string]any
		_ = json.Unmarshal(f.Object, &j)
		if j["state"] == "success" {
			break
		}
	}
	if j := getJSON(t, srv, jobURI); j["state"] != "success" {
		t.Errorf("job after the clone %v", j)
	}
}
