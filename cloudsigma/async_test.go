package cloudsigma_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/longrun/longrun/cloudsigma"
	"github.com/longrun/longrun/jobs"
)

// asyncServer follows CloudSigma's async.rst and nothing else: POST
// /accounts/action/?do=authenticate_asynchronous sets a fresh async_auth
// cookie (Max-Age=120); /websocket admits a connection that carries the
// newest cookie and sends {resource_type, resource_uri, object?} frames.
type asyncServer struct {
	t       *testing.T
	mu      sync.Mutex
	token   string
	auths   int
	conns   []string // the cookie each connection came with
	gets    int
	job     string   // the job document GET /jobs/J/ answers
	got     chan int // the count of GETs, after each
	onConn  func(n int, c *websocket.Conn)
	upgrade websocket.Upgrader
}

func jobDoc(progress int, state string) string {
	return fmt.Sprintf(`{"uuid":"J","operation":"drive_clone","state":%q,"data":{"progress":%d},"children":[],"resources":[],"created":null,"last_modified":null,"resource_uri":"/api/2.0/jobs/J/"}`, state, progress)
}

func (s *asyncServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if u, p, ok := r.BasicAuth(); r.URL.Path != "/api/2.0/websocket" && (!ok || u != "u@example.com" || p != "pw") {
		http.Error(w, `[{"error_point":null,"error_type":"permission","error_message":"Authentication required"}]`, 401)
		return
	}
	s.mu.Lock()
	switch {
	case r.Method == "POST" && r.URL.Path == "/api/2.0/accounts/action/" && r.URL.Query().Get("do") == "authenticate_asynchronous":
		s.auths++
		s.token = fmt.Sprintf("tok%d|1356012032|f785e3d8", s.auths)
		s.mu.Unlock()
		w.Header().Set("Set-Cookie", "async_auth="+s.token+"; expires=Thu, 20-Dec-2012 14:02:32 GMT; Max-Age=120; Path=/")
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		fmt.Fprint(w, "{}")
	case r.Method == "GET" && r.URL.Path == "/api/2.0/jobs/J/":
		s.gets++
		doc, n := s.job, s.gets
		s.mu.Unlock()
		fmt.Fprint(w, doc)
		select {
		case s.got <- n:
		default:
		}
	case r.URL.Path == "/api/2.0/websocket":
		ck, err := r.Cookie("async_auth")
		if err != nil || ck.Value != s.token {
			s.mu.Unlock()
			http.Error(w, "no cookie", 401)
			return
		}
		s.conns = append(s.conns, ck.Value)
		n := len(s.conns)
		s.mu.Unlock()
		c, err := s.upgrade.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		go s.onConn(n, c)
	default:
		s.mu.Unlock()
		http.NotFound(w, r)
	}
}

func (s *asyncServer) set(doc string) {
	s.mu.Lock()
	s.job = doc
	s.mu.Unlock()
}

// TestPushAgainstTheDocumentedProtocol: a wait is driven by frames (one
// with the object, one without, which costs a GET), survives a dropped
// connection with a reconcile fetch, and reconnects with a fresh cookie.
func TestPushAgainstTheDocumentedProtocol(t *testing.T) {
	s := &asyncServer{t: t, job: jobDoc(0, "started"), got: make(chan int, 16)}
	s.onConn = func(n int, c *websocket.Conn) {
		frame := func(obj string) {
			msg := `{"resource_type":"jobs","resource_uri":"/api/2.0/jobs/J/"`
			if obj != "" {
				msg += `,"object":` + obj
			}
			_ = c.WriteMessage(websocket.TextMessage, []byte(msg+"}"))
		}
		if n == 1 {
			_ = c.WriteMessage(websocket.TextMessage, []byte(`{"resource_type":"drives","resource_uri":"/api/2.0/drives/D/","object":{"uuid":"D","status":"cloning_dst"}}`))
			frame(jobDoc(30, "started"))
			s.set(jobDoc(50, "started"))
			s.mu.Lock()
			base := s.gets // the first poll may still be in flight, or cancelled by a push
			s.mu.Unlock()
			frame("") // no object: the client fetches
			for n := range s.got {
				if n > base { // a GET that can only be the one for that frame, or later
					break
				}
			}
			c.Close() // dropped, as a network failure would
			return
		}
		s.set(jobDoc(100, "success"))
		frame(jobDoc(100, "success"))
		_, _, _ = c.ReadMessage()
	}
	hs := httptest.NewServer(s)
	defer hs.Close()
	c, err := cloudsigma.New(hs.URL, "u@example.com", "pw")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var seen []float64
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Polls would come only hourly: every change must come by push, and
	// the one poll after the drop is the reconcile.
	job, err := jobs.Wait(ctx, c.Jobs, "J", jobs.WithInterval(time.Millisecond, time.Hour),
		jobs.WithOnProgress(func(j *jobs.Job) { seen = append(seen, j.Progress.Percent) }))
	if err != nil {
		t.Fatal(err)
	}
	if job.State != jobs.StateSucceeded || job.Dialect != cloudsigma.Dialect {
		t.Fatalf("final %+v", job)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.auths != 2 || len(s.conns) != 2 || s.conns[0] == s.conns[1] || c.Connects() != 2 {
		t.Errorf("auths %d, connections %v, client connects %d: want a reconnect with a fresh cookie", s.auths, s.conns, c.Connects())
	}
	// The first fetch (which a push may cancel before it is sent), the
	// GET for the frame without an object, the reconcile after the drop:
	// two or three, whatever the job's length.
	if s.gets < 2 || s.gets > 3 {
		t.Errorf("%d GETs of the job, want 2 or 3", s.gets)
	}
	if len(seen) < 2 || seen[len(seen)-1] != 100 {
		t.Errorf("progress seen %v", seen)
	}
}
