package cloudsigma

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/longrun/longrun/internal/wire"
	"github.com/longrun/longrun/jobs"
)

// Frame is one message of CloudSigma's async websocket (async.rst): the
// kind and URI of a resource that changed and, usually, the resource as it
// is now.
type Frame struct {
	// ResourceType is "drives", "servers", "jobs", ...
	ResourceType string `json:"resource_type"`
	// ResourceURI is the changed resource's URI (/api/2.0/jobs/<uuid>/).
	ResourceURI string `json:"resource_uri"`
	// Object is the resource in full, when the server sent it.
	Object json.RawMessage `json:"object,omitempty"`
}

// UUID is the last path segment of ResourceURI.
func (f *Frame) UUID() string {
	p := strings.TrimSuffix(f.ResourceURI, "/")
	return p[strings.LastIndexByte(p, '/')+1:]
}

// ParseFrame decodes one websocket message; it refuses one without a
// resource_type or resource_uri. Object is a slice of data, not a copy:
// a frame of a 100-disk clone's whole tree is read once.
func ParseFrame(data []byte) (*Frame, error) {
	sc := newScanner(data, 512, 0)
	var f Frame
	ok, err := sc.Object(func(kb []byte, esc bool) error {
		var err error
		switch wire.Key(kb, esc) {
		case "resource_type":
			f.ResourceType, err = sc.Str()
		case "resource_uri":
			f.ResourceURI, err = sc.Str()
		case "object":
			f.Object, err = sc.Skip()
		default:
			_, err = sc.Skip()
		}
		return err
	})
	if err == nil {
		err = sc.End()
	}
	if err != nil {
		return nil, fmt.Errorf("websocket frame: %w", err)
	}
	if !ok || f.ResourceType == "" || f.ResourceURI == "" {
		return nil, fmt.Errorf("%w: websocket frame without resource_type or resource_uri", ErrMalformed)
	}
	if string(f.Object) == "null" {
		f.Object = nil
	}
	return &f, nil
}

// AsyncCookie is the cookie POST /accounts/action/?do=authenticate_asynchronous
// sets; it admits one websocket connection for 2 minutes.
const AsyncCookie = "async_auth"

// redialPause is how long the hub waits after a failed connect before it
// tries again, so that waits on a server without the websocket poll
// without a login attempt each round.
const redialPause = 30 * time.Second

// subBuffer is how many frames a subscriber may lag behind before the hub
// drops it (its wait then reconciles with a fetch and subscribes again).
const subBuffer = 256

// hub is a client's one websocket, shared by every wait of the client.
type hub struct {
	c *Client

	mu        sync.Mutex
	conn      *websocket.Conn
	dialing   chan struct{} // closed when the current dial ends
	dialErr   error
	failedAt  time.Time
	subs      map[*sub]struct{}
	connects  int
	closed    bool
	readersWG sync.WaitGroup
}

type sub struct {
	kind string
	ch   chan *Frame
}

func newHub(c *Client) *hub { return &hub{c: c, subs: map[*sub]struct{}{}} }

// subscribe returns a subscription to the frames of kind. Its channel is
// closed when the websocket drops (or the hub closes); cancel ends it.
func (h *hub) subscribe(ctx context.Context, kind string) (*sub, func(), error) {
	// Register before dialing: the server may send a frame as soon as the
	// connection is up, and a frame with no subscriber is lost.
	s := &sub{kind: kind, ch: make(chan *Frame, subBuffer)}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil, nil, errors.New("cloudsigma: async websocket closed")
	}
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	cancel := func() {
		h.mu.Lock()
		if _, ok := h.subs[s]; ok {
			delete(h.subs, s)
			close(s.ch)
		}
		h.mu.Unlock()
	}
	if err := h.connect(ctx); err != nil {
		cancel()
		return nil, nil, err
	}
	return s, cancel, nil
}

// connect makes sure the websocket is open, dialing with a fresh cookie
// when it is not.
func (h *hub) connect(ctx context.Context) error {
	for {
		h.mu.Lock()
		switch {
		case h.closed:
			h.mu.Unlock()
			return errors.New("cloudsigma: client closed")
		case h.conn != nil:
			h.mu.Unlock()
			return nil
		case h.dialing != nil:
			ch := h.dialing
			h.mu.Unlock()
			select {
			case <-ch:
			case <-ctx.Done():
				return ctx.Err()
			}
			h.mu.Lock()
			err := h.dialErr
			h.mu.Unlock()
			if err != nil {
				return err
			}
			continue
		case h.dialErr != nil && h.c.opt.clock.Now().Sub(h.failedAt) < redialPause:
			err := h.dialErr
			h.mu.Unlock()
			return err
		}
		ch := make(chan struct{})
		h.dialing = ch
		h.mu.Unlock()

		conn, err := h.dial(ctx)

		h.mu.Lock()
		h.dialing = nil
		h.dialErr = err
		if err != nil {
			h.failedAt = h.c.opt.clock.Now()
		} else if h.closed {
			_ = conn.Close()
		} else {
			h.conn = conn
			h.connects++
			h.readersWG.Add(1)
			go h.read(conn)
		}
		h.mu.Unlock()
		close(ch)
		if err != nil {
			return err
		}
	}
}

// dial authenticates (POST /accounts/action/?do=authenticate_asynchronous)
// and opens /websocket with the async_auth cookie it got.
func (h *hub) dial(ctx context.Context) (*websocket.Conn, error) {
	resp, err := h.c.Do(ctx, http.MethodPost, "accounts/action/", url.Values{"do": {"authenticate_asynchronous"}}, struct{}{}, nil)
	if err != nil {
		return nil, fmt.Errorf("cloudsigma: async authentication: %w", err)
	}
	var cookie *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == AsyncCookie {
			cookie = ck
		}
	}
	if cookie == nil {
		return nil, fmt.Errorf("%w: authenticate_asynchronous set no %s cookie", ErrMalformed, AsyncCookie)
	}
	u := h.c.rest.BaseURL()
	u.Scheme = map[string]string{"https": "wss", "http": "ws"}[u.Scheme]
	u.Path = strings.TrimSuffix(u.Path, "/") + "/websocket"
	u.RawQuery, u.User = "", nil
	d := websocket.Dialer{Proxy: http.ProxyFromEnvironment, HandshakeTimeout: 30 * time.Second}
	if t, ok := h.c.rest.HTTPClient().Transport.(*http.Transport); ok {
		d.Proxy, d.NetDialContext, d.TLSClientConfig = t.Proxy, t.DialContext, t.TLSClientConfig
	}
	hdr := http.Header{"Cookie": {(&http.Cookie{Name: AsyncCookie, Value: cookie.Value}).String()}}
	conn, wresp, err := d.DialContext(ctx, u.String(), hdr)
	if wresp != nil && wresp.Body != nil {
		wresp.Body.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("cloudsigma: async websocket: %w", err)
	}
	if h.c.opt.logger != nil {
		h.c.opt.logger.DebugContext(ctx, "longrun: cloudsigma websocket open", "url", u.String())
	}
	return conn, nil
}

// read delivers frames until the connection breaks, then closes every
// subscription so that each wait reconciles with a fetch.
func (h *hub) read(conn *websocket.Conn) {
	defer h.readersWG.Done()
	for {
		_, data, err := conn.ReadMessage()
		if err != nil {
			h.drop(conn, err)
			return
		}
		f, err := ParseFrame(data)
		if err != nil {
			continue
		}
		h.mu.Lock()
		for s := range h.subs {
			if s.kind != "" && s.kind != f.ResourceType {
				continue
			}
			select {
			case s.ch <- f:
			default: // too far behind: drop it, it reconciles
				delete(h.subs, s)
				close(s.ch)
			}
		}
		h.mu.Unlock()
	}
}

func (h *hub) drop(conn *websocket.Conn, err error) {
	_ = conn.Close()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.conn != conn {
		return
	}
	h.conn = nil
	for s := range h.subs {
		close(s.ch)
	}
	clear(h.subs)
	if h.c.opt.logger != nil && !h.closed {
		h.c.opt.logger.Debug("longrun: cloudsigma websocket dropped", "error", err)
	}
}

func (h *hub) close() {
	h.mu.Lock()
	h.closed = true
	conn := h.conn
	h.mu.Unlock()
	if conn != nil {
		h.drop(conn, nil)
	}
	h.readersWG.Wait()
	h.mu.Lock()
	h.closed = false // the client stays usable: a later wait reconnects
	h.mu.Unlock()
}

// Connects reports how many times the client opened its async websocket
// (for tests and benchmarks: one per client, plus one per reconnect).
func (c *Client) Connects() int {
	if c.hub == nil {
		return 0
	}
	c.hub.mu.Lock()
	defer c.hub.mu.Unlock()
	return c.hub.connects
}

// Frames subscribes to the async websocket: every frame of one resource
// type ("drives", "servers" or "jobs"; "" for all), as the service sends
// it. The channel is closed when ctx ends, when the websocket drops, or
// when the reader falls more than a few hundred frames behind; subscribe
// again to reconnect (with a fresh cookie) and fetch what you follow to
// catch up on what the gap hid.
func (c *Client) Frames(ctx context.Context, resourceType string) (<-chan *Frame, error) {
	if c.hub == nil {
		return nil, errors.New("cloudsigma: push is off (WithoutPush)")
	}
	sb, cancel, err := c.hub.subscribe(ctx, resourceType)
	if err != nil {
		return nil, err
	}
	out := make(chan *Frame)
	go func() {
		defer close(out)
		defer cancel()
		for {
			select {
			case <-ctx.Done():
				return
			case f, ok := <-sb.ch:
				if !ok {
					return
				}
				select {
				case out <- f:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out, nil
}

// Changes makes the service a jobs.Pusher: it returns a channel that
// receives a fresh snapshot of job id's tree each time the async websocket
// reports a change of the job or of one of its sub-jobs (a frame for a
// sub-job is spliced into the last tree seen, so it costs no request). The
// channel is closed when ctx ends or the websocket drops; jobs.Wait then
// reconciles with a fetch and calls Changes again, which reconnects with a
// fresh cookie.
func (s *JobsService) Changes(ctx context.Context, id string) (<-chan *jobs.Job, error) {
	if s.c.hub == nil {
		return nil, errors.New("cloudsigma: push is off (WithoutPush)")
	}
	sb, cancel, err := s.c.hub.subscribe(ctx, "jobs")
	if err != nil {
		return nil, err
	}
	out := make(chan *jobs.Job, 1)
	go func() {
		defer close(out)
		defer cancel()
		var tree *Job
		for {
			var f *Frame
			var ok bool
			select {
			case <-ctx.Done():
				return
			case f, ok = <-sb.ch:
				if !ok {
					return
				}
			}
			// Take every frame already queued, and start from the last
			// one that carries the whole tree: a busy clone sends a frame
			// per step of each child and of the root, and only the newest
			// state matters.
			batch := []*Frame{f}
		drain:
			for len(batch) < subBuffer {
				select {
				case g, ok := <-sb.ch:
					if !ok {
						break drain
					}
					batch = append(batch, g)
				default:
					break drain
				}
			}
			for i := len(batch) - 1; i > 0; i-- {
				if batch[i].Object != nil && batch[i].UUID() == id {
					batch = batch[i:]
					break
				}
			}
			changed := false
			for _, f := range batch {
				next, err := s.apply(ctx, tree, id, f)
				if err != nil {
					return // the wait polls, and sees what broke
				}
				if next != nil {
					tree, changed = next, true
				}
			}
			if !changed {
				continue
			}
			snap := tree.ToJob()
			select { // keep only the newest snapshot
			case <-out:
			default:
			}
			out <- snap
		}
	}()
	return out, nil
}

// apply returns the tree after frame f, or nil when f does not touch it.
func (s *JobsService) apply(ctx context.Context, tree *Job, id string, f *Frame) (*Job, error) {
	uuid := f.UUID()
	if uuid == id {
		if f.Object == nil {
			return s.Get(ctx, id)
		}
		return DecodeJob(f.Object, s.c.opt.maxDepth)
	}
	if tree == nil {
		return nil, nil
	}
	var child *Job
	if f.Object != nil {
		c, err := DecodeJob(f.Object, s.c.opt.maxDepth)
		if err != nil {
			return nil, err
		}
		child = c
	}
	if child == nil {
		if !contains(tree, uuid, 0) {
			return nil, nil
		}
		return s.Get(ctx, id)
	}
	if next, ok := splice(tree, child, 0); ok {
		return next, nil
	}
	return nil, nil
}

func contains(j *Job, uuid string, depth int) bool {
	if j == nil || depth > toJobLimit {
		return false
	}
	for _, c := range j.Children {
		if c != nil && (c.UUID == uuid || contains(c, uuid, depth+1)) {
			return true
		}
	}
	return false
}

// splice returns a copy of tree with the descendant of child's uuid
// replaced, copying only the path to it.
func splice(tree, child *Job, depth int) (*Job, bool) {
	if tree == nil || depth > toJobLimit {
		return nil, false
	}
	for i, c := range tree.Children {
		if c == nil {
			continue
		}
		var repl *Job
		if c.UUID == child.UUID {
			repl = child
		} else if r, ok := splice(c, child, depth+1); ok {
			repl = r
		} else {
			continue
		}
		cp := *tree
		cp.Children = append([]*Job(nil), tree.Children...)
		cp.Children[i] = repl
		return &cp, true
	}
	return nil, false
}
