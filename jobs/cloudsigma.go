package jobs

// The CloudSigma API 2.0 dialect's plumbing lives in this package, next to
// the /jobs/ service, because drives and servers import jobs anyway (for
// Wait and the Job tree): the client constructor, the error decoder and the
// shared wire pieces (CloudSigmaRef, CloudSigmaTime, CloudSigmaMeta) are
// reachable from all three without an import cycle and without a fourth
// public package.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/longrun/longrun/internal/wire"
	"github.com/longrun/longrun/rest"
)

// CloudSigmaURL returns the API base URL of a CloudSigma location, such as
// "zrh" or "wdc": https://zrh.cloudsigma.com/api/2.0/.
func CloudSigmaURL(location string) string {
	return "https://" + location + ".cloudsigma.com/api/2.0/"
}

// NewCloudSigmaClient returns a *rest.Client for CloudSigma API 2.0 at
// baseURL, authenticating with HTTP Basic (the account's email and
// password) and decoding CloudSigma's error lists into *rest.APIError. A
// baseURL with no path (http://127.0.0.1:8088) gets /api/2.0/ appended. It
// never touches the network; opts are applied after the defaults.
func NewCloudSigmaClient(baseURL, email, password string, opts ...rest.Option) (*rest.Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("cloudsigma: base URL: %w", err)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/api/2.0/"
	}
	all := []rest.Option{
		rest.WithBasicAuth(email, password),
		rest.WithErrorDecoder(DecodeCloudSigmaError),
		rest.WithUserAgent("longrun-go (cloudsigma)"),
	}
	return rest.New(u.String(), append(all, opts...)...)
}

// CloudSigmaError is one entry of the error list CloudSigma answers with:
// [{"error_point": ..., "error_type": ..., "error_message": ...}].
type CloudSigmaError struct {
	// Point is the field or place the error is about; nil when the server
	// sent null.
	Point *string `json:"error_point"`
	// Type is validation, notexist, backend, permission, database,
	// concurrency, billing or payment.
	Type string `json:"error_type"`
	// Message is the server's description.
	Message string `json:"error_message"`
	// Extra holds members longrun does not model.
	Extra map[string]json.RawMessage `json:"-"`

	keys wire.Keys
}

type errorAlias struct {
	Point   *string `json:"error_point"`
	Type    string  `json:"error_type"`
	Message string  `json:"error_message"`
}

// UnmarshalJSON keeps unknown members.
func (e *CloudSigmaError) UnmarshalJSON(b []byte) error {
	var a errorAlias
	extra, keys, err := wire.Decode(b, &a)
	if err != nil {
		return err
	}
	*e = CloudSigmaError{Point: a.Point, Type: a.Type, Message: a.Message, Extra: extra, keys: keys}
	return nil
}

// MarshalJSON writes every member back (error_point as null when unset,
// since CloudSigma always sends it).
func (e CloudSigmaError) MarshalJSON() ([]byte, error) {
	keys := e.keys
	if keys == nil {
		keys = wire.Keys{"error_point", "error_type", "error_message"}
	}
	return wire.Encode(errorAlias{e.Point, e.Type, e.Message}, e.Extra, keys)
}

// The CloudSigma error types (errors.rst).
const (
	CloudSigmaErrValidation  = "validation"
	CloudSigmaErrNotExist    = "notexist"
	CloudSigmaErrBackend     = "backend"
	CloudSigmaErrPermission  = "permission"
	CloudSigmaErrDatabase    = "database"
	CloudSigmaErrConcurrency = "concurrency"
	CloudSigmaErrBilling     = "billing"
	CloudSigmaErrPayment     = "payment"
)

// DecodeCloudSigmaErrors reads a CloudSigma error body: a JSON list of
// error objects (or, leniently, one object). Entries that are not objects
// are skipped. It never panics; a body that is no such JSON gives an error
// wrapping ErrMalformed.
func DecodeCloudSigmaErrors(body []byte) ([]CloudSigmaError, error) {
	if err := wire.Depth(body, 64); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	var items []json.RawMessage
	if err := json.Unmarshal(body, &items); err != nil {
		var one CloudSigmaError
		if err2 := json.Unmarshal(body, &one); err2 != nil || (one.Type == "" && one.Message == "") {
			return nil, fmt.Errorf("%w: error body: %v", ErrMalformed, err)
		}
		return []CloudSigmaError{one}, nil
	}
	out := make([]CloudSigmaError, 0, len(items))
	for _, it := range items {
		var e CloudSigmaError
		if json.Unmarshal(it, &e) == nil && (e.Type != "" || e.Message != "" || e.Point != nil) {
			out = append(out, e)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: error body holds no error objects", ErrMalformed)
	}
	return out, nil
}

// DecodeCloudSigmaError is the rest.ErrorDecoder for CloudSigma: it sets
// e.Type to the first error's error_type, e.Message to the errors'
// messages (each prefixed by its error_point when there is one), and
// e.Details to the []CloudSigmaError. A body it cannot read leaves e as it
// is.
func DecodeCloudSigmaError(e *rest.APIError, body []byte) {
	errs, err := DecodeCloudSigmaErrors(body)
	if err != nil {
		return
	}
	msgs := make([]string, 0, len(errs))
	for _, x := range errs {
		m := x.Message
		if x.Point != nil && *x.Point != "" {
			m = *x.Point + ": " + m
		}
		msgs = append(msgs, m)
	}
	e.Type = errs[0].Type
	e.Message = strings.Join(msgs, "; ")
	e.Details = errs
}

// CloudSigmaErrors returns the CloudSigma error list carried by err (a
// *rest.APIError from a client built by NewCloudSigmaClient), or nil.
func CloudSigmaErrors(err error) []CloudSigmaError {
	var ae *rest.APIError
	if errors.As(err, &ae) {
		if d, ok := ae.Details.([]CloudSigmaError); ok {
			return d
		}
	}
	return nil
}

// EscapeCloudSigmaFilter escapes one filter value so CloudSigma does not
// split it: a comma becomes \, and a backslash right before a comma or at
// the end is doubled (general.rst, Filtering).
func EscapeCloudSigmaFilter(v string) string {
	if !strings.ContainsAny(v, `,\`) {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == ',':
			b.WriteString(`\,`)
		case c == '\\' && (i+1 == len(v) || v[i+1] == ',' || v[i+1] == '\\'):
			b.WriteString(`\\`)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// JoinCloudSigmaFilter joins values into one OR filter value.
func JoinCloudSigmaFilter(values []string) string {
	esc := make([]string, len(values))
	for i, v := range values {
		esc[i] = EscapeCloudSigmaFilter(v)
	}
	return strings.Join(esc, ",")
}

// CloudSigmaListOptions are the query parameters of a CloudSigma list
// call. Several values in one filter are ORed; separate filters are ANDed.
type CloudSigmaListOptions struct {
	// Limit is the page size; 0 leaves the server's default (20).
	Limit int
	// NoLimit asks for every object in one response (limit=0).
	NoLimit bool
	// Offset is the zero-based index of the first object.
	Offset int
	// Fields restricts the members of each object (fields=uuid,status).
	Fields []string
	// OrderBy orders the list, such as "-last_modified".
	OrderBy string
	// Filters are the resource's GET filters, such as
	// {"state": {"started"}} or {"name__contains": {"db"}}.
	Filters map[string][]string
}

// Values renders the options as CloudSigma query parameters.
func (o *CloudSigmaListOptions) Values() url.Values {
	v := url.Values{}
	if o == nil {
		return v
	}
	switch {
	case o.NoLimit:
		v.Set("limit", "0")
	case o.Limit > 0:
		v.Set("limit", strconv.Itoa(o.Limit))
	}
	if o.Offset > 0 {
		v.Set("offset", strconv.Itoa(o.Offset))
	}
	if len(o.Fields) > 0 {
		v.Set("fields", strings.Join(o.Fields, ","))
	}
	if o.OrderBy != "" {
		v.Set("order_by", o.OrderBy)
	}
	for k, vals := range o.Filters {
		if len(vals) > 0 {
			v.Set(k, JoinCloudSigmaFilter(vals))
		}
	}
	return v
}

// CloudSigmaJobListOptions filter the /jobs/ list. CloudSigma's jobs
// schema lists only state as filterable; Operation and UUID are sent as
// operation= and uuid= (the uuid filter drives and servers document), which
// a server that keeps to the jobs schema refuses with a 400.
type CloudSigmaJobListOptions struct {
	CloudSigmaListOptions
	// State keeps jobs in any of these states ("started", "success").
	State []string
	// Operation keeps jobs doing any of these ("drive_clone").
	Operation []string
	// UUID keeps the jobs with these uuids.
	UUID []string
}

// Values renders the options as CloudSigma query parameters.
func (o *CloudSigmaJobListOptions) Values() url.Values {
	if o == nil {
		return url.Values{}
	}
	v := o.CloudSigmaListOptions.Values()
	if len(o.State) > 0 {
		v.Set("state", JoinCloudSigmaFilter(o.State))
	}
	if len(o.Operation) > 0 {
		v.Set("operation", JoinCloudSigmaFilter(o.Operation))
	}
	if len(o.UUID) > 0 {
		v.Set("uuid", JoinCloudSigmaFilter(o.UUID))
	}
	return v
}

// CloudSigma is the CloudSigma API 2.0 /jobs/ service. It is a Source:
// Fetch refreshes many jobs in one list call, and since CloudSigma nests
// every sub-job in full inside its parent, Wait follows a whole server
// clone tree with one request per poll round.
type CloudSigma struct {
	c        *rest.Client
	maxDepth int
	batch    int
	// mode is Fetch's strategy for several ids (modeUUID, modeStarted,
	// modeEach); it only ever moves down the list.
	mode atomic.Int32
}

// CloudSigmaOption tunes a CloudSigma service.
type CloudSigmaOption func(*CloudSigma)

// WithCloudSigmaMaxDepth bounds how many job levels a decoded document may
// nest (DefaultMaxDepth by default). Deeper documents end in an error
// wrapping ErrTooDeep.
func WithCloudSigmaMaxDepth(n int) CloudSigmaOption {
	return func(s *CloudSigma) { s.maxDepth = n }
}

// WithCloudSigmaBatch sets how many uuids one Fetch list call asks for (default
// 50, which keeps the URL near 2 KB); more ids take several calls.
func WithCloudSigmaBatch(n int) CloudSigmaOption {
	return func(s *CloudSigma) {
		if n > 0 {
			s.batch = n
		}
	}
}

// NewCloudSigma returns the jobs service over c (see NewCloudSigmaClient).
func NewCloudSigma(c *rest.Client, opts ...CloudSigmaOption) *CloudSigma {
	s := &CloudSigma{c: c, maxDepth: DefaultMaxDepth, batch: 50}
	for _, o := range opts {
		o(s)
	}
	if s.maxDepth <= 0 {
		s.maxDepth = DefaultMaxDepth
	}
	return s
}

// Client is the underlying REST client.
func (s *CloudSigma) Client() *rest.Client { return s.c }

// Get returns job uuid (GET /jobs/{uuid}/), with its children in full.
func (s *CloudSigma) Get(ctx context.Context, uuid string) (*CloudSigmaJob, error) {
	if uuid == "" {
		return nil, errors.New("cloudsigma: empty job uuid")
	}
	resp, err := s.c.Do(ctx, http.MethodGet, "jobs/"+url.PathEscape(uuid)+"/", nil, nil, nil)
	if err != nil {
		return nil, err
	}
	j, err := DecodeCloudSigmaJob(resp.Body, s.maxDepth)
	if err != nil {
		return nil, decodeErr(resp, err)
	}
	return j, nil
}

// List returns one page of /jobs/.
func (s *CloudSigma) List(ctx context.Context, opts *CloudSigmaJobListOptions) (*CloudSigmaJobList, error) {
	return s.list(ctx, "jobs/", opts.Values())
}

// ListDetail returns one page of /jobs/detail/ (the same full objects as
// /jobs/ for jobs).
func (s *CloudSigma) ListDetail(ctx context.Context, opts *CloudSigmaJobListOptions) (*CloudSigmaJobList, error) {
	return s.list(ctx, "jobs/detail/", opts.Values())
}

// All yields every job matching opts, page by page (opts.Limit per page,
// 20 when 0), starting at opts.Offset.
func (s *CloudSigma) All(ctx context.Context, opts *CloudSigmaJobListOptions) iter.Seq2[*CloudSigmaJob, error] {
	base := opts.Values()
	start := 0
	if opts != nil {
		start = opts.Offset
	}
	return rest.Paginate(ctx, start, func(ctx context.Context, offset int) (rest.Page[*CloudSigmaJob], error) {
		q := url.Values{}
		for k, v := range base {
			q[k] = v
		}
		q.Set("offset", strconv.Itoa(offset))
		l, err := s.list(ctx, "jobs/", q)
		if err != nil {
			return rest.Page[*CloudSigmaJob]{}, err
		}
		return rest.Page[*CloudSigmaJob]{Items: l.Objects, Next: NextOffset(l.Meta, len(l.Objects))}, nil
	})
}

// NextOffset returns the offset of the page after one described by meta
// holding n objects, or -1 when it was the last.
func NextOffset(meta CloudSigmaMeta, n int) int {
	next := meta.Offset + n
	if meta.Limit == 0 || n == 0 || next >= meta.TotalCount {
		return -1
	}
	return next
}

func (s *CloudSigma) list(ctx context.Context, path string, q url.Values) (*CloudSigmaJobList, error) {
	resp, err := s.c.Do(ctx, http.MethodGet, path, q, nil, nil)
	if err != nil {
		return nil, err
	}
	l, err := DecodeCloudSigmaJobList(resp.Body, s.maxDepth)
	if err != nil {
		return nil, decodeErr(resp, err)
	}
	return l, nil
}

func decodeErr(resp *rest.Response, err error) error {
	de := &rest.DecodeError{StatusCode: resp.StatusCode, RequestID: resp.RequestID, Err: err,
		Snippet: string(resp.Body[:min(len(resp.Body), 200)])}
	if resp.Request != nil {
		de.Method = resp.Request.Method
		de.URL = rest.RedactURL(resp.Request.URL)
	}
	return de
}

// Fetch makes CloudSigma a Source: it returns fresh snapshots of the jobs
// with the given uuids, children included. One uuid costs one GET
// /jobs/{uuid}/; several cost one GET /jobs/?uuid=a,b,c&limit=0 per batch
// of uuids. A uuid missing from a list answer is asked for on its own, so
// a job is left out only on the server's 404 (an unknown job, or one past
// CloudSigma's 3-day history).
//
// CloudSigma's jobs schema lists only state as filterable. If the server
// refuses the uuid filter (400) or ignores it, Fetch switches for good to
// the filter the schema documents: one GET /jobs/?state=started&limit=0
// for every running job, plus one GET per asked-for job that is no longer
// running (it just finished, failed, or is gone). Should that be refused
// too, it gets jobs one by one, four at a time.
func (s *CloudSigma) Fetch(ctx context.Context, ids ...string) ([]*Job, error) {
	want := make(map[string]bool, len(ids))
	uniq := make([]string, 0, len(ids))
	for _, id := range ids {
		if id != "" && !want[id] {
			want[id] = true
			uniq = append(uniq, id)
		}
	}
	switch {
	case len(uniq) == 0:
		return nil, nil
	case len(uniq) == 1 || s.mode.Load() == modeEach:
		return s.fetchEach(ctx, uniq)
	case s.mode.Load() == modeStarted:
		return s.fetchStarted(ctx, uniq)
	}
	out := make([]*Job, 0, len(uniq))
	for start := 0; start < len(uniq); start += s.batch {
		chunk := uniq[start:min(start+s.batch, len(uniq))]
		q := (&CloudSigmaJobListOptions{CloudSigmaListOptions: CloudSigmaListOptions{NoLimit: true}, UUID: chunk}).Values()
		l, err := s.list(ctx, "jobs/", q)
		if err != nil {
			var ae *rest.APIError
			if errors.As(err, &ae) && ae.StatusCode == http.StatusBadRequest {
				s.mode.CompareAndSwap(modeUUID, modeStarted)
				more, err := s.fetchStarted(ctx, uniq[start:])
				if err != nil {
					return nil, err
				}
				return append(out, more...), nil
			}
			return nil, err
		}
		got := map[string]bool{}
		out, err = s.collect(l, want, got, out)
		if err != nil {
			return nil, err
		}
		if len(l.Objects) > len(got) {
			// The server did not apply the uuid filter.
			s.mode.CompareAndSwap(modeUUID, modeStarted)
		}
		if out, err = s.fetchMissing(ctx, chunk, got, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Fetch strategies, from the cheapest.
const (
	modeUUID    = iota // GET /jobs/?uuid=a,b,c&limit=0
	modeStarted        // GET /jobs/?state=started&limit=0, then GETs
	modeEach           // one GET per job
)

// collect appends the asked-for jobs of l to out, noting them in got.
func (s *CloudSigma) collect(l *CloudSigmaJobList, want, got map[string]bool, out []*Job) ([]*Job, error) {
	for _, o := range l.Objects {
		if o == nil || !want[o.UUID] || got[o.UUID] {
			continue
		}
		got[o.UUID] = true
		j, err := o.ToJob(s.maxDepth)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, nil
}

// fetchMissing gets, one by one, the ids of ids not in got.
func (s *CloudSigma) fetchMissing(ctx context.Context, ids []string, got map[string]bool, out []*Job) ([]*Job, error) {
	var missing []string
	for _, id := range ids {
		if !got[id] {
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	more, err := s.fetchEach(ctx, missing)
	if err != nil {
		return nil, err
	}
	return append(out, more...), nil
}

// fetchStarted lists every running job and gets the other ids one by one.
func (s *CloudSigma) fetchStarted(ctx context.Context, ids []string) ([]*Job, error) {
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	q := (&CloudSigmaJobListOptions{CloudSigmaListOptions: CloudSigmaListOptions{NoLimit: true}, State: []string{"started"}}).Values()
	l, err := s.list(ctx, "jobs/", q)
	if err != nil {
		var ae *rest.APIError
		if errors.As(err, &ae) && ae.StatusCode == http.StatusBadRequest {
			s.mode.Store(modeEach)
			return s.fetchEach(ctx, ids)
		}
		return nil, err
	}
	got := map[string]bool{}
	out, err := s.collect(l, want, got, make([]*Job, 0, len(ids)))
	if err != nil {
		return nil, err
	}
	return s.fetchMissing(ctx, ids, got, out)
}

func (s *CloudSigma) fetchEach(ctx context.Context, ids []string) ([]*Job, error) {
	if len(ids) == 1 {
		w, err := s.Get(ctx, ids[0])
		if err != nil {
			if errors.Is(err, rest.ErrNotFound) {
				return nil, nil
			}
			return nil, err
		}
		j, err := w.ToJob(s.maxDepth)
		if err != nil {
			return nil, err
		}
		return []*Job{j}, nil
	}
	out := make([]*Job, len(ids))
	errs := make([]error, len(ids))
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			w, err := s.Get(ctx, id)
			if err != nil {
				if errors.Is(err, rest.ErrNotFound) {
					return
				}
				errs[i] = err
				return
			}
			out[i], errs[i] = w.ToJob(s.maxDepth)
		}()
	}
	wg.Wait()
	for _, e := range errs {
		if e != nil {
			return nil, e
		}
	}
	res := out[:0]
	for _, j := range out {
		if j != nil {
			res = append(res, j)
		}
	}
	return res, nil
}

var _ Source = (*CloudSigma)(nil)
