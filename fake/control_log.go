package fake

import (
	"bufio"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"time"
)

// Dialect names the control API and the request log use.
const (
	DialectCloudSigma = "cloudsigma"
	DialectTrueNAS    = "truenas"
	DialectFreezer    = "freezer"
	DialectKeystone   = "keystone"
	DialectFtrack     = "ftrack"
)

// Dialects lists every dialect name the control API takes.
func Dialects() []string {
	return []string{DialectCloudSigma, DialectTrueNAS, DialectFreezer, DialectKeystone, DialectFtrack}
}

// DialectOf names the dialect a request path belongs to, or "" for a path
// no backend serves.
func DialectOf(path string) string {
	switch {
	case strings.HasPrefix(path, "/api/2.0/"):
		return DialectCloudSigma
	case path == "/api/current", strings.HasPrefix(path, "/api/v"), path == "/websocket",
		path == "/_upload", strings.HasPrefix(path, "/_upload/"),
		path == "/_download", strings.HasPrefix(path, "/_download/"):
		return DialectTrueNAS
	case strings.HasPrefix(path, "/v1/"), strings.HasPrefix(path, "/v2/"):
		return DialectFreezer
	case path == "/v3", strings.HasPrefix(path, "/v3/"):
		return DialectKeystone
	case path == "/api", strings.HasPrefix(path, "/ftrack-fake/"), path == "/component/get":
		return DialectFtrack
	}
	return ""
}

// dialectPrefix is where a dialect's routes start, the default path of a
// fault scripted for it.
func dialectPrefix(d string) string {
	switch d {
	case DialectCloudSigma:
		return "/api/2.0/"
	case DialectTrueNAS:
		return "/api/current"
	case DialectFreezer:
		return "/v"
	case DialectKeystone:
		return "/v3"
	case DialectFtrack:
		return "/api"
	}
	return ""
}

// RequestRecord is one request as the request log keeps it.
type RequestRecord struct {
	// Seq numbers requests from 1 in arrival order (never reused, not even
	// by a reset), for asking only for newer ones.
	Seq uint64 `json:"seq"`
	// At is the fake clock's time when the request arrived.
	At      time.Time `json:"at"`
	Dialect string    `json:"dialect"`
	Method  string    `json:"method"`
	Path    string    `json:"path"`
	// Status is the reply's status code: 101 for a websocket, 0 when the
	// connection was cut before any status.
	Status int `json:"status"`
	// Elapsed is the wall time the request took.
	Elapsed time.Duration `json:"elapsed_ns"`
}

// requestLog is a bounded ring of RequestRecords.
type requestLog struct {
	mu   sync.Mutex
	max  int
	seq  uint64
	ring []RequestRecord
	head int // index of the oldest when full
}

func newRequestLog(n int) *requestLog { return &requestLog{max: n} }

func (l *requestLog) add(r RequestRecord) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.max == 0 {
		return
	}
	l.seq++
	r.Seq = l.seq
	if len(l.ring) < l.max {
		l.ring = append(l.ring, r)
		return
	}
	l.ring[l.head] = r
	l.head = (l.head + 1) % l.max
}

// list returns the records of dialect ("" all) with Seq > after, oldest first.
func (l *requestLog) list(dialect string, after uint64) []RequestRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := []RequestRecord{}
	for i := range l.ring {
		r := l.ring[(l.head+i)%len(l.ring)]
		if r.Seq > after && (dialect == "" || r.Dialect == dialect) {
			out = append(out, r)
		}
	}
	return out
}

func (l *requestLog) clear() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ring, l.head = nil, 0
}

// recorder notes the status a handler answers with, passing every
// optional interface (Flush, Hijack, deadlines through Unwrap) on.
type recorder struct {
	http.ResponseWriter
	status   int
	hijacked bool
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 || (r.status >= 100 && r.status < 200 && code >= 200) {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(p)
}

func (r *recorder) Flush() {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	_ = http.NewResponseController(r.ResponseWriter).Flush()
}

// Hijack hands the connection over (websocket upgrades); the request is
// logged as 101.
func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := http.NewResponseController(r.ResponseWriter).Hijack()
	if err == nil {
		// The connection outlives the request: no request's deadline
		// applies to it any more.
		_ = c.SetDeadline(time.Time{})
		r.hijacked = true
		if r.status == 0 {
			r.status = http.StatusSwitchingProtocols
		}
	}
	return c, rw, err
}

// Unwrap gives http.ResponseController the real writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *recorder) code() int {
	switch {
	case r.status > 0:
		return r.status
	case r.status < 0:
		return 0
	}
	return http.StatusOK // a handler that wrote nothing answers 200
}

func stack() []byte {
	buf := make([]byte, 64<<10)
	return buf[:runtime.Stack(buf, false)]
}
