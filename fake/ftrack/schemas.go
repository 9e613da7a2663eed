package ftrack

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"sync"
)

// schemaJSON is what query_schemas answers: the schemas of the entity types
// the fake serves, in the real server's shape (id, type, primary_key,
// required, immutable, computed, default_projections, system_projections,
// properties with type / format / default / enum / $ref / items / alias_for),
// limited to the attributes and relations the fake implements.
const schemaJSON = `[
{"id": "User", "type": "object", "primary_key": ["id"],
 "required": ["username", "is_active", "resource_type", "id"],
 "immutable": ["resource_type", "id"], "default_projections": ["id"], "system_projections": ["resource_type"],
 "properties": {
  "id": {"type": "string", "default": "{uid}"},
  "username": {"type": "string"},
  "first_name": {"type": "string", "alias_for": "firstname"},
  "last_name": {"type": "string", "alias_for": "lastname"},
  "email": {"type": "string"},
  "is_active": {"type": "boolean", "alias_for": "isactive"},
  "is_otp_enabled": {"type": "boolean", "alias_for": "otp_enabled"},
  "is_totp_enabled": {"type": "boolean", "alias_for": "totp_enabled"},
  "require_details_update": {"type": "boolean"},
  "user_type_id": {"format": "foreign_key", "description": "Foreign key(s): UserType.id", "alias_for": "typeid"},
  "thumbnail_id": {"type": "string", "format": "foreign_key", "description": "Foreign key(s): Component.id", "alias_for": "thumbid"},
  "resource_type": {"type": "string", "default": "user"}}},
{"id": "Job", "type": "object", "primary_key": ["id"],
 "required": ["id", "status", "type"], "immutable": ["id", "type"], "default_projections": ["id"],
 "properties": {
  "id": {"type": "string", "default": "{uid}", "alias_for": "jobid"},
  "status": {"type": "string", "default": "queued", "enum": ["queued", "running", "done", "failed"]},
  "type": {"type": "string", "default": "api_job"},
  "data": {"type": "string", "format": "json"},
  "user_id": {"type": "string", "format": "foreign_key", "description": "Foreign key(s): User.user_id", "alias_for": "userid"},
  "user": {"$ref": "User"},
  "created_at": {"type": "string", "format": "date-time"},
  "finished_at": {"type": "string", "format": "date-time"},
  "job_components": {"type": "array", "items": {"$ref": "JobComponent"}}}},
{"id": "JobComponent", "type": "object", "primary_key": ["component_id", "job_id"],
 "required": ["component_id", "job_id"], "immutable": ["component_id", "job_id", "url"], "computed": ["url"],
 "default_projections": ["component_id", "job_id"],
 "properties": {
  "component_id": {"type": "string", "format": "foreign_key", "description": "Foreign key(s): Component.id"},
  "component": {"$ref": "Component"},
  "job_id": {"type": "string", "format": "foreign_key", "description": "Foreign key(s): Job.id"},
  "job": {"$ref": "Job"},
  "url": {"type": "object"}}},
{"id": "Component", "type": "object", "primary_key": ["id"],
 "required": ["system_type", "name", "id"], "immutable": ["id"],
 "default_projections": ["id", "system_type"], "system_projections": ["system_type", "version_id"],
 "properties": {
  "id": {"type": "string", "default": "{uid}"},
  "name": {"type": "string", "default": "main"},
  "file_type": {"type": "string", "alias_for": "filetype"},
  "size": {"type": "integer", "default": 0},
  "system_type": {"type": "string"},
  "container_id": {"type": "string", "format": "foreign_key", "description": "Foreign key(s): ContainerComponent.id"},
  "version_id": {"type": "string", "format": "foreign_key", "description": "Foreign key(s): AssetVersion.id"},
  "component_locations": {"type": "array", "items": {"$ref": "ComponentLocation"}}}},
{"id": "FileComponent", "type": "object", "primary_key": ["id"],
 "required": ["system_type", "name", "id"], "immutable": ["id"],
 "default_projections": ["id", "system_type"], "system_projections": ["system_type", "version_id"],
 "properties": {
  "id": {"type": "string", "default": "{uid}", "format": "foreign_key", "description": "Foreign key(s): Component.id"},
  "name": {"type": "string", "default": "main"},
  "file_type": {"type": "string", "alias_for": "filetype"},
  "size": {"type": "integer", "default": 0},
  "system_type": {"type": "string"},
  "container_id": {"type": "string", "format": "foreign_key", "description": "Foreign key(s): ContainerComponent.id"},
  "version_id": {"type": "string", "format": "foreign_key", "description": "Foreign key(s): AssetVersion.id"},
  "component_locations": {"type": "array", "items": {"$ref": "ComponentLocation"}}}},
{"id": "ComponentLocation", "type": "object", "primary_key": ["id"],
 "required": ["id"], "immutable": ["id"], "computed": ["url"],
 "default_projections": ["id"], "system_projections": ["location_id", "component_id"],
 "properties": {
  "id": {"type": "string", "default": "{uid}"},
  "component_id": {"type": "string", "format": "foreign_key", "description": "Foreign key(s): Component.id"},
  "component": {"$ref": "Component"},
  "location_id": {"type": "string", "format": "foreign_key", "description": "Foreign key(s): Location.id"},
  "location": {"$ref": "Location"},
  "resource_identifier": {"type": "string", "alias_for": "resourceIdentifier"},
  "url": {"type": "object"}}},
{"id": "Location", "type": "object", "primary_key": ["id"],
 "required": ["name", "id"], "immutable": ["id"], "default_projections": ["id"],
 "properties": {
  "id": {"type": "string", "default": "{uid}"},
  "name": {"type": "string"},
  "label": {"type": "string"},
  "description": {"type": "string"},
  "location_components": {"type": "array", "items": {"$ref": "ComponentLocation"}}}}
]`

var (
	schemaOnce   sync.Once
	schemaDigest string
)

func loadSchemas() {
	schemaOnce.Do(func() {
		var check []any
		if err := json.Unmarshal([]byte(schemaJSON), &check); err != nil {
			panic("ftrack fake: bad schema table: " + err.Error())
		}
		sum := md5.Sum([]byte(schemaJSON))
		schemaDigest = hex.EncodeToString(sum[:])
	})
}

// schemas returns a fresh copy of the schema list for one reply.
func schemas() []any {
	loadSchemas()
	var out []any
	_ = json.Unmarshal([]byte(schemaJSON), &out)
	return out
}

// schemaHash is query_server_information's schema_hash: an MD5 of the
// schemas, so a client's schema cache sees when they change.
func schemaHash() string {
	loadSchemas()
	return schemaDigest
}
