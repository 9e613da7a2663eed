package rpc

import (
	"context"
	"net"
	"sync"

	"github.com/gorilla/websocket"
)

// batchConn lets the writer goroutine put every request that is waiting
// into one write system call: while a batch is open, frames are kept and
// written together at flush. Every write to the socket goes through mu,
// so a control frame (a ping) is never interleaved inside a batch.
type batchConn struct {
	net.Conn
	mu   sync.Mutex
	hold bool
	buf  []byte
}

// Write writes p, or keeps it for flush while a batch is open.
func (b *batchConn) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.hold {
		b.buf = append(b.buf, p...)
		return len(p), nil
	}
	return b.Conn.Write(p)
}

// begin opens a batch.
func (b *batchConn) begin() {
	b.mu.Lock()
	b.hold = true
	b.mu.Unlock()
}

// flush closes the batch and writes what it holds in one call.
func (b *batchConn) flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.hold = false
	if len(b.buf) == 0 {
		return nil
	}
	_, err := b.Conn.Write(b.buf)
	if cap(b.buf) > 1<<20 {
		b.buf = nil // do not keep a huge batch's buffer
	} else {
		b.buf = b.buf[:0]
	}
	return err
}

// batchingDialer is d with its network connection wrapped in a
// batchConn, which *out receives.
func batchingDialer(d *websocket.Dialer, out **batchConn) *websocket.Dialer {
	cp := *d
	inner := d.NetDialContext
	if inner == nil && d.NetDial != nil {
		nd := d.NetDial
		inner = func(_ context.Context, network, addr string) (net.Conn, error) { return nd(network, addr) }
	}
	if inner == nil {
		var nd net.Dialer
		inner = nd.DialContext
	}
	cp.NetDial = nil
	cp.NetDialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := inner(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		bc := &batchConn{Conn: c}
		*out = bc
		return bc, nil
	}
	return &cp
}
