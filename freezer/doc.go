// Package freezer is longrun's client for OpenStack Freezer backup jobs,
// over the rest transport: the v1 API (/v1/jobs) and the v2 API
// (/v2/{project_id}/jobs), as freezer-api serves them.
//
// A Freezer job is a job_schedule (when it runs, and the agent's status and
// result) and a list of job_actions (what the freezer agent runs). The
// client lists (an iterator over limit/offset pages, with a search document
// sent in the GET body as python-freezerclient sends it), gets, creates,
// patches (Update), replaces and deletes jobs, and sends the start, stop
// and abort events. Documents are validated against the server's own
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
// Wire types keep every key they do not model, and every modelled key
// whose value has another type than expected, in an Extra map of raw JSON
// and write it back, so documents from a newer server survive a round
// trip with the same JSON values.
package freezer
