// Package freezer is longrun's client for OpenStack Freezer, over the rest
// transport: the v1 API (/v1/...) and the v2 API (/v2/{project_id}/...),
// as freezer-api serves them, for every resource: jobs, clients (the agents
// that run jobs), actions (the stored steps of jobs), sessions (jobs that
// start together) and backups (what a job produced).
//
// A Freezer job is a job_schedule (when it runs, and the agent's status and
// result) and a list of job_actions (what the freezer agent runs). Every
// resource lists the same way: List returns one page (a *jobs.Page, limit
// and offset, with a search document sent in the GET body as
// python-freezerclient sends it) and All iterates every page. The client
// gets, creates, patches (Update), replaces and deletes jobs and sends the
// start, stop and abort events (which freezer-api 13's SQL backend refuses
// on v1 jobs: 400 "None is not of type 'string'"); registers, lists and
// deletes clients; creates, patches and deletes actions; creates sessions,
// adds and removes their jobs, and starts and ends them (StartSession,
// EndSession); and lists, gets, records and deletes backups.
//
// Every not-found answer matches jobs.ErrNotFound and every refused token
// or password jobs.ErrUnauthorized; errors.As still finds the
// *rest.APIError with the server's title and description. Documents are validated against the server's own
// schema before any request, so a bad interval or date, an unknown enum
// word or job_schedule key, or a description longer than the documented 64
// bytes is a *ValidationError instead of a round trip.
//
// Auth is a Keystone token: one the caller has (WithToken), or one the
// client obtains from Keystone v3 with a password and renews
// (WithPassword). Tokens and passwords never appear in errors or logs.
//
// The client is a jobs.Source: Wait (or jobs.Wait) follows a job until the
// run a start event requested ends, and returns it as a *jobs.Job whose
// state is the run's result: success is succeeded, fail is failed (a
// *jobs.FailedError), aborted is aborted.
//
// Wire types keep every key they do not model, every null, and every
// modelled key whose value has another type than expected, in an Extra map
// of raw JSON, and write documents back with their keys in the order they
// came, so a document re-encodes unchanged (v1's "project_id": null
// included) and one from a newer server survives a round trip. Create,
// Update and Replace leave out the nulls of modelled keys the server sent,
// as its schema would refuse them.
package freezer
