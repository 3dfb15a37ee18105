package main

import (
	"context"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/frontpayment/fpexport/internal/daemon"
)

func cmdMigrate(ctx context.Context, getenv func(string) string, logger *slog.Logger) error {
	cfg, err := daemon.LoadConfig(getenv, daemon.Need{})
	if err != nil {
		return err
	}
	return daemon.Migrate(ctx, cfg, logger)
}

func cmdRun(ctx context.Context, getenv func(string) string, logger *slog.Logger) error {
	daemon.CleanTempDirs(logger)
	cfg, err := daemon.LoadConfig(getenv, daemon.NeedAll)
	if err != nil {
		return err
	}
	return daemon.Run(ctx, cfg, logger)
}

// openCommandDB is daemon.OpenCommandDB: the settings and a small pool on a
// current schema, for status, retry, review and report --list.
func openCommandDB(ctx context.Context, getenv func(string) string) (*daemon.Config, *pgxpool.Pool, error) {
	return daemon.OpenCommandDB(ctx, getenv)
}
