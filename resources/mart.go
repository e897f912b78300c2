package resources

import (
	"embed"
	"fmt"
)

// mart holds the mart's DDL (resources/mart): the tables, keys, indexes and
// views of the gold tables' copy in PostgreSQL and in SQLite.
//
//go:embed mart/*.sql
var mart embed.FS

// MartDDL returns the mart's DDL for a database/sql driver name: `pgx` or
// `postgres` (resources/mart/postgres.sql, schema `mart`) or `sqlite`
// (resources/mart/sqlite.sql). Every statement in it is idempotent.
func MartDDL(driver string) (string, error) {
	var name string
	switch driver {
	case "pgx", "postgres":
		name = "mart/postgres.sql"
	case "sqlite":
		name = "mart/sqlite.sql"
	default:
		return "", fmt.Errorf("no mart DDL for driver %q: pgx, postgres or sqlite", driver)
	}
	b, err := mart.ReadFile(name)
	if err != nil {
		return "", err
	}
	return string(b), nil
}
