package store

import (
	"context"
	"fmt"
	"time"
)

// RecordImportRun notes that an import of source finished (files or none).
func RecordImportRun(ctx context.Context, db DB, source string) error {
	_, err := db.Exec(ctx, `INSERT INTO import_runs (source, finished_at) VALUES ($1, now())
		ON CONFLICT (source) DO UPDATE SET finished_at = now()`, source)
	if err != nil {
		return fmt.Errorf("recording the import run of %s: %w", source, err)
	}
	return nil
}

// LastRuns are when the newest import run finished and the newest
// scheduled report was written; a zero time when there has been none.
type LastRuns struct {
	Import, Report time.Time
}

// ReadLastRuns reads LastRuns.
func ReadLastRuns(ctx context.Context, db DB) (LastRuns, error) {
	var imp, rep *time.Time
	err := db.QueryRow(ctx, `SELECT (SELECT max(finished_at) FROM import_runs),
		(SELECT max(generated_at) FROM reports)`).Scan(&imp, &rep)
	if err != nil {
		return LastRuns{}, err
	}
	var out LastRuns
	if imp != nil {
		out.Import = *imp
	}
	if rep != nil {
		out.Report = *rep
	}
	return out, nil
}
