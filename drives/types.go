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

type driveAlias struct {
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
}

// UnmarshalJSON keeps unknown members.
func (d *Drive) UnmarshalJSON(b []byte) error {
	var a driveAlias
	extra, keys, err := wire.Decode(b, &a)
	if err != nil {
		return err
	}
	*d = Drive(fromAlias(a))
	d.Extra, d.keys = extra, keys
	return nil
}

// MarshalJSON writes every member back, unknown ones included.
func (d Drive) MarshalJSON() ([]byte, error) {
	return wire.Encode(toAlias(d), d.Extra, d.keys)
}

type plain struct {
	UUID            string
	Name            string
	Size            int64
	Media           string
	Status          string
	StorageType     string
	AllowMultimount bool
	Affinities      []string
	Jobs            []cloudsigma.Ref
	MountedOn       []cloudsigma.Ref
	Owner           *cloudsigma.Ref
	Meta            map[string]any
	Tags            []cloudsigma.Ref
	Snapshots       []cloudsigma.Ref
	Permissions     []string
	Licenses        []json.RawMessage
	Grantees        []json.RawMessage
	Runtime         *Runtime
	ResourceURI     string
	Extra           map[string]json.RawMessage
	keys            wire.Keys
}

func fromAlias(a driveAlias) plain {
	return plain{a.UUID, a.Name, a.Size, a.Media, a.Status, a.StorageType, a.AllowMultimount, a.Affinities,
		a.Jobs, a.MountedOn, a.Owner, a.Meta, a.Tags, a.Snapshots, a.Permissions, a.Licenses, a.Grantees,
		a.Runtime, a.ResourceURI, nil, nil}
}

func toAlias(d Drive) driveAlias {
	return driveAlias{d.UUID, d.Name, d.Size, d.Media, d.Status, d.StorageType, d.AllowMultimount, d.Affinities,
		d.Jobs, d.MountedOn, d.Owner, d.Meta, d.Tags, d.Snapshots, d.Permissions, d.Licenses, d.Grantees,
		d.Runtime, d.ResourceURI}
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

type runtimeAlias struct {
	IsSnapshotable         *bool  `json:"is_snapshotable"`
	SnapshotsAllocatedSize int64  `json:"snapshots_allocated_size"`
	StorageType            string `json:"storage_type"`
}

// UnmarshalJSON keeps unknown members.
func (r *Runtime) UnmarshalJSON(b []byte) error {
	var a runtimeAlias
	extra, keys, err := wire.Decode(b, &a)
	if err != nil {
		return err
	}
	*r = Runtime{IsSnapshotable: a.IsSnapshotable, SnapshotsAllocatedSize: a.SnapshotsAllocatedSize,
		StorageType: a.StorageType, Extra: extra, keys: keys}
	return nil
}

// MarshalJSON writes every member back.
func (r Runtime) MarshalJSON() ([]byte, error) {
	return wire.Encode(runtimeAlias{r.IsSnapshotable, r.SnapshotsAllocatedSize, r.StorageType}, r.Extra, r.keys)
}
