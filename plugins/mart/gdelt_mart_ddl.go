package mart

import (
	"github.com/redpanda-data/benthos/v4/public/bloblang"

	"github.com/gdeltflow/gdeltflow/resources"
)

// gdelt_mart_ddl gives the gdelt_mart template the DDL embedded in the binary
// (resources/mart), for sql_raw's init_statement: a template cannot read a
// file, and a path would tie the output to the directory it runs from.
func init() {
	spec := bloblang.NewPluginSpec().
		Category("GDELT").
		Description("The mart's DDL (tables, keys, indexes, views; every statement idempotent) for a database/sql driver: `pgx` or `postgres` (resources/mart/postgres.sql, schema `mart`) or `sqlite` (resources/mart/sqlite.sql). The `gdelt_mart` output applies it at its first connection.").
		Param(bloblang.NewStringParam("driver").Description("`pgx`, `postgres` or `sqlite`.")).
		Example("The SQLite DDL", `root = gdelt_mart_ddl("sqlite").contains("CREATE TABLE IF NOT EXISTS country_daily")`, [2]string{`{}`, `true`})
	bloblang.MustRegisterFunctionV2("gdelt_mart_ddl", spec, func(args *bloblang.ParsedParams) (bloblang.Function, error) {
		driver, err := args.GetString("driver")
		if err != nil {
			return nil, err
		}
		ddl, err := resources.MartDDL(driver)
		if err != nil {
			return nil, err
		}
		return func() (any, error) { return ddl, nil }, nil
	})
}
