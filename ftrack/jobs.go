package ftrack

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"strconv"
	"strings"
	"time"

	"github.com/longrun/longrun/jobs"
	"github.com/longrun/longrun/rest"
)

// jobProjections are the attributes longrun asks for a Job.
const jobProjections = "id, status, type, data, user_id, created_at, finished_at"

// quoteEscaper escapes a query string literal; a Replacer is immutable once
// built and safe for concurrent use, and building one costs more than
// using it, so it is built once.
var quoteEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

// Quote renders s as a string literal of the query language: in double
// quotes, with backslashes and double quotes escaped.
func Quote(s string) string { return `"` + quoteEscaper.Replace(s) + `"` }

// QuoteTime renders t as a datetime literal: a quoted UTC ISO 8601 value.
func QuoteTime(t time.Time) string { return Quote(t.UTC().Format("2006-01-02T15:04:05")) }

// ListOptions select and order jobs for List and All. The zero value (or
// nil) lists every job the user may see, oldest first.
type ListOptions struct {
	// Status keeps jobs in any of these statuses.
	Status []Status
	// UserID keeps the jobs of one user; Username does the same by name.
	UserID   string
	Username string
	// IDs keeps these jobs.
	IDs []string
	// CreatedAfter and CreatedBefore bound created_at (exclusive).
	CreatedAfter  time.Time
	CreatedBefore time.Time
	// Where is a further criterion in the query language, and-ed with the
	// others, such as `type is "api_job"`.
	Where string
	// OrderBy is the attribute to order by (default created_at); the id
	// always follows to make paging stable. Descending reverses it.
	OrderBy    string
	Descending bool
	// PageSize is the limit of each page (default 100).
	PageSize int
	// Offset is where the first page starts.
	Offset int
}

// Expression builds the query without offset and limit, for example
// `select id, status, ... from Job where status in ("running") order by
// created_at descending, id`.
func (o ListOptions) Expression() string {
	var conds []string
	if len(o.Status) > 0 {
		qs := make([]string, len(o.Status))
		for i, st := range o.Status {
			qs[i] = Quote(string(st))
		}
		conds = append(conds, "status in ("+strings.Join(qs, ", ")+")")
	}
	if o.UserID != "" {
		conds = append(conds, "user_id is "+Quote(o.UserID))
	}
	if o.Username != "" {
		conds = append(conds, "user.username is "+Quote(o.Username))
	}
	if len(o.IDs) > 0 {
		conds = append(conds, inList("id", o.IDs))
	}
	if !o.CreatedAfter.IsZero() {
		conds = append(conds, "created_at > "+QuoteTime(o.CreatedAfter))
	}
	if !o.CreatedBefore.IsZero() {
		conds = append(conds, "created_at < "+QuoteTime(o.CreatedBefore))
	}
	if w := strings.TrimSpace(o.Where); w != "" {
		conds = append(conds, "("+w+")")
	}
	e := "select " + jobProjections + " from Job"
	if len(conds) > 0 {
		e += " where " + strings.Join(conds, " and ")
	}
	by := o.OrderBy
	if by == "" {
		by = "created_at"
	}
	e += " order by " + by
	if o.Descending {
		e += " descending"
	}
	if by != "id" {
		e += ", id"
	}
	return e
}

func inList(attr string, vals []string) string {
	qs := make([]string, len(vals))
	for i, v := range vals {
		qs[i] = Quote(v)
	}
	return attr + " in (" + strings.Join(qs, ", ") + ")"
}

// List returns one page of jobs: Items from opts.Offset, at most
// opts.PageSize (default 100) of them; More reports whether the server
// has more after them (metadata.next.offset), and Total is -1 (the server
// does not count).
func (s *Session) List(ctx context.Context, opts *ListOptions) (*jobs.Page[*Job], error) {
	var o ListOptions
	if opts != nil {
		o = *opts
	}
	size := o.PageSize
	if size <= 0 {
		size = 100
	}
	offset := max(o.Offset, 0)
	expr := o.Expression() + " offset " + strconv.Itoa(offset) + " limit " + strconv.Itoa(size)
	list, md, err := Query[*Job](ctx, s, expr)
	if err != nil {
		return nil, err
	}
	page := &jobs.Page[*Job]{Items: list, Offset: offset, Limit: size, Total: -1}
	if md.Next.Offset != nil {
		next := *md.Next.Offset
		if next <= offset || len(list) == 0 {
			return nil, fmt.Errorf("%w: next offset %d after %d jobs from %d", ErrMalformedResponse, next, len(list), offset)
		}
		page.More = true
	}
	return page, nil
}

// All iterates over every job opts selects, page by page, following
// metadata.next.offset until it is null. An error ends the iteration after
// it is yielded.
func (s *Session) All(ctx context.Context, opts *ListOptions) iter.Seq2[*Job, error] {
	var o ListOptions
	if opts != nil {
		o = *opts
	}
	return rest.Paginate(ctx, o.Offset, func(ctx context.Context, offset int) (*jobs.Page[*Job], error) {
		o.Offset = offset
		return s.List(ctx, &o)
	})
}

// CreateJobRequest is a new job. The zero value creates a running api_job
// for the session's user with no description.
type CreateJobRequest struct {
	// ID is the new job's id; a random uuid when empty.
	ID string
	// Status defaults to running (the server's own default is queued).
	Status Status
	// UserID is whose Jobs menu shows the job; the session's user when
	// empty (found with one query, once per session).
	UserID string
	// Description is shown in the web interface.
	Description string
	// Data are further keys of the job's data document.
	Data map[string]json.RawMessage
}

// CreateJob creates a job of type api_job and returns it as the server
// stored it.
func (s *Session) CreateJob(ctx context.Context, req CreateJobRequest) (*Job, error) {
	if req.ID == "" {
		req.ID = NewID()
	}
	if req.Status == "" {
		req.Status = StatusRunning
	}
	if req.UserID == "" {
		id, err := s.currentUserID(ctx)
		if err != nil {
			return nil, err
		}
		req.UserID = id
	}
	data := JobData{Description: req.Description, Extra: req.Data}.String()
	j := Job{ID: req.ID, Status: req.Status, Type: JobTypeAPI, Data: &data, UserID: req.UserID}
	if req.Status.Finished() {
		j.FinishedAt = NewDateTime(s.now())
	}
	return s.callJob(ctx, CreateOperation{EntityType: "Job", EntityKey: []string{req.ID}, EntityData: j})
}

// callJob sends op alone and decodes the Job the server answers.
func (s *Session) callJob(ctx context.Context, op Operation) (*Job, error) {
	res, err := s.Call(ctx, op)
	if err != nil {
		return nil, err
	}
	var out Job
	if err := res[0].Decode(&out); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetJob returns one job.
func (s *Session) GetJob(ctx context.Context, id string) (*Job, error) {
	list, _, err := Query[Job](ctx, s, "select "+jobProjections+" from Job where id is "+Quote(id))
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, &NotFoundError{EntityType: "Job", ID: id}
	}
	return &list[0], nil
}

// UpdateJobRequest changes a job; nil fields are left as they are.
type UpdateJobRequest struct {
	// Status is the new status; SetStatus also sets FinishedAt for done
	// and failed, UpdateJob does not.
	Status *Status
	// Description replaces the data document with {"description": ...}.
	Description *string
	// Data replaces the data string whole (wins over Description).
	Data *string
	// FinishedAt sets finished_at (sent in UTC).
	FinishedAt *time.Time
}

// UpdateJob applies req in one update operation and returns the job as the
// server answered it: the server echoes the id and the attributes the
// update changed, not the whole job (GetJob reads it whole).
func (s *Session) UpdateJob(ctx context.Context, id string, req UpdateJobRequest) (*Job, error) {
	data := map[string]any{}
	if req.Status != nil {
		data["status"] = *req.Status
	}
	if req.Description != nil {
		data["data"] = JobDataString(*req.Description)
	}
	if req.Data != nil {
		data["data"] = *req.Data
	}
	if req.FinishedAt != nil {
		data["finished_at"] = NewDateTime(*req.FinishedAt)
	}
	if len(data) == 0 {
		return s.GetJob(ctx, id)
	}
	return s.callJob(ctx, UpdateOperation{EntityType: "Job", EntityKey: []string{id}, EntityData: data})
}

// SetStatus sets a job's status and, when description is not empty, its
// description. Done and failed also set finished_at to now.
func (s *Session) SetStatus(ctx context.Context, id string, status Status, description string) (*Job, error) {
	req := UpdateJobRequest{Status: &status}
	if description != "" {
		req.Description = &description
	}
	if status.Finished() {
		t := s.now()
		req.FinishedAt = &t
	}
	return s.UpdateJob(ctx, id, req)
}

// SetDescription sets a job's description, as progress feedback such as
// "Exporting 42%".
func (s *Session) SetDescription(ctx context.Context, id, description string) (*Job, error) {
	return s.UpdateJob(ctx, id, UpdateJobRequest{Description: &description})
}

// DeleteJob deletes a job.
func (s *Session) DeleteJob(ctx context.Context, id string) error {
	_, err := s.Call(ctx, DeleteOperation{EntityType: "Job", EntityKey: []string{id}})
	return err
}

// Fetch implements jobs.Source: one query for all ids, in one round trip
// unless the server pages the answer (then Fetch follows
// metadata.next.offset). Done is succeeded, failed is failed, queued and
// running are themselves; a percentage in the description becomes the
// progress.
func (s *Session) Fetch(ctx context.Context, ids ...string) ([]*jobs.Job, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	out := make([]*jobs.Job, 0, len(ids))
	for j, err := range s.All(ctx, &ListOptions{IDs: ids, OrderBy: "id", PageSize: len(ids)}) {
		if err != nil {
			return nil, err
		}
		out = append(out, j.ToJob())
	}
	return out, nil
}

// ToJob converts the job to longrun's shared Job, whose Raw is the job's
// Raw (the entity as the server sent it).
func (j *Job) ToJob() *jobs.Job {
	n := &jobs.Job{ID: j.ID, Dialect: Dialect, Operation: j.Type, RawState: string(j.Status),
		Created: j.CreatedAt.Time, Updated: j.FinishedAt.Time, Raw: j.Raw}
	switch j.Status {
	case StatusQueued:
		n.State = jobs.StateQueued
	case StatusRunning:
		n.State = jobs.StateRunning
	case StatusDone:
		n.State = jobs.StateSucceeded
	case StatusFailed:
		n.State = jobs.StateFailed
	default:
		n.State = jobs.StateUnknown
	}
	desc := j.Description()
	n.Progress.Description = desc
	if p, ok := Percent(desc); ok {
		n.Progress.Percent, n.Progress.Known = p, true
	}
	if j.Status == StatusDone {
		n.Progress.Percent, n.Progress.Known = 100, true
	}
	if j.Status == StatusFailed {
		n.Message = desc
	}
	for _, jc := range j.JobComponents {
		n.Resources = append(n.Resources, jc.ComponentID)
	}
	return n
}

var _ jobs.Source = (*Session)(nil)

// Wait follows job id until it is done or failed; it is jobs.Wait on this
// session with the session's clock, which opts may override. A failed job
// is a *jobs.FailedError; when ctx ends first it returns a
// *jobs.TimeoutError holding the last job seen.
func (s *Session) Wait(ctx context.Context, id string, opts ...jobs.Option) (*jobs.Job, error) {
	return jobs.Wait(ctx, s, id, append([]jobs.Option{jobs.WithClock(s.clock)}, opts...)...)
}
