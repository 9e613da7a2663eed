package upload

import "io"

// Progress is how far a transfer has come.
type Progress struct {
	// Op is "upload" or "download".
	Op string
	// Name is the file being transferred: the upload part's file name, or
	// the download's file name.
	Name string
	// Done is how many bytes of the whole transfer went through so far.
	Done int64
	// Total is the size of the whole transfer, or -1 when it is not known
	// (a reader of unknown size, a chunked download).
	Total int64
}

// Fraction is Done/Total in 0..1, or -1 when Total is not known.
func (p Progress) Fraction() float64 {
	if p.Total <= 0 {
		if p.Total == 0 {
			return 1
		}
		return -1
	}
	return min(float64(p.Done)/float64(p.Total), 1)
}

// ProgressFunc receives progress reports. It is called on the goroutine
// that moves the bytes, after each chunk (at most every 256 KiB), so it
// must be quick; it must not retain the Progress past the call.
type ProgressFunc func(Progress)

// ProgressReader wraps r and reports every read to fn, counting from 0 up
// to total (-1: unknown).
func ProgressReader(r io.Reader, name string, total int64, fn ProgressFunc) io.Reader {
	return &progressReader{r: r, p: Progress{Op: opUpload, Name: name, Total: total}, fn: fn}
}

type progressReader struct {
	r  io.Reader
	p  Progress
	fn ProgressFunc
}

func (pr *progressReader) Read(b []byte) (int, error) {
	n, err := pr.r.Read(b)
	if n > 0 {
		pr.p.Done += int64(n)
		if pr.fn != nil {
			pr.fn(pr.p)
		}
	}
	return n, err
}

// ProgressWriter wraps w and reports every write to fn, counting from 0 up
// to total (-1: unknown).
func ProgressWriter(w io.Writer, name string, total int64, fn ProgressFunc) io.Writer {
	return &progressWriter{w: w, p: Progress{Op: opDownload, Name: name, Total: total}, fn: fn}
}

type progressWriter struct {
	w  io.Writer
	p  Progress
	fn ProgressFunc
}

func (pw *progressWriter) Write(b []byte) (int, error) {
	n, err := pw.w.Write(b)
	if n > 0 {
		pw.p.Done += int64(n)
		if pw.fn != nil {
			pw.fn(pw.p)
		}
	}
	return n, err
}
