package servers

import (
	"encoding/json"

	"github.com/longrun/longrun/cloudsigma"
	"github.com/longrun/longrun/internal/wire"
)

// Server statuses CloudSigma reports.
const (
	StatusStopped  = "stopped"
	StatusStarting = "starting"
	StatusRunning  = "running"
	StatusStopping = "stopping"
	StatusPaused   = "paused"
	StatusUnavail  = "unavailable"
)

// Server is a server as CloudSigma serves it. The trimmed objects of
// /servers/ carry only uuid, name, owner, resource_uri, runtime and status;
// /servers/detail/ and /servers/{uuid}/ carry every member.
type Server struct {
	UUID               string            `json:"uuid"`
	Name               string            `json:"name"`
	CPU                int               `json:"cpu"`
	Mem                int64             `json:"mem"`
	SMP                int               `json:"smp"`
	Status             string            `json:"status"`
	VNCPassword        string            `json:"vnc_password"`
	Context            bool              `json:"context"`
	CPUModel           *string           `json:"cpu_model"`
	CPUType            string            `json:"cpu_type"`
	CPUsInsteadOfCores bool              `json:"cpus_instead_of_cores"`
	EnableNUMA         bool              `json:"enable_numa"`
	HVRelaxed          bool              `json:"hv_relaxed"`
	HVTSC              bool              `json:"hv_tsc"`
	Hypervisor         string            `json:"hypervisor"`
	Drives             []*ServerDrive    `json:"drives"`
	NICs               []*NIC            `json:"nics"`
	Jobs               []cloudsigma.Ref  `json:"jobs"`
	Meta               map[string]any    `json:"meta"`
	Owner              *cloudsigma.Ref   `json:"owner"`
	Permissions        []string          `json:"permissions"`
	Pubkeys            []cloudsigma.Ref  `json:"pubkeys"`
	Requirements       []string          `json:"requirements"`
	Tags               []cloudsigma.Ref  `json:"tags"`
	Grantees           []json.RawMessage `json:"grantees"`
	Runtime            json.RawMessage   `json:"runtime"`
	ResourceURI        string            `json:"resource_uri"`
	// Extra holds members longrun does not model.
	Extra map[string]json.RawMessage `json:"-"`

	keys wire.Keys
}

// serverAlias is Server without its methods, for wire.Decode and wire.Encode
// (Extra and keys are not JSON members).
type serverAlias Server

// UnmarshalJSON keeps unknown members.
func (s *Server) UnmarshalJSON(b []byte) error {
	var a serverAlias
	extra, keys, err := wire.Decode(b, &a)
	if err != nil {
		return err
	}
	*s = Server(a)
	s.Extra, s.keys = extra, keys
	return nil
}

// MarshalJSON writes every member back, unknown ones included.
func (s Server) MarshalJSON() ([]byte, error) {
	return wire.Encode(serverAlias(s), s.Extra, s.keys)
}

// ServerDrive is one entry of a server's drives: a drive attached on a
// device channel. In responses Drive is a reference object; in requests
// CloudSigma takes the drive's bare uuid (use cloudsigma.RefTo).
type ServerDrive struct {
	BootOrder  *int            `json:"boot_order"`
	DevChannel string          `json:"dev_channel"`
	Device     string          `json:"device"`
	Drive      cloudsigma.Ref  `json:"drive"`
	Runtime    json.RawMessage `json:"runtime"`
	// Extra holds members longrun does not model.
	Extra map[string]json.RawMessage `json:"-"`

	keys wire.Keys
}

// serverDriveAlias is ServerDrive without its methods, for wire.Decode and wire.Encode
// (Extra and keys are not JSON members).
type serverDriveAlias ServerDrive

// UnmarshalJSON keeps unknown members.
func (d *ServerDrive) UnmarshalJSON(b []byte) error {
	var a serverDriveAlias
	extra, keys, err := wire.Decode(b, &a)
	if err != nil {
		return err
	}
	*d = ServerDrive(a)
	d.Extra, d.keys = extra, keys
	return nil
}

// MarshalJSON writes every member back.
func (d ServerDrive) MarshalJSON() ([]byte, error) {
	return wire.Encode(serverDriveAlias(d), d.Extra, d.keys)
}

// NIC is one of a server's network interfaces.
type NIC struct {
	IPv4Conf       *IPConf         `json:"ip_v4_conf"`
	IPv6Conf       *IPConf         `json:"ip_v6_conf"`
	Model          string          `json:"model"`
	MAC            string          `json:"mac"`
	VLAN           *cloudsigma.Ref `json:"vlan"`
	FirewallPolicy *cloudsigma.Ref `json:"firewall_policy"`
	Runtime        json.RawMessage `json:"runtime"`
	// Extra holds members longrun does not model.
	Extra map[string]json.RawMessage `json:"-"`

	keys wire.Keys
}

// nicAlias is NIC without its methods, for wire.Decode and wire.Encode
// (Extra and keys are not JSON members).
type nicAlias NIC

// UnmarshalJSON keeps unknown members.
func (n *NIC) UnmarshalJSON(b []byte) error {
	var a nicAlias
	extra, keys, err := wire.Decode(b, &a)
	if err != nil {
		return err
	}
	*n = NIC(a)
	n.Extra, n.keys = extra, keys
	return nil
}

// MarshalJSON writes every member back.
func (n NIC) MarshalJSON() ([]byte, error) {
	return wire.Encode(nicAlias(n), n.Extra, n.keys)
}

// IPConf is a NIC's ip_v4_conf or ip_v6_conf: conf is dhcp, static or
// manual; IP is the static address's reference.
type IPConf struct {
	Conf string          `json:"conf"`
	IP   *cloudsigma.Ref `json:"ip"`
	// Extra holds members longrun does not model.
	Extra map[string]json.RawMessage `json:"-"`

	keys wire.Keys
}

// ipConfAlias is IPConf without its methods, for wire.Decode and wire.Encode
// (Extra and keys are not JSON members).
type ipConfAlias IPConf

// UnmarshalJSON keeps unknown members.
func (c *IPConf) UnmarshalJSON(b []byte) error {
	var a ipConfAlias
	extra, keys, err := wire.Decode(b, &a)
	if err != nil {
		return err
	}
	*c = IPConf(a)
	c.Extra, c.keys = extra, keys
	return nil
}

// MarshalJSON writes every member back.
func (c IPConf) MarshalJSON() ([]byte, error) {
	return wire.Encode(ipConfAlias(c), c.Extra, c.keys)
}
