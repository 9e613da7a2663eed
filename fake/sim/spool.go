package sim

import (
	"bytes"
	"errors"
	"io"
	"os"
	"sync"
)

// DefaultSpoolMemory is how many bytes a Spool keeps in memory before it
// spills to a temporary file.
const DefaultSpoolMemory = 1 << 20

// ErrSpoolClosed is returned by a Spool used after Close.
var ErrSpoolClosed = errors.New("sim: spool closed")

// Spool holds the bytes of one uploaded or downloadable file: in memory
// while small, in a temporary file once it grows past its memory limit, so
// a fake that moves gigabytes keeps a small heap. Write appends; Open reads
// what was written so far, any number of times; Close frees the memory and
// removes the temporary file. The zero value is not usable: call NewSpool.
// A Spool is safe for concurrent use.
type Spool struct {
	mu     sync.Mutex
	limit  int64
	dir    string
	mem    bytes.Buffer
	file   *os.File
	size   int64
	closed bool
}

// NewSpool returns an empty spool that keeps up to memory bytes in memory
// (DefaultSpoolMemory when memory <= 0) and spills past that into a
// temporary file in dir (os.TempDir() when dir is empty).
func NewSpool(memory int64, dir string) *Spool {
	if memory <= 0 {
		memory = DefaultSpoolMemory
	}
	return &Spool{limit: memory, dir: dir}
}

// Write appends p.
func (s *Spool) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, ErrSpoolClosed
	}
	if s.file == nil && int64(s.mem.Len()+len(p)) > s.limit {
		f, err := os.CreateTemp(s.dir, "longrun-fake-spool-*")
		if err != nil {
			return 0, err
		}
		if _, err := f.Write(s.mem.Bytes()); err != nil {
			f.Close()
			os.Remove(f.Name())
			return 0, err
		}
		s.file = f
		s.mem = bytes.Buffer{}
	}
	if s.file != nil {
		n, err := s.file.WriteAt(p, s.size)
		s.size += int64(n)
		return n, err
	}
	n, _ := s.mem.Write(p)
	s.size += int64(n)
	return n, nil
}

// ReadFrom appends everything r yields, in chunks, never holding more than
// one chunk beyond the spool's own memory.
func (s *Spool) ReadFrom(r io.Reader) (int64, error) {
	buf := make([]byte, 64<<10)
	var total int64
	for {
		n, err := r.Read(buf)
		if n > 0 {
			w, werr := s.Write(buf[:n])
			total += int64(w)
			if werr != nil {
				return total, werr
			}
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// Size is how many bytes were written.
func (s *Spool) Size() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.size
}

// Spilled reports whether the spool lives in a temporary file.
func (s *Spool) Spilled() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.file != nil
}

// Open returns a reader over the bytes written so far (later writes are
// not seen). It suits http.ServeContent.
func (s *Spool) Open() (io.ReadSeeker, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrSpoolClosed
	}
	if s.file != nil {
		return io.NewSectionReader(s.file, 0, s.size), nil
	}
	return bytes.NewReader(s.mem.Bytes()[:s.size:s.size]), nil
}

// Bytes returns a copy of the content; meant for small spools and tests.
func (s *Spool) Bytes() ([]byte, error) {
	r, err := s.Open()
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

// Close frees the memory and removes the temporary file. Readers Open
// returned stop working. Close is idempotent.
func (s *Spool) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.mem = bytes.Buffer{}
	if s.file == nil {
		return nil
	}
	name := s.file.Name()
	err := s.file.Close()
	if rerr := os.Remove(name); err == nil {
		err = rerr
	}
	s.file = nil
	return err
}
