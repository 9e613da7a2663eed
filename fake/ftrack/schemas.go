package ftrack

import (
	"crypto/md5"
	"encoding/hex"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/longrun/longrun/fake/internal/pyjson"
)

// schemaText lists the entity types the fake serves, as query_schemas
// describes them on a real server: every type a Job, its user, its
// components and their locations reach, with each one's real properties.
// It is the fake's own notation, one type per paragraph:
//
//	<Type> key=value ...          pk, required, immutable, computed,
//	                              projections (default_projections),
//	                              system (system_projections), alias
//	  <property> <kind> [<target>] [option ...]
//
// kinds: string integer boolean number variable object (a plain type),
// datetime (string, date-time), json (string, json), fk Target.attr (a
// foreign key string; fk- without "type"), ref Type, array Type, mapped
// Type (mapped_array). options: default=v enum=a|b alias=x ref=Type kv
// (key_value_attributes key/value) restricted (restricted_projection)
// transform (schema_id/table_name) deprecated=attr.
//
// Relations whose target the fake does not serve are still listed, as the
// real schema has them; a query through them is a ParseError.
const schemaText = `
Job pk=id required=id,status,type immutable=id,type projections=id
  created_at datetime
  data json
  finished_at datetime
  id string default={uid} alias=jobid
  job_components array JobComponent
  status string default=queued enum=queued|running|done|failed
  type string default=api_job
  user ref User
  user_id fk User.user_id alias=userid

User pk=id required=username,is_active,resource_type,id immutable=resource_type,thumbnail_url,id computed=thumbnail_url projections=id system=resource_type
  allocations array Appointment alias=resource_allocations
  appointments array Appointment alias=resource_appointments
  assignments array Appointment alias=resource_assignments
  custom_attribute_links mapped CustomAttributeLink restricted
  custom_attribute_links_from mapped CustomAttributeLinkFrom restricted
  custom_attributes mapped UserCustomAttributeValue alias=custom_attribute_values kv
  dashboard_resources array DashboardResource
  email string
  first_name string alias=firstname
  id string default={uid}
  is_active boolean alias=isactive
  is_otp_enabled boolean alias=otp_enabled
  is_totp_enabled boolean alias=totp_enabled
  last_name string alias=lastname
  memberships array Membership alias=user_memberships
  metadata mapped Metadata alias=meta kv
  require_details_update boolean
  resource_type string default=user
  thumbnail ref Component
  thumbnail_id fk Component.id alias=thumbid
  thumbnail_url object
  timelogs array Timelog
  user_security_roles array UserSecurityRole alias=userRoles
  user_type ref UserType alias=type
  user_type_id fk- UserType.id alias=typeid
  username string

JobComponent pk=component_id,job_id required=component_id,job_id immutable=component_id,job_id,url computed=url projections=component_id,job_id
  component ref Component
  component_id fk Component.id
  job ref Job
  job_id fk Job.id
  url object

Component pk=id required=system_type,name,id immutable=id projections=id,system_type system=system_type,version_id
  @component
  id string default={uid}

FileComponent pk=id required=system_type,name,id immutable=id projections=id,system_type system=system_type,version_id
  @component
  id fk Component.id default={uid}

ContainerComponent pk=id required=system_type,name,id immutable=id projections=id,system_type system=system_type,version_id
  @component
  id fk Component.id default={uid}
  members array Component

ComponentLocation pk=id required=id immutable=id computed=url projections=id system=location_id,component_id
  component ref Component
  component_id fk Component.id
  id string default={uid}
  location ref Location
  location_id fk Location.id
  resource_identifier string alias=resourceIdentifier
  url object

Location pk=id required=name,id immutable=id projections=id
  description string
  id string default={uid}
  label string
  location_components array ComponentLocation
  name string

UserType pk=id required=id immutable=id,name projections=id
  id string default={uid} alias=typeid
  name string

Appointment pk=id required=id,type,resource_id,context_id immutable=id projections=id
  context ref Context alias=appointment_context
  context_id fk Context.id
  id string default={uid}
  resource ref Resource alias=appointment_resource
  resource_id fk Resource.id
  type string

AssetVersion pk=id required=id,is_published,status_id immutable=id,_link,link,is_latest_version,thumbnail_url computed=thumbnail_url projections=id system=assetid
  _link string alias=_api_link deprecated=link
  asset ref Asset
  asset_id fk Asset.id alias=assetid
  comment string default=
  components array Component
  custom_attribute_links mapped CustomAttributeLink restricted
  custom_attribute_links_from mapped CustomAttributeLinkFrom restricted
  custom_attributes mapped AssetVersionCustomAttributeValue alias=custom_attribute_values kv
  date datetime
  id string default={uid} alias=versionid
  incoming_links array AssetVersionLink alias=incoming_links
  is_latest_version boolean
  is_published boolean default=true alias=ispublished
  link string alias=_api_link
  lists array AssetVersionList alias=_lists
  metadata mapped Metadata alias=meta kv
  notes array Note
  outgoing_links array AssetVersionLink alias=outgoing_links
  review_session_objects array ReviewSessionObject alias=reviewSessionObjects
  status ref Status
  status_changes array StatusChange
  status_id fk Status.id alias=statusid
  task ref Task
  task_id fk Task.id alias=taskid
  thumbnail ref Component
  thumbnail_id fk Component.id alias=thumbid
  thumbnail_url object
  used_in_versions array AssetVersion alias=usedinversions
  user ref User
  user_id fk User.user_id alias=userid
  uses_versions array AssetVersion alias=usesversions
  version integer

CustomAttributeLink pk=id required=configuration_id,from_id,to_id immutable=configuration_id,id projections=configuration_id,from_id,to_id
  configuration ref CustomAttributeLinkConfiguration alias=register
  configuration_id fk CustomAttributeLinkConfiguration.id alias=registerid
  from_id string
  id string default={uid}
  to_id string

CustomAttributeLinkFrom pk=id required=configuration_id,from_id,to_id immutable=configuration_id,id projections=configuration_id,from_id,to_id
  configuration ref CustomAttributeLinkConfiguration alias=register
  configuration_id fk CustomAttributeLinkConfiguration.id alias=registerid
  from_entity_type string transform
  from_id string
  id string default={uid}
  to_entity_type string transform
  to_id string

DashboardResource pk=dashboard_id,resource_id required=dashboard_id,resource_id immutable=dashboard_id,resource_id projections=dashboard_id,resource_id system=dashboard_id,resource_id alias=LinkDashboardResource
  dashboard ref Dashboard
  dashboard_id fk Dashboard.id ref=Dashboard
  is_shared_with_everyone boolean default=false alias=isglobal
  resource ref Resource
  resource_id fk Resource.id ref=Resource

Membership pk=id required=group_id,user_id,id immutable=id projections=id
  group ref Group alias=membership_group
  group_id fk Group.id
  id string default={uid}
  user ref User alias=membership_user
  user_id fk User.id

Metadata pk=parent_id,key required=parent_id,key,value,parent_type immutable=parent_id,key projections=parent_id,key,value,parent_type alias=Meta
  key string alias=variable
  parent_id string alias=meta_id
  parent_type string alias=meta_type transform
  value string

Timelog pk=id required=comment,start,duration,id immutable=id projections=id system=user_id,context_id
  comment string default=
  context ref Context
  context_id fk Context.id
  duration number
  id string default={uid}
  name string
  start datetime
  time_zone_offset number
  user ref User
  user_id fk User.id

UserCustomAttributeValue pk=configuration_id,entity_id required=configuration_id,entity_id immutable=configuration_id,entity_id projections=configuration_id,entity_id,key system=entity_id,key,_casted_value
  configuration ref CustomAttributeConfiguration alias=register
  configuration_id fk CustomAttributeConfiguration.id alias=register_id
  entity_id fk User.id
  key string
  value variable alias=casted_value

UserSecurityRole pk=id required=id immutable=id projections=id,user_id,security_role_id alias=Auth_UserRole
  id string default={uid}
  is_all_open_projects boolean alias=isallprojects
  is_all_projects boolean alias=isallprojects deprecated=is_all_open_projects
  security_role ref SecurityRole alias=role
  security_role_id fk SecurityRole.id alias=roleid
  user ref User
  user_id fk User.id alias=userid
  user_security_role_projects array UserSecurityRoleProject alias=user_role_projects
`

// componentProps are the properties every component type shares (the
// @component line above).
const componentProps = `
  component_locations array ComponentLocation
  container ref ContainerComponent
  container_id fk ContainerComponent.id
  custom_attribute_links mapped CustomAttributeLink restricted
  custom_attribute_links_from mapped CustomAttributeLinkFrom restricted
  file_type string alias=filetype
  metadata mapped Metadata alias=meta kv
  name string default=main
  size integer default=0
  system_type string
  version ref AssetVersion
  version_id fk AssetVersion.id
`

// schemaProp is one property as the fake reads it from schemaText.
type schemaProp struct {
	name   string
	kind   string // string integer boolean number variable object datetime json fk ref array mapped
	target string // fk: Target.attr; ref, array, mapped: the type
	json   map[string]any
}

// schemaDef is one entity type's schema.
type schemaDef struct {
	id    string
	head  map[string][]string
	props []schemaProp
	json  map[string]any
}

func splitList(v string) []string {
	if v == "" {
		return []string{}
	}
	return strings.Split(v, ",")
}

func toAny(list []string) []any {
	out := make([]any, len(list))
	for i, s := range list {
		out[i] = s
	}
	return out
}

// parseSchemaText reads schemaText; a mistake in it is a programming error.
func parseSchemaText(text string) []*schemaDef {
	var out []*schemaDef
	var cur *schemaDef
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if strings.TrimSpace(line) == "" {
			continue
		}
		f := strings.Fields(line)
		if !strings.HasPrefix(line, " ") {
			cur = &schemaDef{id: f[0], head: map[string][]string{}}
			for _, kv := range f[1:] {
				k, v, _ := strings.Cut(kv, "=")
				cur.head[k] = splitList(v)
			}
			out = append(out, cur)
			continue
		}
		if f[0] == "@component" {
			extra := strings.Split(strings.Trim(componentProps, "\n"), "\n")
			lines = append(lines[:i+1], append(extra, lines[i+1:]...)...)
			continue
		}
		cur.props = append(cur.props, parseProp(f))
	}
	for _, s := range out {
		sort.Slice(s.props, func(i, j int) bool { return s.props[i].name < s.props[j].name })
		props := map[string]any{}
		for _, p := range s.props {
			props[p.name] = p.json
		}
		s.json = map[string]any{"id": s.id, "type": "object", "properties": props}
		for k, name := range map[string]string{"pk": "primary_key", "required": "required", "immutable": "immutable",
			"computed": "computed", "projections": "default_projections", "system": "system_projections"} {
			if v, ok := s.head[k]; ok {
				s.json[name] = toAny(v)
			}
		}
		if a := s.head["alias"]; len(a) == 1 {
			s.json["alias_for"] = a[0]
		}
	}
	return out
}

func parseProp(f []string) schemaProp {
	p := schemaProp{name: f[0], kind: f[1], json: map[string]any{}}
	opts := f[2:]
	switch p.kind {
	case "string", "integer", "boolean", "number", "variable", "object":
		p.json["type"] = p.kind
	case "datetime":
		p.json["type"], p.json["format"] = "string", "date-time"
	case "json":
		p.json["type"], p.json["format"] = "string", "json"
	case "fk", "fk-":
		p.target, opts = opts[0], opts[1:]
		p.json["format"] = "foreign_key"
		p.json["description"] = "Foreign key(s): " + p.target
		if p.kind == "fk" {
			p.json["type"] = "string"
		}
		p.kind = "fk"
	case "ref":
		p.target, opts = opts[0], opts[1:]
		p.json["$ref"] = p.target
	case "array", "mapped":
		p.target, opts = opts[0], opts[1:]
		p.json["items"] = map[string]any{"$ref": p.target}
		p.json["type"] = map[string]string{"array": "array", "mapped": "mapped_array"}[p.kind]
	default:
		panic("ftrack fake: schema: unknown kind " + p.kind)
	}
	for _, o := range opts {
		k, v, _ := strings.Cut(o, "=")
		switch k {
		case "default":
			switch p.kind {
			case "integer":
				n, _ := strconv.Atoi(v)
				p.json["default"] = n
			case "boolean":
				p.json["default"] = v == "true"
			default:
				p.json["default"] = v
			}
		case "enum":
			p.json["enum"] = toAny(strings.Split(v, "|"))
		case "alias":
			p.json["alias_for"] = v
		case "ref":
			p.json["$ref"] = v
		case "kv":
			p.json["key_value_attributes"] = map[string]any{"key": "key", "value": "value"}
		case "restricted":
			p.json["restricted_projection"] = true
		case "transform":
			p.json["transform"] = map[string]any{"client": "{schema_id}", "server": "{table_name}"}
		case "deprecated":
			p.json["description"] = "This attribute has been deprecated, use `" + v + "` attribute instead."
		default:
			panic("ftrack fake: schema: unknown option " + o)
		}
	}
	return p
}

var (
	schemaOnce   sync.Once
	schemaDefs   []*schemaDef
	schemaDigest string
)

func loadSchemas() {
	schemaOnce.Do(func() {
		schemaDefs = parseSchemaText(schemaText)
		list := make([]any, len(schemaDefs))
		for i, s := range schemaDefs {
			list[i] = s.json
		}
		schemaDigest = SchemaHash(list)
	})
}

// schemas returns a fresh copy of the schema list for one reply.
func schemas() []any {
	loadSchemas()
	out := make([]any, len(schemaDefs))
	for i, s := range schemaDefs {
		out[i] = pyjson.Clone(s.json)
	}
	return out
}

// schemaHash is query_server_information's schema_hash.
func schemaHash() string {
	loadSchemas()
	return schemaDigest
}

// SchemaHash computes a schema_hash as ftrack does, and as ftrack_api
// recomputes it over its schema cache to decide whether to ask
// query_schemas again: the hex MD5 of the schemas dumped by Python's
// json.dumps(schemas, sort_keys=True) (separators ", " and ": ", non-ASCII
// escaped as \uXXXX). schemas is decoded JSON: maps, lists, strings,
// numbers, booleans and nil.
func SchemaHash(schemas any) string {
	sum := md5.Sum(pyjson.Marshal(schemas))
	return hex.EncodeToString(sum[:])
}
