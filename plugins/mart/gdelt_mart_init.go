package mart

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"

	"github.com/redpanda-data/benthos/v4/public/service"

	"github.com/gdeltflow/gdeltflow/resources"
)

func gdeltMartInitSpec() *service.ConfigSpec {
	return service.NewConfigSpec().
		Categories("Services").
		Summary("Applies the mart's DDL before the first batch the mart writes, and keeps trying until it has.").
		Description(`
Used by the ` + "`gdelt_mart`" + ` output in front of its writer. sql_raw runs its ` + "`init_statement`" + ` once, at its first
connection, and only logs a failure: a database down at that moment (or, for SQLite, a file whose folder does not
exist yet, as ` + "`out/`" + ` on a first run) would leave the mart without tables until the stage restarts. This processor
applies the same DDL (resources/mart, every statement idempotent) when the first batch comes, waits and tries again
(1 s doubling to 30 s) while it fails, and passes the batch on once it has succeeded; later batches pass at once.`).
		Field(service.NewStringEnumField(gmcFieldDriver, "pgx", "postgres", "sqlite").
			Description("The database/sql driver, as the mart output's.")).
		Field(service.NewStringField(gmcFieldDSN).
			Description("The database, as the mart output's."))
}

func init() {
	service.MustRegisterBatchProcessor("gdelt_mart_init", gdeltMartInitSpec(),
		func(conf *service.ParsedConfig, mgr *service.Resources) (service.BatchProcessor, error) {
			driver, err := conf.FieldString(gmcFieldDriver)
			if err != nil {
				return nil, err
			}
			dsn, err := conf.FieldString(gmcFieldDSN)
			if err != nil {
				return nil, err
			}
			ddl, err := resources.MartDDL(driver)
			if err != nil {
				return nil, err
			}
			return &martInit{driver: driver, dsn: dsn, ddl: ddl, log: mgr.Logger()}, nil
		})
}

type martInit struct {
	driver, dsn, ddl string
	log              *service.Logger

	mu   sync.Mutex
	done bool
}

func (m *martInit) apply(ctx context.Context) error {
	db, err := sql.Open(m.driver, m.dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, m.ddl)
	return err
}

func (m *martInit) ProcessBatch(ctx context.Context, batch service.MessageBatch) ([]service.MessageBatch, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	wait := time.Second
	for !m.done {
		err := m.apply(ctx)
		if err == nil {
			m.done = true
			break
		}
		m.log.Warnf("gdelt_mart: applying the mart's DDL: %v; trying again in %v", err, wait)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return nil, fmt.Errorf("applying the mart's DDL: %w", err)
		}
		wait = min(2*wait, 30*time.Second)
	}
	return []service.MessageBatch{batch}, nil
}

func (m *martInit) Close(context.Context) error { return nil }
