package sim

import (
	"bufio"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Fault is one scripted misbehaviour of the fake's HTTP layer. A request
// matches when its method (empty: any) and path prefix (empty: any) match;
// the fault then applies Times times (0: forever) and is removed.
type Fault struct {
	// Dialect labels the fault for listing and for clearing one dialect's
	// faults (RemoveDialect); it takes no part in matching.
	Dialect    string
	Method     string
	PathPrefix string
	// Times is how many matching requests the fault applies to (0: all).
	Times int

	// Latency delays the reply by this much fake time (jumps ahead on an
	// auto clock; waits for Advance on a manual one).
	Latency time.Duration
	// Status, when set, answers with this status and Body instead of the
	// real handler; Header adds headers (for example Retry-After).
	Status int
	Body   string
	Header http.Header
	// Drop closes the connection without an answer.
	Drop bool
	// TruncateAfter, when positive, cuts the connection after this many
	// bytes of the real handler's response body.
	TruncateAfter int64
}

// Named faults are dialect-level misbehaviours a backend checks for by
// name (Take), such as a dropped websocket or duplicated events.
const (
	// FaultDropWebsocket closes a TrueNAS websocket after its next event.
	FaultDropWebsocket = "truenas.drop-websocket"
	// FaultDuplicateEvents sends every job event twice.
	FaultDuplicateEvents = "truenas.duplicate-events"
	// FaultReorderEvents holds each job event back and sends it after the next one.
	FaultReorderEvents = "truenas.reorder-events"
	// FaultSlowReplies delays each JSON-RPC reply by 1s of fake time.
	FaultSlowReplies = "truenas.slow-replies"
)

// Faults is the fake's table of scripted faults. The zero value is empty
// and ready to use.
type Faults struct {
	mu    sync.Mutex
	rules []*Fault
	named map[string]int // remaining count; <0 forever
}

// Add scripts a fault and returns it (so a test may Remove it).
func (f *Faults) Add(r Fault) *Fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := &r
	f.rules = append(f.rules, p)
	return p
}

// Remove takes a fault out of the table.
func (f *Faults) Remove(r *Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, x := range f.rules {
		if x == r {
			f.rules = append(f.rules[:i], f.rules[i+1:]...)
			return
		}
	}
}

// List returns a copy of the scripted faults, in match order, and the
// named faults still armed with their remaining counts (negative: forever).
func (f *Faults) List() ([]Fault, map[string]int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Fault, 0, len(f.rules))
	for _, r := range f.rules {
		c := *r
		c.Header = r.Header.Clone()
		out = append(out, c)
	}
	named := map[string]int{}
	for k, v := range f.named {
		if v != 0 {
			named[k] = v
		}
	}
	return out, named
}

// RemoveDialect takes every scripted fault labelled dialect out of the
// table, and every named fault whose name starts with dialect+"."; it
// returns how many went.
func (f *Faults) RemoveDialect(dialect string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	keep := f.rules[:0]
	for _, r := range f.rules {
		if r.Dialect == dialect {
			n++
			continue
		}
		keep = append(keep, r)
	}
	clear(f.rules[len(keep):])
	f.rules = keep
	for k := range f.named {
		if strings.HasPrefix(k, dialect+".") {
			delete(f.named, k)
			n++
		}
	}
	return n
}

// Reset clears every fault.
func (f *Faults) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules, f.named = nil, nil
}

// Inject arms a named fault for times uses (a negative times: forever).
func (f *Faults) Inject(name string, times int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.named == nil {
		f.named = map[string]int{}
	}
	f.named[name] = times
}

// Take reports whether the named fault is armed and uses it up once.
func (f *Faults) Take(name string) bool {
	if f == nil {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	n, ok := f.named[name]
	if !ok || n == 0 {
		return false
	}
	if n > 0 {
		f.named[name] = n - 1
	}
	return true
}

func (f *Faults) match(r *http.Request) *Fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, x := range f.rules {
		if x.Method != "" && !strings.EqualFold(x.Method, r.Method) {
			continue
		}
		if x.PathPrefix != "" && !strings.HasPrefix(r.URL.Path, x.PathPrefix) {
			continue
		}
		c := *x
		if x.Times > 0 {
			x.Times--
			if x.Times == 0 {
				f.rules = append(f.rules[:i], f.rules[i+1:]...)
			}
		}
		return &c
	}
	return nil
}

// Middleware applies the table to every request before next sees it.
func (f *Faults) Middleware(clk *Clock, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fault := f.match(r)
		if fault == nil {
			next.ServeHTTP(w, r)
			return
		}
		if fault.Latency > 0 && clk != nil {
			if err := clk.Sleep(r.Context(), fault.Latency); err != nil {
				return
			}
		}
		if fault.Drop {
			hijackClose(w)
			return
		}
		if fault.Status != 0 {
			for k, vs := range fault.Header {
				for _, v := range vs {
					w.Header().Add(k, v)
				}
			}
			if w.Header().Get("Content-Type") == "" && fault.Body != "" {
				w.Header().Set("Content-Type", "application/json")
			}
			w.WriteHeader(fault.Status)
			_, _ = w.Write([]byte(fault.Body))
			return
		}
		if fault.TruncateAfter > 0 {
			tw := &truncWriter{ResponseWriter: w, left: fault.TruncateAfter}
			next.ServeHTTP(tw, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func hijackClose(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			if tc, ok := conn.(*net.TCPConn); ok {
				_ = tc.SetLinger(0)
			}
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// truncWriter passes through left bytes of body, then pretends the peer
// went away.
type truncWriter struct {
	http.ResponseWriter
	left int64
	cut  bool
}

func (t *truncWriter) Write(p []byte) (int, error) {
	if t.cut {
		return 0, net.ErrClosed
	}
	if int64(len(p)) > t.left {
		_, _ = t.ResponseWriter.Write(p[:t.left])
		if f, ok := t.ResponseWriter.(http.Flusher); ok {
			f.Flush()
		}
		t.cut = true
		// Abort the handler; the server closes the connection mid-body.
		panic(http.ErrAbortHandler)
	}
	t.left -= int64(len(p))
	return t.ResponseWriter.Write(p)
}

func (t *truncWriter) Flush() {
	if f, ok := t.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Hijack lets websocket upgrades through a truncating writer.
func (t *truncWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(t.ResponseWriter).Hijack()
}

// Unwrap gives http.ResponseController the real writer (write deadlines,
// full-duplex), as a handler behind no fault would have it.
func (t *truncWriter) Unwrap() http.ResponseWriter { return t.ResponseWriter }
