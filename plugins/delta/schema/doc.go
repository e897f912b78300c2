// Package schema is the Delta type system: a table's schema (StructType) and
// the types of its columns (DataType: a primitive such as long, date or
// decimal(10,2), or an array, map or struct), as PROTOCOL.md's "Schema
// Serialization Format" defines them.
//
// JSON writes the metaData action's schemaString exactly as Spark does
// (compact, keys in Spark's order, no HTML escaping), so a schema written
// here reads back byte for byte the way Spark and delta-rs print it; Parse
// reads any writer's. Validate holds Delta's rules: every type known, field
// names non-empty and unique regardless of case within each struct. ParseYAML
// reads the form a config declares a schema in (a list of {name, type,
// nullable}, nested types as objects), as the delta_lake output's schema
// field takes it.
//
// # Files
//
//   - schema.go: the types, their constructors, names and validation, decimal(p,s)
//   - json.go: the Delta JSON form (JSON, Parse, MarshalJSON, UnmarshalJSON)
//   - yaml.go: the config form (ParseYAML)
package schema
