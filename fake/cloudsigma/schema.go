package cloudsigma

// noDefault is how a Tastypie schema says a field has no default.
const noDefault = "No default provided."

// field is one field of a schema document.
type field struct {
	name, typ, help    string
	readonly, required bool
	def                any
	choices            []string
}

var driveFields = []field{
	{"affinities", "list", "Affinities of the drive, hints for its storage placement", false, false, []any{}, nil},
	{"allow_multimount", "boolean", "Allow the drive to be mounted on more than one server", false, false, false, nil},
	{"grantees", "list", "Users the drive is shared with", false, false, noDefault, nil},
	{"jobs", "related", "Background jobs of the drive", true, true, noDefault, nil},
	{"licenses", "related", "Licenses attached to the drive", false, false, []any{}, nil},
	{"media", "string", "Media type of the drive", false, true, nil, []string{"cdrom", "disk"}},
	{"meta", "dict", "Free form key/value metadata", false, false, map[string]any{}, nil},
	{"mounted_on", "related", "Servers the drive is attached to", true, false, noDefault, nil},
	{"name", "string", "Human readable name of the drive", false, true, nil, nil},
	{"owner", "related", "Owner of the drive", true, false, nil, nil},
	{"permissions", "list", "Permissions of the drive's grantees", false, false, noDefault, nil},
	{"resource_uri", "string", "URI of the drive", true, true, noDefault, nil},
	{"runtime", "related", "Runtime information of the drive", true, false, noDefault, nil},
	{"size", "integer", "Size of the drive in bytes", false, true, nil, nil},
	{"snapshots", "related", "Snapshots of the drive", true, false, noDefault, nil},
	{"status", "string", "Status of the drive", true, true, noDefault, nil},
	{"storage_type", "string", "Storage the drive lives on; cannot change after creation", false, false, nil,
		[]string{"magnetic", "ssd", "dssd", "zadara", "nvme", "local_nvme"}},
	{"tags", "related", "Tags of the drive", false, false, noDefault, nil},
	{"uuid", "string", "UUID of the drive", true, true, nil, nil},
}

var serverFields = []field{
	{"context", "boolean", "Expose the server context to the guest", false, false, true, nil},
	{"cpu", "integer", "Server's CPU clock frequency in MHz", false, true, nil, nil},
	{"cpu_model", "string", "CPU model exposed to the guest", false, false, nil, []string{"kvm64"}},
	{"cpu_type", "string", "CPU type of the host", false, false, "amd", []string{"amd", "intel"}},
	{"cpus_instead_of_cores", "boolean", "Expose the SMP as CPUs instead of cores", false, false, false, nil},
	{"drives", "related", "Drives attached to the server", false, false, []any{}, nil},
	{"enable_numa", "boolean", "Expose NUMA topology to the guest", false, false, false, nil},
	{"grantees", "list", "Users the server is shared with", false, false, noDefault, nil},
	{"hv_relaxed", "boolean", "Hyper-V relaxed timing", false, false, false, nil},
	{"hv_tsc", "boolean", "Hyper-V TSC page", false, false, false, nil},
	{"hypervisor", "string", "Hypervisor of the server", false, false, "kvm", []string{"kvm"}},
	{"jobs", "related", "Background jobs of the server", true, true, noDefault, nil},
	{"mem", "integer", "Server's memory in bytes", false, true, nil, nil},
	{"meta", "dict", "Free form key/value metadata", false, false, map[string]any{}, nil},
	{"name", "string", "Human readable name of the server", false, true, nil, nil},
	{"nics", "related", "Network interfaces of the server", false, false, []any{}, nil},
	{"owner", "related", "Owner of the server", true, true, nil, nil},
	{"permissions", "list", "Permissions of the server's grantees", false, false, noDefault, nil},
	{"pubkeys", "related", "Public keys available in the server context", false, false, []any{}, nil},
	{"requirements", "list", "Placement requirements", false, false, []any{}, nil},
	{"resource_uri", "string", "URI of the server", true, true, noDefault, nil},
	{"runtime", "related", "Runtime information of a running server", true, false, noDefault, nil},
	{"smp", "integer", "Number of virtual processors", false, false, nil, nil},
	{"status", "string", "Status of the server", true, false, noDefault, nil},
	{"tags", "related", "Tags of the server", false, false, noDefault, nil},
	{"uuid", "string", "UUID of the server", true, true, nil, nil},
	{"vnc_password", "string", "Password for VNC and serial console access", false, true, nil, nil},
}

var libdriveFields = []field{
	{"affinities", "list", "Affinities of the drive, hints for its storage placement", true, false, []any{}, nil},
	{"allow_multimount", "boolean", "Allow the drive to be mounted on more than one server", true, false, false, nil},
	{"arch", "string", "Operating system bit architecture", true, false, nil, nil},
	{"category", "list", "Categories of the image", true, false, noDefault, nil},
	{"description", "string", "Description of the image", true, false, nil, nil},
	{"distribution", "string", "Operating system distribution", true, false, nil, nil},
	{"favourite", "boolean", "Whether the image is a favourite", true, false, false, nil},
	{"image_type", "string", "Type of the image: preinstalled or installation media", true, false, nil, []string{"install", "preinst"}},
	{"install_notes", "string", "Notes on installing and using the image", true, false, nil, nil},
	{"jobs", "related", "Background jobs of the drive", true, false, noDefault, nil},
	{"licenses", "related", "Licenses attached to the drive", true, false, []any{}, nil},
	{"media", "string", "Media type of the drive", true, false, nil, []string{"cdrom", "disk"}},
	{"meta", "dict", "Free form key/value metadata", true, false, map[string]any{}, nil},
	{"mounted_on", "related", "Servers the drive is attached to", true, false, noDefault, nil},
	{"name", "string", "Human readable name of the drive", true, false, nil, nil},
	{"os", "string", "Operating system", true, false, nil, []string{"linux", "windows", "other"}},
	{"owner", "related", "Owner of the drive: null for a library drive", true, false, nil, nil},
	{"paid", "boolean", "Whether the image is paid", true, false, false, nil},
	{"resource_uri", "string", "URI of the library drive", true, false, noDefault, nil},
	{"size", "integer", "Size of the drive in bytes", true, false, nil, nil},
	{"status", "string", "Status of the drive", true, false, noDefault, nil},
	{"storage_type", "string", "Storage type", true, false, nil, nil},
	{"tags", "related", "Tags of the drive", true, false, noDefault, nil},
	{"url", "string", "URL of the image's vendor", true, false, nil, nil},
	{"uuid", "string", "UUID of the drive", true, false, nil, nil},
	{"version", "string", "Operating system version", true, false, nil, nil},
}

var snapshotFields = []field{
	{"allocated_size", "integer", "Physical size of the snapshot", true, true, noDefault, nil},
	{"drive", "related", "Drive UUID", false, true, nil, nil},
	{"grantees", "list", "Users the snapshot is shared with", false, false, noDefault, nil},
	{"meta", "dict", "User defined meta information", false, false, map[string]any{}, nil},
	{"name", "string", "Optional human readable name of the snapshot", false, false, nil, nil},
	{"owner", "related", "Owner of the snapshot", true, false, nil, nil},
	{"permissions", "list", "Permissions of the snapshot's grantees", false, false, noDefault, nil},
	{"resource_uri", "string", "URI of the snapshot", true, true, noDefault, nil},
	{"status", "string", "Status of the snapshot.", true, true, noDefault, nil},
	{"tags", "related", "Tags of the snapshot", false, false, noDefault, nil},
	{"timestamp", "string", "Timestamp of the snapshot creation", true, true, nil, nil},
	{"uuid", "string", "UUID of the snapshot", true, true, nil, nil},
}

var tagFields = []field{
	{"meta", "dict", "User defined meta information", false, false, noDefault, nil},
	{"name", "string", "Name of the tag", false, false, noDefault, nil},
	{"owner", "related", "Owner of the tag", true, false, noDefault, nil},
	{"resource_uri", "string", "URI of the tag", true, false, noDefault, nil},
	{"resources", "related", "Drives and servers tagged with it", false, false, noDefault, nil},
	{"uuid", "string", "UUID of the tag", true, false, noDefault, nil},
}

var jobFields = []field{
	{"children", "related", "Sub-jobs of the job", false, false, noDefault, nil},
	{"created", "datetime", "When the job was created", false, false, noDefault, nil},
	{"data", "object", "Progress and details of the job", false, false, noDefault, nil},
	{"last_modified", "datetime", "When the job last changed", false, false, noDefault, nil},
	{"operation", "string", "Operation the job performs", false, false, noDefault, nil},
	{"resource_uri", "string", "URI of the job", true, false, noDefault, nil},
	{"resources", "list", "URIs of the resources the job works on", false, false, noDefault, nil},
	{"state", "string", "State of the job", false, false, "started", nil},
	{"uuid", "string", "UUID of the job", false, false, noDefault, nil},
}

// schemaOf returns the schema document of kind (drives, servers, jobs,
// libdrives, snapshots or tags),
// in the shape of CloudSigma's GET /{kind}/schema/ (dumps/response_*_schema):
// allowed methods, default format and limit, fields, filtering, ordering.
func schemaOf(kind string) map[string]any {
	fields := driveFields
	filtering := map[string]any{"name": "exact", "name__contains": "exact", "tag": "exact", "uuid": "exact"}
	ordering := []string{"uuid", "name"}
	detail, list := []string{"get", "put", "delete"}, []string{"get", "put", "delete", "post"}
	switch kind {
	case "servers":
		fields = serverFields
	case "jobs":
		fields = jobFields
		filtering = map[string]any{"state": 1}
		ordering = []string{"-last_modified"}
		detail, list = []string{"get"}, []string{"get"}
	case "tags":
		fields = tagFields // dumps/response_tags_schema: no filtering, no ordering
		detail, list = []string{"get", "put", "delete"}, []string{"get", "post"}
	case "snapshots":
		fields = snapshotFields // dumps/response_snapshot_schema: no ordering
	case "libdrives":
		// dumps/response_libdrive_schema: GET only, and no ordering.
		fields = libdriveFields
		filtering = map[string]any{}
		for k := range libFilters {
			filtering[k] = "exact"
		}
		detail, list = []string{"get"}, []string{"get"}
	}
	fm := make(map[string]any, len(fields))
	for _, f := range fields {
		d := map[string]any{"default": f.def, "help_text": f.help, "readonly": f.readonly, "required": f.required, "type": f.typ}
		if f.choices != nil {
			d["choices"] = f.choices
		}
		fm[f.name] = d
	}
	doc := map[string]any{
		"allowed_detail_http_methods": detail, "allowed_list_http_methods": list,
		"default_format": "application/json", "default_limit": 20,
		"fields": fm, "filtering": filtering, "ordering": ordering,
	}
	if kind == "libdrives" || kind == "snapshots" || kind == "tags" {
		delete(doc, "ordering")
	}
	if kind == "tags" {
		delete(doc, "filtering")
	}
	return doc
}
