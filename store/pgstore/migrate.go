package pgstore

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one embedded schema change.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations, by version. Their files are
// named NNNN_name.sql, numbered from 1 without gaps.
func migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		num, name, ok := strings.Cut(strings.TrimSuffix(e.Name(), ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v != len(ms)+1 {
			return nil, fmt.Errorf("pgstore: migration file %s: want the name %04d_<name>.sql", e.Name(), len(ms)+1)
		}
		b, err := migrationFiles.ReadFile(path.Join("migrations", e.Name()))
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: name, sql: string(b)})
	}
	return ms, nil
}

// SchemaVersion is the version of the schema this package reads and
// writes: the number of its embedded migrations.
const SchemaVersion = 7

// ErrSchema means the database's schema is missing or older than
// SchemaVersion: call Migrate.
var ErrSchema = errors.New("pgstore: database schema is not migrated")

// Advisory lock keys. PostgreSQL's two-key advisory locks take the first
// key as a class: this package's are "orga" and "orgm" in ASCII, so that
// they stay clear of the host's own advisory locks.
const (
	lockClassOrg     = 0x6f726761 // an organization that has no row yet
	lockClassMigrate = 0x6f72676d // Migrate
)

// Migrate brings the schema in the database up to SchemaVersion: it creates
// the PostgreSQL schema "orgauthz" and applies, in one transaction, every
// embedded migration not yet applied, recording each in
// orgauthz.schema_migrations. It is idempotent, and safe when several
// replicas call it at once: the first holds an advisory lock while it
// migrates, the others wait for it and then find nothing left to do. A
// database migrated by a newer version of this package is left as it is.
//
// Migrate is an explicit step, run at deployment or start-up; New and Open
// never change the schema.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, 0)`, lockClassMigrate); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
			CREATE SCHEMA IF NOT EXISTS orgauthz;
			CREATE TABLE IF NOT EXISTS orgauthz.schema_migrations (
				version    integer PRIMARY KEY,
				name       text NOT NULL,
				applied_at timestamptz NOT NULL DEFAULT now()
			)`); err != nil {
			return err
		}
		var have int
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM orgauthz.schema_migrations`).Scan(&have); err != nil {
			return err
		}
		for _, m := range ms[min(have, len(ms)):] {
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return fmt.Errorf("migration %04d_%s: %w", m.version, m.name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO orgauthz.schema_migrations (version, name) VALUES ($1, $2)`, m.version, m.name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("pgstore: migrate: %w", translate(ctx, err))
	}
	return nil
}

// schemaVersion returns the version of the database's schema, 0 if it has
// none.
func schemaVersion(ctx context.Context, q querier) (int, error) {
	var exists bool
	if err := q.QueryRow(ctx, `SELECT to_regclass('orgauthz.schema_migrations') IS NOT NULL`).Scan(&exists); err != nil || !exists {
		return 0, err
	}
	var v int
	err := q.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM orgauthz.schema_migrations`).Scan(&v)
	return v, err
}
