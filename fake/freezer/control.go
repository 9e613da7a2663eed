package freezer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/longrun/longrun/fake/sim"
)

// This file holds the hooks package fake's control API calls
// (RunningJobs, ForceJob, Seed).

// RunningJobs is how many jobs the agent has scheduled or is running.
func (b *Backend) RunningJobs() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, j := range b.jobs {
		if j.agent != agentStopped {
			n++
		}
	}
	return n
}

// ForceJob ends the agent's run of job id now, with result "success"
// (finish), "fail" (fail) or "aborted" (abort); a job only scheduled
// starts first, as if its time had come.
func (b *Backend) ForceJob(id, outcome string) error {
	b.mu.Lock()
	j := b.jobs[id]
	var st agentState
	if j != nil {
		st = j.agent
	}
	b.mu.Unlock()
	if j == nil {
		return fmt.Errorf("freezer job %s: %w", id, sim.ErrNoJob)
	}
	if st == agentStopped {
		return fmt.Errorf("freezer job %s has no scheduled or running run: %w", id, sim.ErrNotRunning)
	}
	if st == agentScheduled {
		b.run(id)
	}
	b.mu.Lock()
	if j.timer != nil {
		j.timer.Stop()
	}
	b.mu.Unlock()
	switch outcome {
	case sim.OutcomeFinish:
		b.finish(id, "success")
	case sim.OutcomeFail:
		b.finish(id, "fail")
	case sim.OutcomeAbort:
		b.finish(id, "aborted")
	default:
		return fmt.Errorf("freezer: unknown outcome %q: %w", outcome, sim.ErrUnsupported)
	}
	return nil
}

// SeedSection is the "freezer" section of a seed document: clients, jobs
// and sessions in freezer-api's own document shapes (the bodies of POST
// /v2/{project_id}/clients, jobs and sessions), each with an optional
// "user" key naming its owner ("admin" when absent), which is removed
// before the document is created. A job with a "job_id" is created under
// that id (as POST /v2/{project_id}/jobs/{job_id} does), one without gets
// a new id. Documents are created in the owner's project through the same
// paths the API's POSTs take, so their validation and key order apply.
type SeedSection struct {
	Clients  []json.RawMessage `json:"clients,omitempty"`
	Jobs     []json.RawMessage `json:"jobs,omitempty"`
	Sessions []json.RawMessage `json:"sessions,omitempty"`
}

// Seed creates what a seed document's "freezer" section lists: clients,
// then jobs, then sessions, each in order.
func (b *Backend) Seed(raw json.RawMessage) error {
	var sec SeedSection
	if err := sim.DecodeSection(raw, "freezer", &sec); err != nil {
		return err
	}
	for _, kind := range []struct {
		name string
		docs []json.RawMessage
	}{{"client", sec.Clients}, {"job", sec.Jobs}, {"session", sec.Sessions}} {
		for i, doc := range kind.docs {
			if err := b.seedOne(kind.name, doc); err != nil {
				return fmt.Errorf("freezer %s %d: %v: %w", kind.name, i, err, sim.ErrBadSeed)
			}
		}
	}
	return nil
}

// seedOne creates one seeded document of kind ("client", "job" or
// "session") by running it through the API's create handler.
func (b *Backend) seedOne(kind string, raw json.RawMessage) error {
	body, owner, jobID, err := splitSeedDoc(raw, kind == "job")
	if err != nil {
		return err
	}
	u, ok := b.env.Lookup(func(u sim.User) bool { return u.Name == owner })
	if !ok {
		return fmt.Errorf("no user %q", owner)
	}
	project := u.Project
	sc := scope{user: u, project: &project}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/v2/"+project+"/"+kind+"s", bytes.NewReader(body))
	switch {
	case kind == "client":
		b.serveClients(rec, req, sc, []string{"clients"})
	case kind == "session":
		b.serveSessions(rec, req, sc, []string{"sessions"})
	case jobID != "":
		b.mu.Lock()
		taken := b.jobs[jobID] != nil || b.gone["jobs/"+jobID]
		b.mu.Unlock()
		if taken {
			return fmt.Errorf("job_id %q is taken", jobID)
		}
		b.replace(rec, req, sc, jobID)
	default:
		b.create(rec, req, sc)
	}
	if rec.Code/100 == 2 {
		return nil
	}
	var fe struct {
		Title       string `json:"title"`
		Description string `json:"description"`
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &fe)
	msg := fe.Description
	if msg == "" {
		msg = fe.Title
	}
	if msg == "" {
		msg = strings.TrimSpace(rec.Body.String())
	}
	return fmt.Errorf("the API answers %d: %s", rec.Code, msg)
}

// splitSeedDoc returns a seeded document without its "user" key (and, for
// a job, without "job_id"), keeping the other keys' bytes and order, with
// the owner's name ("admin" when absent) and the job id.
func splitSeedDoc(raw json.RawMessage, job bool) (body []byte, owner, jobID string, err error) {
	owner = "admin"
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, "", "", errors.New("not a JSON object")
	}
	var out bytes.Buffer
	out.WriteByte('{')
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, "", "", err
		}
		key, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, "", "", err
		}
		switch {
		case key == "user":
			if err := json.Unmarshal(v, &owner); err != nil || owner == "" {
				return nil, "", "", errors.New(`"user" must be a user's name`)
			}
			continue
		case key == "job_id" && job:
			if err := json.Unmarshal(v, &jobID); err != nil || jobID == "" {
				return nil, "", "", errors.New(`"job_id" must be a non-empty string`)
			}
			continue
		}
		if out.Len() > 1 {
			out.WriteByte(',')
		}
		k, _ := json.Marshal(key)
		out.Write(k)
		out.WriteByte(':')
		out.Write(v)
	}
	out.WriteByte('}')
	return out.Bytes(), owner, jobID, nil
}
