package rpc

import (
	"context"
	"sync"
	"time"
)

// Subscription is a stream of collection_update events for one event
// name. Events arrive on C in order. The buffer holds WithEventBuffer
// events (default 256); a reader that falls further behind loses the
// subscription: C is closed and Err returns an *OverflowError
// (errors.Is ErrSubscriptionOverflow), never a silent gap.
//
// After a reconnect the Conn subscribes again under a new server id;
// events sent while the socket was down are not replayed.
type Subscription struct {
	collection string
	ch         chan Event

	mu       sync.Mutex
	serverID string
	closed   bool
	err      error
	c        *Conn
}

// Subscribe calls core.subscribe for name ("core.get_jobs", "*", any
// event source) and returns the stream.
func (c *Conn) Subscribe(ctx context.Context, name string) (*Subscription, error) {
	s := &Subscription{collection: name, ch: make(chan Event, c.cfg.eventBuffer), c: c}
	// Register first so no event between the reply and registration is lost.
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, ErrClosed
	}
	c.subs[s] = struct{}{}
	c.mu.Unlock()
	var id string
	if err := c.Call(ctx, "core.subscribe", []any{name}, &id); err != nil {
		c.mu.Lock()
		delete(c.subs, s)
		c.mu.Unlock()
		return nil, err
	}
	s.setServerID(id)
	return s, nil
}

// C is the event stream. It is closed when the subscription ends.
func (s *Subscription) C() <-chan Event { return s.ch }

// Collection is the subscribed event name.
func (s *Subscription) Collection() string { return s.collection }

// Err is why the stream ended: nil after Close, an *OverflowError, the
// server's notify_unsubscribed error, or the Conn's closing error.
func (s *Subscription) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func (s *Subscription) setServerID(id string) {
	s.mu.Lock()
	s.serverID = id
	s.mu.Unlock()
}

// deliver hands an event to the buffer; false means it overflowed and
// the subscription has ended.
func (s *Subscription) deliver(ev Event) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	select {
	case s.ch <- ev:
		return true
	default:
		s.closed = true
		s.err = &OverflowError{Collection: s.collection, Buffer: cap(s.ch)}
		close(s.ch)
		return false
	}
}

// end closes the stream with err.
func (s *Subscription) end(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	s.err = err
	close(s.ch)
}

// unsubscribeLater tells the server after an overflow.
func (s *Subscription) unsubscribeLater(c *Conn) {
	s.mu.Lock()
	id := s.serverID
	s.mu.Unlock()
	if id == "" {
		return
	}
	ctx, cancel := context.WithTimeout(c.life, 30*time.Second)
	defer cancel()
	_ = c.Call(ctx, "core.unsubscribe", []any{id}, nil)
}

// Close ends the subscription (core.unsubscribe) and closes C.
func (s *Subscription) Close(ctx context.Context) error {
	c := s.c
	c.mu.Lock()
	delete(c.subs, s)
	c.mu.Unlock()
	s.mu.Lock()
	id := s.serverID
	already := s.closed
	s.mu.Unlock()
	s.end(nil)
	if already || id == "" {
		return nil
	}
	return c.Call(ctx, "core.unsubscribe", []any{id}, nil)
}
