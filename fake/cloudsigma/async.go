package cloudsigma

import (
	"crypto/sha1"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"github.com/longrun/longrun/fake/sim"
)

// AsyncCookie is the name of the cookie authenticate_asynchronous sets.
const AsyncCookie = "async_auth"

// AsyncCookieLife is how long an async_auth cookie admits a websocket
// connection, in fake time.
const AsyncCookieLife = 2 * time.Minute

// WebsocketPath is where the async websocket is served.
const WebsocketPath = Prefix + "websocket"

// FaultDropWebsocket is the named fault (sim.Faults.Inject) that closes an
// async websocket abruptly at the next change it would hear of: the
// change happens, its frame is lost with the connection.
const FaultDropWebsocket = "cloudsigma.drop-websocket"

// sendBuffer is how many frames a slow websocket may lag behind before the
// fake drops it.
const sendBuffer = 4096

// maxClientMessage is the largest message the fake reads from a websocket
// client: a client has nothing to say on this socket, and a bigger
// message closes the connection.
const maxClientMessage = 64 << 10

type asyncCookie struct {
	user    string
	expires time.Time
}

// Frame is one message of the async websocket.
type Frame struct {
	ResourceType string          `json:"resource_type"`
	ResourceURI  string          `json:"resource_uri"`
	Object       json.RawMessage `json:"object,omitempty"`
}

type subscriber struct {
	user string
	conn *websocket.Conn
	send chan []byte
	done chan struct{}
}

var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

// serveLocations serves GET /locations/: one location, the fake itself,
// whose websocket_url is where its async websocket listens (a real
// location names wss://direct.<location>.cloudsigma.com/websocket).
func (b *Backend) serveLocations(w http.ResponseWriter, r *http.Request, p []string) {
	if len(p) != 0 {
		writeErr(w, http.StatusNotFound, "notexist", "", "No such URL "+r.URL.Path)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, r, "GET")
		return
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	base := scheme + "://" + r.Host
	loc := map[string]any{
		"alternative_frontend_url": base + "/ui/", "api_endpoint": base + Prefix, "country_code": "CH",
		"default_frontend_signup_url": base + "/ui/", "default_frontend_url": base + "/ui/",
		"display_name": "longrun fake", "documentation_url": "https://docs.cloudsigma.com", "id": "FAKE",
		"upload_url": base + Prefix, "websocket_url": "ws" + strings.TrimPrefix(base, "http") + WebsocketPath,
	}
	b.serveList(w, r, docListing{loc}, keysOf(loc), map[string]bool{}, map[string]bool{}, nil)
}

// serveAccounts serves /accounts/action/?do=authenticate_asynchronous,
// do=logout and do=check_login (do=login comes before authentication:
// serveLogin).
func (b *Backend) serveAccounts(w http.ResponseWriter, r *http.Request, u sim.User, p []string) {
	if len(p) != 1 || p[0] != "action" {
		writeErr(w, http.StatusNotFound, "notexist", "", "No such URL "+r.URL.Path)
		return
	}
	if r.Method != http.MethodPost {
		methodNotAllowed(w, r, "POST")
		return
	}
	if _, err := readBody(r); err != nil {
		validationErr(w, err)
		return
	}
	switch do := r.URL.Query().Get("do"); do {
	case "authenticate_asynchronous":
	case "logout":
		b.logoutLocked(w, r)
		writeJSON(w, http.StatusOK, map[string]any{})
		return
	case "check_login":
		writeJSON(w, http.StatusOK, map[string]any{})
		return
	default:
		writeErr(w, http.StatusBadRequest, "validation", "do", fmt.Sprintf("Invalid action %q for accounts", do))
		return
	}
	now := b.now()
	exp := now.Add(AsyncCookieLife)
	id := b.newUUID("async/" + u.ID)
	sig := sha1.Sum([]byte(id + "/" + u.ID))
	val := fmt.Sprintf("%s|%d|%x", id, exp.Unix(), sig)
	// Drop spent cookies so the table does not grow without bound.
	for k, c := range b.async {
		if now.After(c.expires) {
			delete(b.async, k)
		}
	}
	b.async[val] = asyncCookie{user: u.ID, expires: exp}
	http.SetCookie(w, &http.Cookie{Name: AsyncCookie, Value: val, Path: "/", Expires: exp, MaxAge: int(AsyncCookieLife / time.Second)})
	writeJSON(w, http.StatusOK, map[string]any{})
}

// serveWebsocket upgrades GET /api/2.0/websocket for a valid async_auth
// cookie.
func (b *Backend) serveWebsocket(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		methodNotAllowed(w, r, "GET")
		return
	}
	c, err := r.Cookie(AsyncCookie)
	b.mu.Lock()
	var ac asyncCookie
	ok := err == nil
	if ok {
		ac, ok = b.async[c.Value]
	}
	if ok && b.now().After(ac.expires) {
		delete(b.async, c.Value)
		ok = false
	}
	closed := b.closed
	b.mu.Unlock()
	if !ok || closed {
		writeErr(w, http.StatusUnauthorized, "permission", "", "The async_auth cookie is missing, unknown or expired; POST /accounts/action/?do=authenticate_asynchronous first")
		return
	}
	// Listen before the handshake ends: a client may change something the
	// moment its dial returns, and that change's frames must reach it.
	s := &subscriber{user: ac.user, send: make(chan []byte, sendBuffer), done: make(chan struct{})}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		writeErr(w, http.StatusServiceUnavailable, "backend", "", "The fake is closing")
		return
	}
	b.subs[s] = true
	b.advanceLocked()
	b.armLocked()
	b.mu.Unlock()
	conn, err := upgrader.Upgrade(w, r, nil)
	b.mu.Lock()
	_, live := b.subs[s]
	if err != nil || !live {
		delete(b.subs, s)
		b.mu.Unlock()
		if conn != nil {
			_ = conn.Close()
		}
		return // the upgrader has answered a failed handshake
	}
	conn.SetReadLimit(maxClientMessage)
	s.conn = conn
	b.subsWG.Add(2)
	b.mu.Unlock()
	go b.writeLoop(s)
	go b.readLoop(s)
}

func (b *Backend) writeLoop(s *subscriber) {
	defer b.subsWG.Done()
	for {
		select {
		case <-s.done:
			return
		case f := <-s.send:
			if err := s.conn.WriteMessage(websocket.TextMessage, f); err != nil {
				b.dropSub(s)
				return
			}
		}
	}
}

// readLoop reads (and discards) what the client sends, so control frames
// are answered and a closed connection is noticed.
func (b *Backend) readLoop(s *subscriber) {
	defer b.subsWG.Done()
	for {
		if _, _, err := s.conn.ReadMessage(); err != nil {
			b.dropSub(s)
			return
		}
	}
}

func (b *Backend) dropSub(s *subscriber) {
	b.mu.Lock()
	_, live := b.subs[s]
	delete(b.subs, s)
	conn := s.conn
	b.mu.Unlock()
	if live {
		close(s.done)
		if conn != nil {
			_ = conn.Close()
		}
	}
}

// dropLocked closes subscriber s at once, frames still queued included.
func (b *Backend) dropLocked(s *subscriber) {
	delete(b.subs, s)
	close(s.done)
	if s.conn != nil {
		go s.conn.Close()
	}
}

// Websockets returns how many async websockets are open.
func (b *Backend) Websockets() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}

// DropWebsockets closes every async websocket abruptly, as a network
// failure would.
func (b *Backend) DropWebsockets() {
	b.mu.Lock()
	subs := make([]*subscriber, 0, len(b.subs))
	for s := range b.subs {
		subs = append(subs, s)
	}
	b.mu.Unlock()
	for _, s := range subs {
		b.dropSub(s)
	}
}

// Close closes every websocket and stops the backend's timer.
func (b *Backend) Close() {
	b.mu.Lock()
	b.closed = true
	if b.timer != nil {
		b.timer.Stop()
		b.timer = nil
	}
	b.mu.Unlock()
	b.DropWebsockets()
	b.subsWG.Wait()
}

// publishLocked sends a frame to every websocket of owner; obj appends
// the resource's encoded document to a buffer (nil: the resource is gone).
func (b *Backend) publishLocked(owner, kind, uuid string, obj func(buf []byte) ([]byte, error)) {
	if len(b.subs) == 0 {
		return
	}
	var frame []byte
	for s := range b.subs {
		if s.user != owner {
			continue
		}
		if frame == nil {
			var err error
			if frame, err = appendFrame(make([]byte, 0, 1024), kind, uuid, obj); err != nil {
				return
			}
		}
		if b.env.Faults.Take(FaultDropWebsocket) {
			b.dropLocked(s) // the change happened; its frame is lost
			continue
		}
		select {
		case s.send <- frame:
		default: // too slow: drop it, as a server drops a stuck client
			b.dropLocked(s)
		}
	}
}

// noteKey names a resource in a batch of notes.
type noteKey struct{ kind, uuid string }

// note is one frame to send: a resource that changed.
type note struct {
	owner, kind, uuid string
}

// noteLocked sends the frame of a changed resource now, or, while an
// instant's changes are applied, once when they all are.
func (b *Backend) noteLocked(owner, kind, uuid string) {
	if len(b.subs) == 0 {
		return
	}
	if b.batch != nil {
		// The frame goes out once, in the place of the resource's last
		// change: a job after the children that moved it.
		b.batch[noteKey{kind, uuid}] = len(b.batchOrder)
		b.batchOrder = append(b.batchOrder, note{owner, kind, uuid})
		return
	}
	b.sendNoteLocked(note{owner, kind, uuid})
}

func (b *Backend) sendNoteLocked(n note) {
	switch n.kind {
	case "drives":
		if d := b.drives[n.uuid]; d != nil {
			b.publishLocked(n.owner, n.kind, n.uuid, func(buf []byte) ([]byte, error) { return appendDoc(buf, b.driveDoc(d), nil) })
			return
		}
	case "servers":
		if s := b.servers[n.uuid]; s != nil {
			b.publishLocked(n.owner, n.kind, n.uuid, func(buf []byte) ([]byte, error) { return appendDoc(buf, b.serverDoc(s), nil) })
			return
		}
	case "jobs":
		if j := b.jobs[n.uuid]; j != nil {
			b.publishLocked(n.owner, n.kind, n.uuid, func(buf []byte) ([]byte, error) { return b.appendJob(buf, j, b.now(), 0) })
			return
		}
	}
	b.publishLocked(n.owner, n.kind, n.uuid, nil) // gone
}

// flushLocked sends the frames an instant's changes collected.
func (b *Backend) flushLocked() {
	notes, last := b.batchOrder, b.batch
	b.batch, b.batchOrder = nil, nil
	for i, n := range notes {
		if last[noteKey{n.kind, n.uuid}] == i {
			b.sendNoteLocked(n)
		}
	}
}

func (b *Backend) notifyDriveLocked(d *drive) { b.noteLocked(d.owner, "drives", d.uuid) }

func (b *Backend) notifyServerLocked(s *server) { b.noteLocked(s.owner, "servers", s.uuid) }

func (b *Backend) notifyJobLocked(j *job) { b.noteLocked(j.owner, "jobs", j.uuid) }

func (b *Backend) notifyGoneLocked(kind, owner, uuid string) { b.noteLocked(owner, kind, uuid) }

// ParseFrame decodes one websocket frame; it refuses a frame without a
// resource_type or resource_uri.
func ParseFrame(data []byte) (Frame, error) {
	var f Frame
	if err := json.Unmarshal(data, &f); err != nil {
		return Frame{}, err
	}
	if f.ResourceType == "" || !strings.HasPrefix(f.ResourceURI, "/") {
		return Frame{}, fmt.Errorf("fake cloudsigma: frame without resource_type or resource_uri: %.80q", data)
	}
	return f, nil
}
