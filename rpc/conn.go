// Package rpc speaks the TrueNAS middleware's JSON-RPC 2.0 websocket API:
// Dial with an API key, password or token; Call any method; Subscribe to
// collection_update events; and follow jobs (CallJob, GetJobs, Abort,
// JobWait) in both job-reply styles (25.10+ blocking job calls correlated
// by message_ids, and the 25.04 job-id reply).
//
// A *Conn is a jobs.Pusher, so jobs.Wait follows a TrueNAS job push-first
// over one shared core.get_jobs subscription per connection.
//
// The connection has one writer goroutine, one reader goroutine that never
// runs caller code, and a keepalive; request ids come from a counter
// starting at 1. When the websocket breaks, calls in flight fail with a
// *DisconnectedError and the Conn reconnects with jittered backoff: it
// logs in again, subscribes again and reconciles every job it follows
// with core.get_jobs, so a job that ended while the socket was down still
// completes its waits. Close ends every goroutine.
package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/longrun/longrun/internal/redact"
)

// Conn is a connection to the middleware. It is safe for concurrent use.
type Conn struct {
	cfg    options
	legacy bool   // the legacy /websocket protocol
	url    string // with secrets removed, for errors and logs
	rawURL string

	nextID atomic.Int64
	sem    chan struct{}

	mu       sync.Mutex
	cur      *generation // nil while disconnected
	ready    chan struct{}
	pending  map[int64]*pending
	subs     map[*Subscription]struct{}
	newStyle bool
	jobsSub  string // server id of the shared core.get_jobs subscription
	wantJobs bool
	closed   bool
	final    error // why the Conn stopped for good

	scramKeys scramKeys // derived once, for every reconnect

	subMu   sync.Mutex // serializes the core.get_jobs subscribe
	tracker *tracker

	writeCh chan writeReq
	lost    chan lostGen
	done    chan struct{}
	life    context.Context // ends at shutdown
	endLife context.CancelFunc
	wg      sync.WaitGroup
}

type generation struct {
	n    uint64
	ws   *websocket.Conn
	bc   *batchConn // nil when the dialer's connection could not be wrapped
	stop chan struct{}
	once sync.Once
	err  error // why it stopped; set before stop closes
}

func (g *generation) close() { g.fail(errors.New("websocket closed")) }

func (g *generation) fail(err error) {
	g.once.Do(func() {
		g.err = err
		close(g.stop)
		_ = g.ws.Close()
	})
}

// cause is why the generation stopped (valid once stop is closed).
func (g *generation) cause() error {
	<-g.stop
	return g.err
}

type writeReq struct {
	gen  uint64
	data []byte
}

type lostGen struct {
	gen uint64
	err error
}

type reply struct {
	f   *frame
	err error
}

type pending struct {
	ch     chan reply
	gen    uint64
	method string
	// job, when set, receives the reply instead of ch (CallJob).
	job *JobHandle
}

var genCounter atomic.Uint64

// Dial connects to the middleware at rawURL and logs in with the
// credentials given as options. ctx bounds the dial and the login only.
//
// rawURL is ws(s)://host/api/current or /api/vX.Y.Z (JSON-RPC 2.0),
// ws(s)://host/websocket (the legacy protocol of TrueNAS CORE 13 and
// SCALE up to 24.10, chosen as TrueNAS's own client chooses it: by a path
// ending in /websocket, or by WithProtocol), or http(s)://host, which
// means /api/current. On JSON-RPC, Dial first sets the job-reply style
// with core.set_options. No error ever shows a password, key or token
// the URL holds.
func Dial(ctx context.Context, rawURL string, opts ...Option) (*Conn, error) {
	cfg, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	u, err := normalizeURL(rawURL, cfg.protocol)
	if err != nil {
		return nil, err
	}
	legacy := cfg.protocol == ProtocolLegacy ||
		(cfg.protocol == ProtocolAuto && strings.HasSuffix(strings.TrimSuffix(u.Path, "/"), "/websocket"))
	c := &Conn{
		cfg:     cfg,
		legacy:  legacy,
		rawURL:  u.String(),
		url:     redact.URL(u),
		sem:     make(chan struct{}, cfg.maxInFlight),
		ready:   make(chan struct{}),
		pending: map[int64]*pending{},
		subs:    map[*Subscription]struct{}{},
		writeCh: make(chan writeReq),
		lost:    make(chan lostGen, 1),
		done:    make(chan struct{}),
	}
	c.life, c.endLife = context.WithCancel(context.Background())
	c.tracker = newTracker(c)
	if err := c.connect(ctx); err != nil {
		c.shutdown(err)
		return nil, err
	}
	c.wg.Add(2)
	go c.supervise()
	go c.tracker.run()
	return c, nil
}

func normalizeURL(raw string, p Protocol) (*url.URL, error) {
	// Errors name no part of the URL but its scheme: a URL that does not
	// parse, or an opaque one, can hold a secret anywhere.
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("rpc: url does not parse (control character, bad escape or bad host)")
	}
	switch u.Scheme {
	case "ws", "wss":
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	default:
		return nil, fmt.Errorf("rpc: url scheme must be ws, wss, http or https, not %q", redact.String(u.Scheme))
	}
	if u.Host == "" || u.Opaque != "" {
		return nil, errors.New("rpc: url has no host")
	}
	if u.Path == "" || u.Path == "/" {
		if p == ProtocolLegacy {
			u.Path = "/websocket"
		} else {
			u.Path = "/api/current"
		}
	}
	return u, nil
}

// Protocol is the protocol the Conn speaks.
func (c *Conn) Protocol() Protocol {
	if c.legacy {
		return ProtocolLegacy
	}
	return ProtocolJSONRPC
}

// URL is the endpoint, without secrets.
func (c *Conn) URL() string { return c.url }

// NewStyleJobs reports whether the server agreed to blocking job calls
// (core.set_options answered legacy_jobs false, 25.10+).
func (c *Conn) NewStyleJobs() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.newStyle
}

// connect dials a new websocket and brings it to ready: options, login,
// subscriptions. On success the Conn's calls flow through it.
func (c *Conn) connect(ctx context.Context) error {
	var bc *batchConn
	ws, resp, err := batchingDialer(c.cfg.dialer, &bc).DialContext(ctx, c.rawURL, c.cfg.header)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		msg := redact.Secret(redact.String(strings.ReplaceAll(err.Error(), c.rawURL, c.url)), c.cfg.auth.secret)
		if resp != nil {
			de := &DialError{URL: c.url, StatusCode: resp.StatusCode, Msg: msg}
			return de
		}
		return &DialError{URL: c.url, Msg: msg}
	}
	ws.SetReadLimit(c.cfg.readLimit)
	if c.legacy {
		if err := c.handshake(ctx, ws); err != nil {
			_ = ws.Close()
			return err
		}
	}
	g := &generation{n: genCounter.Add(1), ws: ws, bc: bc, stop: make(chan struct{})}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		_ = ws.Close()
		return ErrClosed
	}
	c.cur = g
	c.mu.Unlock()
	c.wg.Add(2)
	go c.readLoop(g)
	go c.writeLoop(g)
	if c.cfg.pingInterval > 0 {
		c.wg.Add(1)
		go c.pingLoop(g)
	}
	fail := func(err error) error {
		g.close()
		return err
	}
	newStyle, err := c.setOptions(ctx, g)
	if err != nil {
		return fail(err)
	}
	c.mu.Lock()
	c.newStyle = newStyle
	c.mu.Unlock()
	if err := c.login(ctx, g); err != nil {
		return fail(err)
	}
	if err := c.resubscribe(ctx, g); err != nil {
		return fail(err)
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return fail(ErrClosed)
	}
	close(c.ready)
	c.mu.Unlock()
	c.cfg.logger.Debug("longrun/rpc: connected", "url", c.url, "protocol", c.Protocol().String(), "new_style_jobs", newStyle)
	return nil
}

// setOptions calls core.set_options first, as the reference client does,
// and reports whether job calls block until the job ends (25.10+). The
// legacy protocol has no options: a job call answers its job id.
func (c *Conn) setOptions(ctx context.Context, g *generation) (bool, error) {
	if c.legacy {
		return false, nil
	}
	legacy := c.cfg.legacyJobs != nil && *c.cfg.legacyJobs
	var opts json.RawMessage
	err := c.callGen(ctx, g, "core.set_options", []any{map[string]any{"legacy_jobs": legacy}}, &opts)
	newStyle := false
	switch {
	case err == nil:
		var o struct {
			LegacyJobs *bool `json:"legacy_jobs"`
		}
		if json.Unmarshal(opts, &o) == nil && o.LegacyJobs != nil && !*o.LegacyJobs {
			newStyle = true
		}
	case errors.Is(err, ErrMethodNotFound):
		// An old server: job calls answer the job id.
	default:
		var rpcErr *Error
		if !errors.As(err, &rpcErr) {
			return false, err
		}
		c.cfg.logger.Warn("longrun/rpc: core.set_options failed; using legacy job replies", "error", err)
	}
	return newStyle, nil
}

// resubscribe subscribes the new websocket to everything the Conn had.
func (c *Conn) resubscribe(ctx context.Context, g *generation) error {
	c.mu.Lock()
	want := c.wantJobs
	subs := make([]*Subscription, 0, len(c.subs))
	for s := range c.subs {
		subs = append(subs, s)
	}
	c.mu.Unlock()
	if want {
		var id string
		if err := c.callGen(ctx, g, "core.subscribe", []any{collectionJobs}, &id); err != nil {
			return err
		}
		c.mu.Lock()
		c.jobsSub = id
		c.mu.Unlock()
	}
	for _, s := range subs {
		var id string
		if err := c.callGen(ctx, g, "core.subscribe", []any{s.collection}, &id); err != nil {
			s.end(err)
			continue
		}
		s.setServerID(id)
	}
	return nil
}

// supervise reconnects after each loss until Close.
func (c *Conn) supervise() {
	defer c.wg.Done()
	for {
		var l lostGen
		select {
		case <-c.done:
			return
		case l = <-c.lost:
		}
		c.mu.Lock()
		if c.cur == nil || c.cur.n != l.gen {
			c.mu.Unlock()
			continue
		}
		g := c.cur
		c.cur = nil
		c.jobsSub = ""
		c.ready = make(chan struct{})
		c.mu.Unlock()
		g.close()
		c.tracker.breakAll()
		cause := l.err
		c.cfg.logger.Warn("longrun/rpc: connection lost", "url", c.url, "error", cause)
		c.failPending(l.gen, cause)
		if !c.cfg.reconnect {
			c.shutdown(&DisconnectedError{Cause: cause})
			return
		}
		if !c.reconnect(cause) {
			return
		}
		c.tracker.reconcile()
	}
}

// reconnect retries connect with jittered exponential backoff. It
// returns false when the Conn ended (Close, or a refused login).
func (c *Conn) reconnect(cause error) bool {
	delay := time.Duration(0)
	for attempt := 0; ; attempt++ {
		if delay > 0 {
			select {
			case <-c.done:
				return false
			case <-c.cfg.clock.After(delay):
			}
		}
		err := c.connect(c.life)
		if err == nil {
			c.cfg.logger.Debug("longrun/rpc: reconnected", "url", c.url, "attempts", attempt+1)
			return true
		}
		if errors.Is(err, ErrClosed) {
			return false
		}
		var ae *AuthError
		if errors.As(err, &ae) {
			c.shutdown(err)
			return false
		}
		c.cfg.logger.Debug("longrun/rpc: reconnect failed", "url", c.url, "error", err)
		if delay == 0 {
			delay = c.cfg.backoffMin
		} else {
			delay = min(delay*2, c.cfg.backoffMax)
		}
		delay = delay/2 + time.Duration(rand.Int64N(int64(delay/2)+1))
	}
}

// failPending fails the calls sent on generation gen.
func (c *Conn) failPending(gen uint64, cause error) {
	c.mu.Lock()
	var failed []*pending
	for id, p := range c.pending {
		if p.gen == gen {
			delete(c.pending, id)
			failed = append(failed, p)
		}
	}
	c.mu.Unlock()
	for _, p := range failed {
		err := &DisconnectedError{Method: p.method, Cause: cause}
		if p.job != nil {
			p.job.replyLost(err)
			continue
		}
		p.ch <- reply{err: err}
	}
}

// shutdown ends the Conn for good with err.
func (c *Conn) shutdown(err error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.final = err
	g := c.cur
	c.cur = nil
	pend := c.pending
	c.pending = map[int64]*pending{}
	subs := c.subs
	c.subs = map[*Subscription]struct{}{}
	c.mu.Unlock()
	close(c.done)
	c.endLife()
	if g != nil {
		g.close()
	}
	for _, p := range pend {
		e := err
		if !errors.Is(e, ErrClosed) {
			e = &DisconnectedError{Method: p.method, Cause: err}
		}
		if p.job != nil {
			p.job.replyLost(e)
			continue
		}
		p.ch <- reply{err: e}
	}
	for s := range subs {
		s.end(err)
	}
	c.tracker.closeAll(err)
}

// Close closes the connection and waits for its goroutines to end.
// Calls and waits in progress fail with ErrClosed.
func (c *Conn) Close() error {
	c.mu.Lock()
	g := c.cur
	wasClosed := c.closed
	c.mu.Unlock()
	if !wasClosed && g != nil {
		_ = g.ws.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	}
	c.shutdown(ErrClosed)
	c.wg.Wait()
	return nil
}

func (c *Conn) readLoop(g *generation) {
	defer c.wg.Done()
	ws := g.ws
	timeout := c.cfg.pingTimeout
	if c.cfg.pingInterval > 0 && timeout > 0 {
		_ = ws.SetReadDeadline(time.Now().Add(timeout))
		ws.SetPongHandler(func(string) error {
			return ws.SetReadDeadline(time.Now().Add(timeout))
		})
	}
	// One buffer for every frame: decoding copies what it keeps.
	var buf bytes.Buffer
	for {
		mt, r, err := ws.NextReader()
		if err == nil {
			buf.Reset()
			_, err = buf.ReadFrom(r)
		}
		data := buf.Bytes()
		if err != nil {
			if errors.Is(err, websocket.ErrReadLimit) {
				err = &FrameTooLargeError{Limit: c.cfg.readLimit}
			}
			c.lose(g, err)
			return
		}
		if c.cfg.pingInterval > 0 && timeout > 0 {
			_ = ws.SetReadDeadline(time.Now().Add(timeout))
		}
		if mt != websocket.TextMessage {
			continue
		}
		c.dispatch(data)
		if buf.Cap() > 1<<20 {
			buf = bytes.Buffer{} // do not keep a huge frame's buffer
		}
	}
}

func (c *Conn) lose(g *generation, err error) {
	g.fail(err)
	select {
	case c.lost <- lostGen{g.n, err}:
	case <-c.done:
	}
}

// dispatch routes one frame. It runs on the reader goroutine and never
// blocks or calls caller code.
func (c *Conn) dispatch(data []byte) {
	var (
		f   *frame
		err error
	)
	if c.legacy {
		f, err = decodeLegacyFrame(data)
	} else {
		f, err = decodeFrame(data)
	}
	if err != nil {
		c.cfg.logger.Warn("longrun/rpc: dropping bad frame", "error", err)
		return
	}
	c.route(f)
}

// route hands a decoded frame to its call, subscription or job.
func (c *Conn) route(f *frame) {
	if id, ok := f.response(); ok {
		if id == 0 {
			if f.Error != nil && string(f.ID) == "null" {
				c.cfg.logger.Warn("longrun/rpc: connection-level error from server", "error", f.Error)
			}
			return
		}
		c.mu.Lock()
		p := c.pending[id]
		delete(c.pending, id)
		c.mu.Unlock()
		if p == nil {
			return
		}
		if f.Error != nil {
			f.Error.Method = p.method
		}
		if p.job != nil {
			p.job.onReply(f)
			return
		}
		p.ch <- reply{f: f}
		return
	}
	switch f.Method {
	case "ready":
		// Legacy: each sub the server accepted; the answer is its id.
		for _, id := range f.subs {
			str := strconv.FormatInt(id, 10)
			c.route(&frame{ID: json.RawMessage(str), Result: json.RawMessage(`"` + str + `"`)})
		}
	case "collection_update":
		ev := f.ev
		if ev == nil {
			var err error
			if ev, err = decodeEvent(f.Params); err != nil {
				c.cfg.logger.Warn("longrun/rpc: dropping bad event", "error", err)
				return
			}
		}
		if ev.Collection == collectionJobs {
			c.tracker.onEvent(ev)
		}
		c.mu.Lock()
		for s := range c.subs {
			if s.collection == ev.Collection || s.collection == "*" {
				if !s.deliver(*ev) {
					delete(c.subs, s)
					c.wg.Add(1)
					go func() {
						defer c.wg.Done()
						s.unsubscribeLater(c)
					}()
				}
			}
		}
		c.mu.Unlock()
	case "notify_unsubscribed":
		var u unsubscribed
		if f.unsub != nil {
			u = *f.unsub
		} else if json.Unmarshal(f.Params, &u) != nil {
			return
		}
		var err error = ErrUnsubscribed
		if u.Error != nil {
			err = &Error{Code: CodeMethodCallError, Message: "unsubscribed", Data: u.Error}
		}
		c.mu.Lock()
		for s := range c.subs {
			if s.collection == u.Collection {
				delete(c.subs, s)
				s.end(err)
			}
		}
		c.mu.Unlock()
	}
}

func (c *Conn) writeLoop(g *generation) {
	defer c.wg.Done()
	for {
		select {
		case <-g.stop:
			return
		case req := <-c.writeCh:
			// Every request already waiting goes out in the same write
			// system call (at most maxBatch frames).
			_ = g.ws.SetWriteDeadline(time.Now().Add(c.cfg.pingTimeout + 30*time.Second))
			if g.bc != nil {
				g.bc.begin()
			}
			err := c.writeReq(g, req)
		batch:
			for n := 1; err == nil && n < maxBatch; n++ {
				select {
				case req = <-c.writeCh:
					err = c.writeReq(g, req)
				default:
					break batch
				}
			}
			if g.bc != nil {
				if ferr := g.bc.flush(); err == nil {
					err = ferr
				}
			}
			if err != nil {
				c.lose(g, err)
				return
			}
		}
	}
}

// maxBatch bounds the frames of one write system call.
const maxBatch = 64

// writeReq writes one request frame (into the open batch).
func (c *Conn) writeReq(g *generation, req writeReq) error {
	if req.gen != g.n {
		// Sent for a socket that is gone; its call has failed.
		return nil
	}
	return g.ws.WriteMessage(websocket.TextMessage, req.data)
}

func (c *Conn) pingLoop(g *generation) {
	defer c.wg.Done()
	t := time.NewTicker(c.cfg.pingInterval)
	defer t.Stop()
	for {
		select {
		case <-g.stop:
			return
		case <-t.C:
			if err := g.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.cfg.pingTimeout)); err != nil {
				if !errors.Is(err, websocket.ErrCloseSent) && !errors.Is(err, net.ErrClosed) {
					c.lose(g, err)
				}
				return
			}
		}
	}
}

// waitReady returns the current generation once connected.
func (c *Conn) waitReady(ctx context.Context) (*generation, error) {
	for {
		c.mu.Lock()
		if c.closed {
			err := c.final
			c.mu.Unlock()
			if err == nil || errors.Is(err, ErrClosed) {
				return nil, ErrClosed
			}
			return nil, err
		}
		ready, g := c.ready, c.cur
		select {
		case <-ready:
			if g != nil {
				c.mu.Unlock()
				return g, nil
			}
		default:
		}
		c.mu.Unlock()
		select {
		case <-ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-c.done:
		}
	}
}

// Call calls method with positional params and decodes the result into
// result (which may be nil). A JSON-RPC error is returned as an *Error;
// a broken connection as a *DisconnectedError. When ctx ends first the
// call is forgotten (the server may still run it).
func (c *Conn) Call(ctx context.Context, method string, params []any, result any) error {
	if err := c.acquire(ctx); err != nil {
		return err
	}
	defer c.release()
	g, err := c.waitReady(ctx)
	if err != nil {
		return err
	}
	return c.callGen(ctx, g, method, params, result)
}

func (c *Conn) acquire(ctx context.Context) error {
	select {
	case c.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-c.done:
		return ErrClosed
	}
}

func (c *Conn) release() { <-c.sem }

// callGen sends one request on generation g and waits for its reply.
func (c *Conn) callGen(ctx context.Context, g *generation, method string, params []any, result any) error {
	p := &pending{ch: make(chan reply, 1), gen: g.n, method: method}
	id, err := c.send(ctx, g, method, params, p)
	if err != nil {
		return err
	}
	if c.legacy && method == "core.unsubscribe" {
		// unsub has no answer.
		c.forget(id)
		return nil
	}
	select {
	case r := <-p.ch:
		return decodeReply(method, r, result)
	case <-ctx.Done():
		c.forget(id)
		return ctx.Err()
	case <-g.stop:
		// The socket died; the supervisor may be busy reconnecting, so
		// do not wait for it to fail this call.
		c.forget(id)
		select {
		case r := <-p.ch:
			return decodeReply(method, r, result)
		default:
		}
		return &DisconnectedError{Method: method, Cause: g.cause()}
	}
}

func decodeReply(method string, r reply, result any) error {
	if r.err != nil {
		return r.err
	}
	if r.f.Error != nil {
		return r.f.Error
	}
	if result == nil {
		return nil
	}
	if err := json.Unmarshal(r.f.Result, result); err != nil {
		return fmt.Errorf("rpc: %s: decoding result: %w", method, err)
	}
	return nil
}

// send registers p under a new request id and writes the request.
func (c *Conn) send(ctx context.Context, g *generation, method string, params []any, p *pending) (int64, error) {
	id := c.nextID.Add(1)
	return id, c.sendID(ctx, g, id, method, params, p)
}

// sendID registers p under id and writes the request.
func (c *Conn) sendID(ctx context.Context, g *generation, id int64, method string, params []any, p *pending) error {
	if params == nil {
		params = []any{}
	}
	var (
		data []byte
		err  error
	)
	if c.legacy {
		data, err = legacyRequest(id, method, params)
	} else {
		data, err = json.Marshal(request{JSONRPC: "2.0", ID: id, Method: method, Params: params})
	}
	if err != nil {
		return fmt.Errorf("rpc: %s: encoding params: %w", method, err)
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	c.pending[id] = p
	c.mu.Unlock()
	select {
	case c.writeCh <- writeReq{gen: g.n, data: data}:
		return nil
	case <-g.stop:
		c.forget(id)
		return &DisconnectedError{Method: method, Cause: g.cause()}
	case <-ctx.Done():
		c.forget(id)
		return ctx.Err()
	case <-c.done:
		c.forget(id)
		return ErrClosed
	}
}

func (c *Conn) forget(id int64) {
	c.mu.Lock()
	delete(c.pending, id)
	c.mu.Unlock()
}

// Ping checks the connection end to end: the core.ping method on
// JSON-RPC, a ping message answered by pong on the legacy protocol.
func (c *Conn) Ping(ctx context.Context) error {
	method := "core.ping"
	if c.legacy {
		method = pingMethod
	}
	var pong string
	if err := c.Call(ctx, method, nil, &pong); err != nil {
		return err
	}
	if pong != "pong" {
		return &ProtocolError{Reason: fmt.Sprintf("core.ping answered %q", pong)}
	}
	return nil
}
