package ftrack

import (
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Multipart limits, those of the S3 storage behind ftrack.server.
const (
	// MaxParts is the most parts one upload may have.
	MaxParts = 10000
	// MinPartSize is the smallest a part other than the last may be
	// (S3 answers EntityTooSmall when completing otherwise).
	MinPartSize = 5 << 20
)

// pendingUpload is an upload get_upload_metadata promised.
type pendingUpload struct {
	size     int64
	checksum string // base64 MD5, empty when not given
	fileName string
	expires  time.Time

	// multipart: the id complete_multipart_upload names, the number of
	// parts announced, and the parts received (guarded by Backend.mu).
	uploadID string
	numParts int
	parts    map[int]*storedPart
}

type storedPart struct {
	n    int
	path string
	size int64
	etag string // hex MD5
}

// storedFile is a component's bytes: one file, or the parts of a
// multipart upload in order (completing an upload moves no byte).
type storedFile struct {
	paths    []string
	size     int64
	md5      string // base64; computed when first asked for a multipart file
	fileName string
	ctype    string
}

func (f *storedFile) remove() {
	for _, p := range f.paths {
		_ = os.Remove(p)
	}
}

// open returns the file's bytes as one io.ReadSeeker, and what to close.
func (f *storedFile) open() (io.ReadSeeker, func(), error) {
	var files []*os.File
	closeAll := func() {
		for _, fh := range files {
			fh.Close()
		}
	}
	var sizes []int64
	for _, p := range f.paths {
		fh, err := os.Open(p)
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		files = append(files, fh)
		st, err := fh.Stat()
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		sizes = append(sizes, st.Size())
	}
	if len(files) == 1 {
		return files[0], closeAll, nil
	}
	return io.NewSectionReader(&multiFile{files: files, sizes: sizes}, 0, f.size), closeAll, nil
}

// checksum computes the base64 MD5 of the bytes.
func (f *storedFile) checksum() (string, error) {
	r, done, err := f.open()
	if err != nil {
		return "", err
	}
	defer done()
	h := md5.New()
	if _, err := io.Copy(h, r); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(h.Sum(nil)), nil
}

// multiFile reads files one after the other as one io.ReaderAt.
type multiFile struct {
	files []*os.File
	sizes []int64
}

// ReadAt reads from the file that holds off, and on into the next ones.
func (m *multiFile) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for i, f := range m.files {
		if len(p) == 0 {
			break
		}
		if off >= m.sizes[i] {
			off -= m.sizes[i]
			continue
		}
		k, err := f.ReadAt(p[:min(int64(len(p)), m.sizes[i]-off)], off)
		n += k
		p = p[k:]
		off = 0
		if err != nil && err != io.EOF {
			return n, err
		}
	}
	if len(p) > 0 {
		return n, io.EOF
	}
	return n, nil
}

func (b *Backend) sign(what string, expires int64) string {
	m := hmac.New(sha256.New, b.secret)
	fmt.Fprintf(m, "%s\n%d", what, expires)
	return hex.EncodeToString(m.Sum(nil))
}

// checkSignature verifies a signed URL's expires and signature.
func (b *Backend) checkSignature(q url.Values, what string) (code, msg string) {
	exp, err := strconv.ParseInt(q.Get("expires"), 10, 64)
	if err != nil || !hmac.Equal([]byte(b.sign(what, exp)), []byte(q.Get("signature"))) {
		return "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided."
	}
	if b.now().Unix() > exp {
		return "AccessDenied", "Request has expired"
	}
	return "", ""
}

func (b *Backend) uploadMetadata(tx *txn, op map[string]any, base string) (any, *apiError) {
	// The component need not exist yet: the reference Python client asks
	// for the upload URL before it commits the new FileComponent.
	id, _ := op["component_id"].(string)
	if id == "" {
		return nil, errValidation("get_upload_metadata needs a component_id.")
	}
	name, _ := op["file_name"].(string)
	sizeF, ok := op["file_size"].(float64)
	if !ok || sizeF < 0 || sizeF != float64(int64(sizeF)) || sizeF > 1<<50 {
		return nil, errValidation("file_size must be a non-negative integer.")
	}
	size := int64(sizeF)
	sum := ""
	switch cs := op["checksum"].(type) {
	case nil:
	case string:
		if raw, err := base64.StdEncoding.DecodeString(cs); err != nil || len(raw) != md5.Size {
			return nil, errValidation("checksum must be the base64 MD5 digest of the file.")
		}
		sum = cs
	default:
		return nil, errValidation("checksum must be a string or null.")
	}
	numParts := 0
	switch p := op["parts"].(type) {
	case nil:
	case float64:
		if p < 1 || p > MaxParts || p != float64(int(p)) {
			return nil, errValidation("parts must be an integer from 1 to %d.", MaxParts)
		}
		numParts = int(p)
	default:
		return nil, errValidation("parts must be an integer or null.")
	}
	exp := b.now().Add(UploadTTL)
	up := &pendingUpload{size: size, checksum: sum, fileName: name, expires: exp}
	q := url.Values{}
	q.Set("expires", strconv.FormatInt(exp.Unix(), 10))
	if numParts > 0 {
		up.uploadID, up.numParts, up.parts = newID(), numParts, map[int]*storedPart{}
		b.setUpload(tx, id, up)
		urls := make([]any, numParts)
		for n := 1; n <= numParts; n++ {
			q.Set("signature", b.sign(partWhat(id, up.uploadID, n), exp.Unix()))
			urls[n-1] = map[string]any{"part_number": n, "signed_url": fmt.Sprintf("%s/ftrack-fake/upload/%s/%s/%d?%s",
				base, url.PathEscape(id), up.uploadID, n, q.Encode())}
		}
		return map[string]any{"component_id": id, "upload_id": up.uploadID, "urls": urls}, nil
	}
	b.setUpload(tx, id, up)
	q.Set("signature", b.sign("put\n"+id, exp.Unix()))
	ctype := mime.TypeByExtension(filepath.Ext(name))
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	headers := map[string]any{"Content-Type": ctype, "Content-Length": strconv.FormatInt(size, 10)}
	if sum != "" {
		headers["Content-MD5"] = sum
	}
	return map[string]any{
		"url":          base + "/ftrack-fake/upload/" + url.PathEscape(id) + "?" + q.Encode(),
		"headers":      headers,
		"component_id": id,
	}, nil
}

func partWhat(id, uploadID string, n int) string {
	return "part\n" + id + "\n" + uploadID + "\n" + strconv.Itoa(n)
}

// s3Error writes a storage error in the XML shape of S3, which stands
// behind the real upload URLs.
func s3Error(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code><Message>%s</Message></Error>\n", code, msg)
}

// receive streams body into a new file in the backend's directory, at most
// max bytes (more is an error), and returns it with its MD5.
func (b *Backend) receive(body io.Reader, max int64) (path string, n int64, sum []byte, code string, err error) {
	b.mu.Lock()
	dir, derr := b.ensureDir()
	b.mu.Unlock()
	if derr != nil {
		return "", 0, nil, "InternalError", derr
	}
	f, err := os.CreateTemp(dir, "upload-*")
	if err != nil {
		return "", 0, nil, "InternalError", err
	}
	h := md5.New()
	n, err = io.Copy(io.MultiWriter(f, h), io.LimitReader(body, max+1))
	cerr := f.Close()
	if err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return "", 0, nil, "IncompleteBody", err
	}
	if n > max {
		_ = os.Remove(f.Name())
		return "", 0, nil, "EntityTooLarge", fmt.Errorf("the body is larger than %d bytes", max)
	}
	return f.Name(), n, h.Sum(nil), "", nil
}

func (b *Backend) serveUpload(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if code, msg := b.checkSignature(r.URL.Query(), "put\n"+id); code != "" {
		s3Error(w, http.StatusForbidden, code, msg)
		return
	}
	b.mu.RLock()
	up := b.uploads[id]
	b.mu.RUnlock()
	if up == nil || up.uploadID != "" {
		s3Error(w, http.StatusForbidden, "AccessDenied", "No upload is expected for this component.")
		return
	}
	if r.ContentLength >= 0 && r.ContentLength != up.size {
		s3Error(w, http.StatusBadRequest, "BadRequest", fmt.Sprintf("Content-Length %d does not match the signed size %d.", r.ContentLength, up.size))
		return
	}
	path, n, h, code, err := b.receive(r.Body, up.size)
	if err != nil {
		s3Error(w, http.StatusBadRequest, code, "The request body terminated unexpectedly: "+err.Error())
		return
	}
	fail := func(status int, code, msg string) {
		_ = os.Remove(path)
		s3Error(w, status, code, msg)
	}
	if n != up.size {
		fail(http.StatusBadRequest, "IncompleteBody", fmt.Sprintf("You did not provide the number of bytes specified by the Content-Length HTTP header (%d of %d).", n, up.size))
		return
	}
	sum := base64.StdEncoding.EncodeToString(h)
	if want := r.Header.Get("Content-MD5"); want != "" && want != sum {
		fail(http.StatusBadRequest, "BadDigest", "The Content-MD5 you specified did not match what we received.")
		return
	}
	if up.checksum != "" && up.checksum != sum {
		fail(http.StatusBadRequest, "BadDigest", "The Content-MD5 you specified did not match what we received.")
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.uploads[id] != up {
		fail(http.StatusConflict, "OperationAborted", "The component changed during the upload.")
		return
	}
	b.setFile(nil, id, &storedFile{paths: []string{path}, size: n, md5: sum, fileName: up.fileName, ctype: r.Header.Get("Content-Type")})
	delete(b.uploads, id)
	w.Header().Set("ETag", `"`+hex.EncodeToString(h)+`"`)
	w.WriteHeader(http.StatusOK)
}

// servePart receives one part of a multipart upload, as S3's UploadPart:
// 200 with the part's MD5 as ETag.
func (b *Backend) servePart(w http.ResponseWriter, r *http.Request) {
	id, uploadID := r.PathValue("id"), r.PathValue("upload")
	n, err := strconv.Atoi(r.PathValue("part"))
	if err != nil || n < 1 || n > MaxParts {
		s3Error(w, http.StatusBadRequest, "InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive.")
		return
	}
	if code, msg := b.checkSignature(r.URL.Query(), partWhat(id, uploadID, n)); code != "" {
		s3Error(w, http.StatusForbidden, code, msg)
		return
	}
	b.mu.RLock()
	up := b.uploads[id]
	b.mu.RUnlock()
	if up == nil || up.uploadID != uploadID || n > up.numParts {
		s3Error(w, http.StatusNotFound, "NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.")
		return
	}
	path, size, h, code, err := b.receive(r.Body, up.size)
	if err != nil {
		s3Error(w, http.StatusBadRequest, code, "The request body terminated unexpectedly: "+err.Error())
		return
	}
	if r.ContentLength >= 0 && r.ContentLength != size {
		_ = os.Remove(path)
		s3Error(w, http.StatusBadRequest, "IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header.")
		return
	}
	etag := hex.EncodeToString(h)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.uploads[id] != up {
		_ = os.Remove(path)
		s3Error(w, http.StatusNotFound, "NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.")
		return
	}
	if old := up.parts[n]; old != nil {
		_ = os.Remove(old.path)
	}
	up.parts[n] = &storedPart{n: n, path: path, size: size, etag: etag}
	w.Header().Set("ETag", `"`+etag+`"`)
	w.WriteHeader(http.StatusOK)
}

// completeMultipart is complete_multipart_upload: it checks the listed
// parts against those received, as S3's CompleteMultipartUpload does,
// joins them into the component's file and answers its URL. The joining
// runs without the lock.
func (b *Backend) completeMultipart(ctx context.Context, tx *txn, op map[string]any, base string) (any, *apiError) {
	id, _ := op["component_id"].(string)
	uploadID, _ := op["upload_id"].(string)
	list, ok := op["parts"].([]any)
	if id == "" || uploadID == "" || !ok || len(list) == 0 {
		return nil, errValidation("complete_multipart_upload needs component_id, upload_id and a non-empty list of parts.")
	}
	b.mu.RLock()
	up := b.uploads[id]
	var parts []*storedPart
	var aerr *apiError
	if up == nil || up.uploadID != uploadID {
		aerr = errServer("NoSuchUpload: the upload %q of component %q does not exist; it may have been completed or aborted.", uploadID, id)
	} else {
		prev := 0
		for i, p := range list {
			m, _ := p.(map[string]any)
			nf, _ := m["part_number"].(float64)
			etag, _ := m["e_tag"].(string)
			n := int(nf)
			if float64(n) != nf || n <= prev {
				aerr = errServer("InvalidPartOrder: the list of parts was not in ascending order (part %d).", i+1)
				break
			}
			prev = n
			sp := up.parts[n]
			if sp == nil || sp.etag != strings.Trim(etag, `"`) {
				aerr = errServer("InvalidPart: part %d was not uploaded or its e_tag %q does not match.", n, etag)
				break
			}
			if i < len(list)-1 && sp.size < MinPartSize {
				aerr = errServer("EntityTooSmall: part %d is %d bytes; every part but the last must be at least %d.", n, sp.size, MinPartSize)
				break
			}
			parts = append(parts, sp)
		}
	}
	b.mu.RUnlock()
	if aerr != nil {
		return nil, aerr
	}
	f := &storedFile{fileName: up.fileName, ctype: mime.TypeByExtension(filepath.Ext(up.fileName))}
	for _, p := range parts {
		f.paths = append(f.paths, p.path)
		f.size += p.size
	}
	if up.checksum != "" {
		// Read the parts without the lock; a part replaced meanwhile is
		// caught below.
		sum, err := f.checksum()
		if err != nil {
			return nil, errServer("NoSuchUpload: a part of the upload %q is gone.", uploadID)
		}
		if sum != up.checksum {
			return nil, errServer("BadDigest: the parts' MD5 %s does not match the checksum %s.", sum, up.checksum)
		}
		f.md5 = sum
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.uploads[id] != up {
		return nil, errServer("NoSuchUpload: the upload %q of component %q changed while it completed.", uploadID, id)
	}
	used := map[*storedPart]bool{}
	for _, p := range parts {
		if up.parts[p.n] != p {
			return nil, errServer("InvalidPart: part %d was uploaded again while the upload completed.", p.n)
		}
		used[p] = true
	}
	// The parts become the file: take them from the upload, so clearing
	// it removes none of them; a rollback gives them back.
	taken := up.parts
	up.parts = map[int]*storedPart{}
	b.setUpload(tx, id, nil)
	old := b.files[id]
	b.files[id] = f
	tx.undo = append(tx.undo, func() {
		if b.files[id] == f {
			if old != nil {
				b.files[id] = old
			} else {
				delete(b.files, id)
			}
			up.parts = taken
		}
	})
	tx.onCommit = append(tx.onCommit, func() {
		for _, p := range taken {
			if !used[p] {
				_ = os.Remove(p.path)
			}
		}
		if old != nil {
			old.remove()
		}
	})
	return map[string]any{"action": "complete_multipart_upload", "component_id": id, "url": b.signedDownloadURL(base, id)}, nil
}

// setFile installs a component's stored bytes and journals it: the file
// it replaces is removed when the batch commits, the new one if it rolls
// back.
func (b *Backend) setFile(tx *txn, id string, f *storedFile) {
	old := b.files[id]
	b.files[id] = f
	if tx == nil {
		if old != nil {
			old.remove()
		}
		return
	}
	tx.undo = append(tx.undo, func() {
		if b.files[id] == f {
			f.remove()
			if old != nil {
				b.files[id] = old
			} else {
				delete(b.files, id)
			}
		}
	})
	if old != nil {
		tx.onCommit = append(tx.onCommit, old.remove)
	}
}

// dropParts removes the files of an upload's received parts once the batch
// commits (at once without a batch).
func dropParts(tx *txn, up *pendingUpload) {
	if up == nil || len(up.parts) == 0 {
		return
	}
	drop := func() {
		for n, p := range up.parts {
			_ = os.Remove(p.path)
			delete(up.parts, n)
		}
	}
	if tx == nil {
		drop()
		return
	}
	tx.onCommit = append(tx.onCommit, drop)
}

func (b *Backend) ensureDir() (string, error) {
	if b.dir != "" {
		return b.dir, nil
	}
	d, err := os.MkdirTemp("", "longrun-ftrack-fake-")
	if err != nil {
		return "", err
	}
	b.dir = d
	return d, nil
}

// downloadAuth accepts a component URL that carries the user's api key
// (username, apiKey) or a signature (a computed url).
func (b *Backend) downloadAuth(q url.Values) bool {
	if q.Get("signature") != "" {
		code, _ := b.checkSignature(q, "get\n"+q.Get("id"))
		return code == ""
	}
	return b.authenticate(q.Get("username"), q.Get("apiKey"))
}

func (b *Backend) serveDownload(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if !b.downloadAuth(q) {
		writeJSON(w, http.StatusUnauthorized, &apiError{Exception: "InvalidCredentialsError", Content: invalidCredentialsContent})
		return
	}
	id := q.Get("id")
	b.mu.RLock()
	f := b.files[id]
	inServer := false
	for _, cl := range b.tables["ComponentLocation"] {
		if cl["resource_identifier"] == id && cl["location_id"] == ServerLocationID {
			inServer = true
			break
		}
	}
	var name string
	if c := b.tables["Component"][id]; c != nil {
		n, _ := c["name"].(string)
		ft, _ := c["file_type"].(string)
		name = n + ft
	}
	var rs io.ReadSeeker
	var done func()
	var err error
	if f != nil && inServer {
		// Open while the file cannot be replaced or removed.
		rs, done, err = f.open()
	}
	b.mu.RUnlock()
	if f == nil || !inServer {
		writeJSON(w, http.StatusNotFound, &apiError{Exception: "ServerError", Content: fmt.Sprintf("Component %q is not in the ftrack.server location.", id)})
		return
	}
	if err != nil {
		writeJSON(w, http.StatusNotFound, &apiError{Exception: "ServerError", Content: "The component's file is gone."})
		return
	}
	defer done()
	if name == "" {
		name = f.fileName
	}
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	if f.ctype != "" {
		w.Header().Set("Content-Type", f.ctype)
	}
	http.ServeContent(w, r, name, time.Time{}, rs)
}

// serveRemove is GET /component/remove?id=&username=&apiKey=, with which
// ftrack_api's server accessor removes a component's data from
// ftrack.server (it deletes the ComponentLocation itself afterwards).
func (b *Backend) serveRemove(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if !b.authenticate(q.Get("username"), q.Get("apiKey")) {
		writeJSON(w, http.StatusUnauthorized, &apiError{Exception: "InvalidCredentialsError", Content: invalidCredentialsContent})
		return
	}
	id := q.Get("id")
	b.mu.Lock()
	f := b.files[id]
	if f != nil {
		b.dropFile(nil, id)
	}
	b.mu.Unlock()
	if f == nil {
		writeJSON(w, http.StatusNotFound, &apiError{Exception: "ServerError", Content: fmt.Sprintf("Component %q has no data in the ftrack.server location.", id)})
		return
	}
	w.WriteHeader(http.StatusOK)
}

// partsOf lists the numbers of the parts received for a component's
// pending multipart upload (for tests).
func (b *Backend) partsOf(id string) []int {
	b.mu.RLock()
	defer b.mu.RUnlock()
	var out []int
	if up := b.uploads[id]; up != nil {
		for n := range up.parts {
			out = append(out, n)
		}
	}
	sort.Ints(out)
	return out
}
