package drives

import (
	"encoding/json"

	"github.com/longrun/longrun/cloudsigma"
	"github.com/longrun/longrun/internal/wire"
)

// Drive statuses CloudSigma reports.
const (
	StatusCreating    = "creating"
	StatusCloningDst  = "cloning_dst"
	StatusCloningSrc  = "cloning_src"
	StatusResizing    = "resizing"
	StatusUploading   = "uploading"
	StatusCopying     = "copying"
	StatusUnmounted   = "unmounted"
	StatusMounted     = "mounted"
	StatusUnavailable = "unavailable"
)

// Drive media.
const (
	MediaDisk  = "disk"
	MediaCDROM = "cdrom"
)

// Drive is a drive as CloudSigma serves it. The trimmed objects of
// /drives/ carry only uuid, resource_uri, owner and status; /drives/detail/
// and /drives/{uuid}/ carry every member.
type Drive struct {
	UUID            string            `json:"uuid"`
	Name            string            `json:"name"`
	Size            int64             `json:"size"`
	Media           string            `json:"media"`
	Status          string            `json:"status"`
	StorageType     string            `json:"storage_type"`
	AllowMultimount bool              `json:"allow_multimount"`
	Affinities      []string          `json:"affinities"`
	Jobs            []cloudsigma.Ref  `json:"jobs"`
	MountedOn       []cloudsigma.Ref  `json:"mounted_on"`
	Owner           *cloudsigma.Ref   `json:"owner"`
	Meta            map[string]any    `json:"meta"`
	Tags            []cloudsigma.Ref  `json:"tags"`
	Snapshots       []cloudsigma.Ref  `json:"snapshots"`
	Permissions     []string          `json:"permissions"`
	Licenses        []json.RawMessage `json:"licenses"`
	Grantees        []json.RawMessage `json:"grantees"`
	Runtime         *Runtime          `json:"runtime"`
	ResourceURI     string            `json:"resource_uri"`
	// Extra holds members longrun does not model.
	Extra map[string]json.RawMessage `json:"-"`

	keys wire.Keys
}

// driveAlias is Drive without its methods, for wire.Decode and wire.Encode
// (Extra and keys are not JSON members).
type driveAlias Drive

// UnmarshalJSON keeps unknown members.
func (d *Drive) UnmarshalJSON(b []byte) error {
	var a driveAlias
	extra, keys, err := wire.Decode(b, &a)
	if err != nil {
		return err
	}
	*d = Drive(a)
	d.Extra, d.keys = extra, keys
	return nil
}

// MarshalJSON writes every member back, unknown ones included.
func (d Drive) MarshalJSON() ([]byte, error) {
	return wire.Encode(driveAlias(d), d.Extra, d.keys)
}

// Runtime is a drive's "runtime" member.
type Runtime struct {
	IsSnapshotable         *bool  `json:"is_snapshotable"`
	SnapshotsAllocatedSize int64  `json:"snapshots_allocated_size"`
	StorageType            string `json:"storage_type"`
	// Extra holds members longrun does not model.
	Extra map[string]json.RawMessage `json:"-"`

	keys wire.Keys
}

// runtimeAlias is Runtime without its methods, for wire.Decode and wire.Encode
// (Extra and keys are not JSON members).
type runtimeAlias Runtime

// UnmarshalJSON keeps unknown members.
func (r *Runtime) UnmarshalJSON(b []byte) error {
	var a runtimeAlias
	extra, keys, err := wire.Decode(b, &a)
	if err != nil {
		return err
	}
	*r = Runtime(a)
	r.Extra, r.keys = extra, keys
	return nil
}

// MarshalJSON writes every member back.
func (r Runtime) MarshalJSON() ([]byte, error) {
	return wire.Encode(runtimeAlias(r), r.Extra, r.keys)
}
