package truenas

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// The releases the fake emulates, and what differs between them (read
// from the middleware's own source at each release tag):
//
//	                        24.10        25.04          25.10          26.0
//	/websocket (legacy)     yes          yes            yes            yes
//	/api/current, /api/vX   no           yes            yes            yes
//	/api/versions           no           v24.10,        v25.04.0..     v25.04.0..
//	                                     v25.04.0..2    v25.10.0       v26.0.0
//	auth.login_ex           no           yes            yes            yes
//	auth.mechanism_choices  no           fails before   fails before   SCRAM listed,
//	                                     login (a bug   login, as      answers before
//	                                     of 25.04.2)    25.04          login
//	SCRAM (login_ex)        no           no             no             yes
//	core.set_options        -            answers null,  answers the    as 25.10
//	                                     no legacy_jobs options,
//	                                                    legacy_jobs
//	job entry message_ids   no           no             yes            yes
//	core.job_wait/abort     KeyError     KeyError       InstanceNotFound (ValidationError ENOENT)
//	of a missing id
//	catalog.sync lock queue 5            5              1              1
//	transient job events    yes          yes            yes            no
//	core.get_jobs args      legacy schema (query-     pydantic QueryArgs (options.<key>:
//	                        options.<key>: "Field     "Extra inputs are not permitted",
//	                        was not expected")        "Value error, ...", limit <= 10000)
//	too many arguments      CallError    ValidationErrors ("[EINVAL] : Too many arguments ...")
//	                        EFAULT
//	job credentials data    username or  username, login_id, login_at (+ api_key {id, name})
//	                        api_key only
//	system.version          TrueNAS-SCALE-24.10.2   TrueNAS-25.04.2  TrueNAS-25.10.1  TrueNAS-26.0.0
//	system.product_type     SCALE        COMMUNITY_EDITION (all later releases)
//
// Every release answers the legacy protocol at /websocket with job ids
// for job calls (the legacy protocol never blocks on a job).
const (
	// Version2410 is TrueNAS SCALE 24.10 (Electric Eel): the legacy
	// websocket protocol at /websocket only.
	Version2410 Version = "24.10"
	// Version2600 is TrueNAS 26.0: 25.10's API plus SCRAM-SHA-512 API
	// key logins through auth.login_ex. The newest the fake emulates.
	Version2600 Version = "26.0"
	// VersionNewest is the newest release the fake emulates.
	VersionNewest = Version2600
	// DefaultVersion is the release a new backend emulates.
	DefaultVersion = Version2510
)

// Versions lists every release the fake can emulate, oldest first.
func Versions() []Version {
	return []Version{Version2410, Version2504, Version2510, Version2600}
}

// ParseVersion reads a release name as the longrun-fake flag
// -truenas-version takes it ("24.10", "25.04", "25.10", "26.0"; "newest"
// or "latest" for VersionNewest). An unknown name is an error listing the
// known ones.
func ParseVersion(s string) (Version, error) {
	switch strings.TrimSpace(strings.ToLower(s)) {
	case "newest", "latest":
		return VersionNewest, nil
	case "26", "26.0", "26.0.0", "26.04":
		return Version2600, nil
	}
	for _, v := range Versions() {
		if strings.TrimSpace(s) == string(v) {
			return v, nil
		}
	}
	names := make([]string, 0, 4)
	for _, v := range Versions() {
		names = append(names, string(v))
	}
	return "", fmt.Errorf("truenas fake: unknown version %q (known: %s, newest)", s, strings.Join(names, ", "))
}

// release is what one emulated version serves.
type release struct {
	fullName    string   // system.version
	short       string   // system.version_short
	productType string   // system.product_type
	apiVersions []string // /api/vX.Y.Z routes, oldest first; none: no JSON-RPC
	// versionsList is what GET /api/versions answers.
	versionsList []string
	loginEx      bool // auth.login_ex and auth.mechanism_choices exist
	scram        bool // SCRAM mechanism
	// mechChoicesBug: auth.mechanism_choices fails before login (25.04.2
	// through 25.10.2 read app.authenticated_credentials.may_create_auth_token
	// on a None credential).
	mechChoicesBug bool
	setOptionsNull bool // core.set_options answers null, knows no legacy_jobs
	messageIDs     bool // job entries carry message_ids
	oldCreds       bool // 24.10 credentials dump
	tooManyCall    bool // too many arguments is a CallError (24.10)
	// jobKeyError: core.job_wait, job_abort and job_download_logs of a
	// missing id raise middleware.jobs[id]'s KeyError (24.10, 25.04).
	jobKeyError bool
	// queryArgs: core.get_jobs validates its filters and options with
	// the pydantic QueryArgs model (25.10 on), not the legacy schema.
	queryArgs bool
	// transientEvents: transient jobs send ADDED and CHANGED events
	// (send_job_event skips them only from 26.0, NAS-137842).
	transientEvents bool
	// catalogSyncQueue is catalog.sync's lock_queue_size: @job's default
	// 5 before 25.10, 1 from 25.10 (plugins/catalog/sync.py).
	catalogSyncQueue int
}

func releaseOf(v Version) release {
	switch v {
	case Version2410:
		return release{fullName: "TrueNAS-SCALE-24.10.2", short: "24.10.2", productType: "SCALE",
			oldCreds: true, tooManyCall: true, jobKeyError: true, transientEvents: true, catalogSyncQueue: 5}
	case Version2504:
		return release{fullName: "TrueNAS-25.04.2", short: "25.04.2", productType: "COMMUNITY_EDITION",
			apiVersions:  []string{"v24.10", "v25.04.0", "v25.04.1", "v25.04.2"},
			versionsList: []string{"v24.10", "v25.04.0", "v25.04.1", "v25.04.2"},
			loginEx:      true, mechChoicesBug: true, setOptionsNull: true, jobKeyError: true, transientEvents: true, catalogSyncQueue: 5}
	case Version2600:
		return release{fullName: "TrueNAS-26.0.0", short: "26.0.0", productType: "COMMUNITY_EDITION",
			apiVersions:  []string{"v24.10", "v25.04.0", "v25.04.1", "v25.04.2", "v25.10.0", "v25.10.1", "v25.10.2", "v26.0.0"},
			versionsList: []string{"v25.04.0", "v25.04.1", "v25.04.2", "v25.10.0", "v25.10.1", "v25.10.2", "v26.0.0"},
			loginEx:      true, scram: true, messageIDs: true, queryArgs: true, catalogSyncQueue: 1}
	default: // 25.10
		return release{fullName: "TrueNAS-25.10.1", short: "25.10.1", productType: "COMMUNITY_EDITION",
			apiVersions:  []string{"v24.10", "v25.04.0", "v25.04.1", "v25.04.2", "v25.10.0", "v25.10.1"},
			versionsList: []string{"v25.04.0", "v25.04.1", "v25.04.2", "v25.10.0", "v25.10.1"},
			loginEx:      true, mechChoicesBug: true, messageIDs: true, queryArgs: true, transientEvents: true, catalogSyncQueue: 1}
	}
}

func (b *Backend) release() release {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.rel
}

// Version is the release the backend emulates.
func (b *Backend) Version() Version {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.version
}

// serveAPI routes /api/{version}: only the emulated release's own API
// versions (and "current") answer; anything else is 404 as from aiohttp.
func (b *Backend) serveAPI(w http.ResponseWriter, r *http.Request) {
	rel := b.release()
	v := r.PathValue("version")
	if v == "versions" {
		if rel.versionsList == nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(rel.versionsList)
		return
	}
	if len(rel.apiVersions) == 0 {
		http.NotFound(w, r)
		return
	}
	ok := v == "current"
	for _, a := range rel.apiVersions {
		ok = ok || a == v
	}
	if !ok {
		http.NotFound(w, r)
		return
	}
	b.serveWS(w, r, false)
}
