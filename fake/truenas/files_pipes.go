package truenas

import (
	"errors"
	"io"
	"sync"

	"github.com/longrun/longrun/fake/sim"
)

// This file holds the byte pipes between the fake's HTTP file endpoints
// and its jobs, with the real middleware's semantics (middlewared/pipe.py):
//
//   - unbuffered output (the default for core.download): an os.pipe, so
//     the job's writes block until the download reads them, and closing
//     the read side makes the next write fail with BrokenPipeError;
//   - buffered output: a temporary file, so writes never block and a
//     reader gets what was written so far, then EOF, even while the job
//     is still writing;
//   - inputs: one pipe per uploaded file part, read by the job in order.

// errBrokenPipe is what a job's write gets once the download side is gone
// (the start deadline passed, the client went away): the real job fails
// with this exception.
var errBrokenPipe = &Exception{Type: "BrokenPipeError", Message: "[Errno 32] Broken pipe"}

// outPipe is a job's output pipe.
type outPipe interface {
	io.Writer
	io.Reader
	// closeWrite ends the stream (the job ended): readers get EOF after
	// the data.
	closeWrite()
	// closeRead closes the reading side: the job's writes fail with err.
	closeRead(err error)
}

// syncPipe is an unbuffered output pipe.
type syncPipe struct {
	r *io.PipeReader
	w *io.PipeWriter
}

func newSyncPipe() *syncPipe {
	r, w := io.Pipe()
	return &syncPipe{r: r, w: w}
}

func (p *syncPipe) Write(b []byte) (int, error) { return p.w.Write(b) }
func (p *syncPipe) Read(b []byte) (int, error)  { return p.r.Read(b) }
func (p *syncPipe) closeWrite()                 { p.w.Close() }
func (p *syncPipe) closeRead(err error)         { p.r.CloseWithError(err) }

// filePipe is a buffered output pipe: the job writes to a spool (in
// memory while small, a temporary file beyond) that the download reads
// from its own offset. Closing the read side (the download ended, its
// BufferedDownloadKeep passed, the fake closed) removes the spool.
type filePipe struct {
	mu     sync.Mutex
	spool  *sim.Spool
	off    int64 // how far the download has read
	closed error // read side closed: writes fail
}

func newFilePipe(sp *sim.Spool) *filePipe { return &filePipe{spool: sp} }

func (p *filePipe) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed != nil {
		return 0, p.closed
	}
	n, err := p.spool.Write(b)
	if err != nil {
		return n, &Exception{Type: "OSError", Message: err.Error()}
	}
	return n, nil
}

// Read returns what has been written and not read yet, or EOF when the
// reader has caught up, whether or not the job has finished: that is how
// the middleware reads its buffered temporary file.
func (p *filePipe) Read(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed != nil {
		return 0, p.closed
	}
	if p.off >= p.spool.Size() {
		return 0, io.EOF
	}
	r, err := p.spool.Open()
	if err != nil {
		return 0, err
	}
	if _, err := r.Seek(p.off, io.SeekStart); err != nil {
		return 0, err
	}
	n, err := r.Read(b)
	p.off += int64(n)
	if n > 0 && err == io.EOF {
		err = nil
	}
	return n, err
}

// closeWrite does nothing: a reader of the temporary file cannot tell
// whether the writer has finished.
func (p *filePipe) closeWrite() {}

func (p *filePipe) closeRead(err error) {
	p.mu.Lock()
	if p.closed == nil {
		p.closed = err
	}
	p.mu.Unlock()
	_ = p.spool.Close()
}

// inputSet is a job's input pipes: one per uploaded file part. Reading
// the set itself reads the first pipe (job.pipes.input); the other pipes
// are reached with next.
type inputSet struct {
	mu      sync.Mutex
	pipes   []*io.PipeReader
	writers []*io.PipeWriter
	done    bool          // no more pipes will be added
	closed  error         // the job ended: writers fail with it
	changed chan struct{} // closed and replaced on every change
}

func newInputSet() *inputSet {
	s := &inputSet{changed: make(chan struct{})}
	s.add()
	return s
}

// Read reads the first input pipe.
func (s *inputSet) Read(b []byte) (int, error) {
	s.mu.Lock()
	r := s.pipes[0]
	s.mu.Unlock()
	return r.Read(b)
}

// add opens the next pipe and returns its writing end.
func (s *inputSet) add() *io.PipeWriter {
	r, w := io.Pipe()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed != nil {
		r.CloseWithError(s.closed)
	}
	s.pipes = append(s.pipes, r)
	s.writers = append(s.writers, w)
	s.signalLocked()
	return w
}

// last is the writing end of the newest pipe.
func (s *inputSet) last() *io.PipeWriter {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writers[len(s.writers)-1]
}

// finish says no more pipes will be added.
func (s *inputSet) finish() {
	s.mu.Lock()
	s.done = true
	s.signalLocked()
	s.mu.Unlock()
}

// close ends every pipe: the job is gone, the handler's writes fail.
func (s *inputSet) close(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed != nil {
		return
	}
	s.closed = err
	for _, r := range s.pipes {
		r.CloseWithError(err)
	}
	s.done = true
	s.signalLocked()
}

func (s *inputSet) signalLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// next returns input pipe i (0 is the first), waiting through wait until
// the handler adds it; nil when the upload had fewer parts.
func (s *inputSet) next(i int, wait func(<-chan struct{}) error) (io.Reader, error) {
	for {
		s.mu.Lock()
		if i < len(s.pipes) {
			r := s.pipes[i]
			s.mu.Unlock()
			return r, nil
		}
		if s.done {
			s.mu.Unlock()
			return nil, nil
		}
		ch := s.changed
		s.mu.Unlock()
		if err := wait(ch); err != nil {
			return nil, err
		}
	}
}

var errJobEnded = errors.New("job ended")
