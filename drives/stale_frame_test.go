package drives_test

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
	"github.com/longrun/longrun/drives"
)

// staleServer serves one drive D that is resizing from 1 to 4 GiB, and an
// async websocket. After the client's first GET it sends a frame that is
// older than the resize (the "unmounted" 1 GiB that ended the drive's
// creation, delivered late, as async frames can be); after the second GET
// the resize ends and the true frame follows.
type staleServer struct {
	mu     sync.Mutex
	gets   int
	doc    string
	frames chan string
	up     websocket.Upgrader
}

func staleDoc(status string, gib int) string {
	return fmt.Sprintf(`{"uuid":"D","name":"data","status":%q,"size":%d,"media":"disk","resource_uri":"/api/2.0/drives/D/"}`, status, gib<<30)
}

func frameOf(doc string) string {
	return `{"resource_type":"drives","resource_uri":"/api/2.0/drives/D/","object":` + doc + `}`
}

func (s *staleServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/api/2.0/accounts/action/":
		w.Header().Set("Set-Cookie", "async_auth=tok; Max-Age=120; Path=/")
		fmt.Fprint(w, "{}")
	case r.URL.Path == "/api/2.0/drives/D/":
		s.mu.Lock()
		s.gets++
		n, doc := s.gets, s.doc
		if n == 2 {
			s.doc = staleDoc("unmounted", 4)
		}
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, doc)
		switch n {
		case 1:
			s.frames <- frameOf(staleDoc("unmounted", 1)) // stale
		case 2:
			s.frames <- frameOf(staleDoc("unmounted", 4))
		}
	case r.URL.Path == "/api/2.0/websocket":
		c, err := s.up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			for f := range s.frames {
				if c.WriteMessage(websocket.TextMessage, []byte(f)) != nil {
					return
				}
			}
		}()
	default:
		http.NotFound(w, r)
	}
}

// TestWaitStatusConfirmsAPushedStatus: a pushed frame that shows the
// awaited status may predate the action waited on; WaitStatus must not
// return it as the drive's state (it did: the Resize example printed
// 1 GiB once under -race).
func TestWaitStatusConfirmsAPushedStatus(t *testing.T) {
	s := &staleServer{doc: staleDoc("resizing", 1), frames: make(chan string, 4)}
	defer close(s.frames) // after the server closes: ends the websocket's writer
	hs := httptest.NewServer(s)
	defer hs.Close()
	c, err := cloudsigma.New(hs.URL, "u@example.com", "pw")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	d, err := drives.New(c).WaitStatus(ctx, "D", drives.StatusUnmounted)
	if err != nil {
		t.Fatal(err)
	}
	if d.Size != 4<<30 {
		t.Fatalf("WaitStatus returned a drive of %d GiB: the stale frame", d.Size>>30)
	}
}
