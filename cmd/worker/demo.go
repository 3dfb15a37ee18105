package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/frontpayment/fpexport/internal/daemon"
	"github.com/frontpayment/fpexport/internal/fpclient"
	"github.com/frontpayment/fpexport/internal/fpfake"
	"github.com/frontpayment/fpexport/internal/intake"
	"github.com/frontpayment/fpexport/internal/logging"
	"github.com/frontpayment/fpexport/internal/orderstate"
	"github.com/frontpayment/fpexport/internal/report"
	"github.com/frontpayment/fpexport/internal/store"
)

// cmdDemo runs the whole path on this machine: database, the FP simulator on
// loopback, the worker, the sample files, callbacks, and the report.
func cmdDemo(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, logger *slog.Logger) error {
	fs := flag.NewFlagSet("worker demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	samples := fs.String("samples", "samples", "folder with the CSV/XLSX files to import")
	reports := fs.String("reports", "reports", "folder for the report")
	timeout := fs.Duration("timeout", 3*time.Minute, "give up waiting for FP after this long")
	verbose := fs.Bool("v", false, "log every submission and callback")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return errUsage
	}
	if !*verbose {
		logger = logging.AtLeast(logger, slog.LevelWarn)
	}
	cfg, err := daemon.LoadConfig(getenv, daemon.Need{})
	if err != nil {
		return err
	}
	files, err := sampleFiles(*samples)
	if err != nil {
		return err
	}

	fmt.Fprintf(stdout, "database: %s\n", redactURL(cfg.DatabaseURL))
	if err := store.EnsureDatabase(ctx, cfg.DatabaseURL); err != nil {
		return err
	}
	pool, err := daemon.OpenPool(ctx, cfg, int32(2*cfg.Concurrency)+25)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := store.Migrate(ctx, pool, logger); err != nil {
		return err
	}

	// The simulator plays FP: every order gets a callback, some are paid.
	// The simulator and the worker share a checksum key, as FP and a
	// production worker should (without one each callback would be
	// confirmed with FP first: docs/keyless.md).
	const token = "demo-token"
	cfg.ChecksumKey = randomSecret()
	sim := fpfake.New(fpfake.Config{Token: token, ChecksumKey: cfg.ChecksumKey, CallbackDelay: 300 * time.Millisecond, Plan: demoPlan, Logger: logger})
	simURL, err := sim.Start("127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("starting the FP simulator: %w", err)
	}
	defer sim.Close()
	fmt.Fprintf(stdout, "FP simulator: %s\n", simURL)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	cfg.FPBaseURL, cfg.FPToken = simURL, token
	cfg.ListenAddr = ln.Addr().String()
	cfg.CallbackBaseURL = "http://" + ln.Addr().String()
	cfg.CallbackSecret = randomSecret()
	cfg.SuccessURL, cfg.FailureURL = "https://shop.example.no/payment/success", "https://shop.example.no/payment/failure"
	d, err := daemon.New(ctx, cfg, pool, logger, ln)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "worker: callbacks at %s\n\n", cfg.CallbackBaseURL)

	// Import.
	start := time.Now()
	oslo := cfg.Location
	// The samples use synthetic test personal numbers, and each may have a
	// profile beside it (faktura-norsk.xlsx → faktura-norsk.profile.json).
	settings := intake.Settings{Location: oslo, AllowTestIDs: true}
	now := time.Now()
	var opened []*intake.File
	defer func() { // any a failure left open
		for _, f := range opened {
			f.Close()
		}
	}()
	for _, path := range files {
		fileSettings := settings
		profile, err := intake.ProfileBeside(path)
		if err != nil {
			return err
		}
		fileSettings.Profile = profile
		f, err := intake.Open(path, fileSettings.Options(now))
		if err != nil {
			return err
		}
		opened = append(opened, f)
	}
	res, err := intake.Commit(ctx, pool, d.River(), opened, intake.CommitOptions{})
	if err != nil {
		return err
	}
	for _, sk := range res.Skipped {
		fmt.Fprintf(stdout, "%s: these exact bytes were imported before (batch %d); skipped\n", sk.File.Name, sk.BatchID)
	}
	for _, o := range res.Batches {
		f := fileOf(opened, res, o.BatchID)
		fmt.Fprintf(stdout, "%s: %d rows, %d valid orders, %d rejected rows\n", f.Name, f.Stats.Rows, f.Stats.Orders, f.RejectedRowCount())
		for _, e := range f.Stats.Errors {
			fmt.Fprintf(stdout, "  %s\n", e.Error())
		}
		fmt.Fprintf(stdout, "  batch %d: %d new, %d changed, %d unchanged orders\n", o.BatchID,
			o.Counts[store.OrderNew], o.Counts[store.OrderChanged], o.Counts[store.OrderUnchanged])
	}

	// Work until every order is settled and every callback applied.
	runCtx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- d.Serve(runCtx) }()
	fmt.Fprintln(stdout, "\nsubmitting to the FP simulator and waiting for its callbacks …")
	waitErr := daemon.WaitSettled(ctx, pool, start, true, *timeout)
	stop()
	if err := <-served; err != nil {
		return err
	}
	if waitErr != nil {
		fmt.Fprintln(stdout, "warning:", waitErr)
	}

	// Report for today, the day the orders were imported.
	today := time.Now().In(oslo).Format(time.DateOnly)
	rep, err := store.LoadReport(ctx, pool, today, today, time.Now(), store.DefaultStaleAfter)
	if err != nil {
		return err
	}
	path := filepath.Join(*reports, "reconciliation-"+today+".xlsx")
	if err := writeReport(rep, "xlsx", path, stdout); err != nil {
		return err
	}
	printSummary(stdout, rep)
	fmt.Fprintf(stdout, "\nFP simulator created %d orders. Report: %s\n", len(sim.Orders()), path)
	return nil
}

// fileOf finds the file a batch was made from (batches follow the files
// that were not skipped, in order).
func fileOf(files []*intake.File, res *intake.Committed, batchID int64) *intake.File {
	skipped := map[*intake.File]bool{}
	for _, sk := range res.Skipped {
		skipped[sk.File] = true
	}
	n := 0
	for _, f := range files {
		if skipped[f] {
			continue
		}
		if res.Batches[n].BatchID == batchID {
			return f
		}
		n++
	}
	return nil
}

func sampleFiles(dir string) ([]string, error) {
	var files []string
	for _, pattern := range []string{"*.csv", "*.xlsx"} {
		m, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil {
			return nil, err
		}
		files = append(files, m...)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no .csv or .xlsx files in %s (run the demo from the repository's top folder)", dir)
	}
	slices.Sort(files)
	return files, nil
}

// demoPlan decides what the simulated FP reports for each order: every order
// is sent, and about two in three are then paid.
func demoPlan(o fpfake.Order) []string {
	h := fnv.New32a()
	h.Write([]byte(o.Reference))
	if h.Sum32()%3 == 0 {
		return []string{"SENT"}
	}
	return []string{"SENT", "PAID"}
}

func randomSecret() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// redactURL hides a password in a database URL.
func redactURL(u string) string {
	if at := strings.LastIndex(u, "@"); at > 0 {
		if scheme := strings.Index(u, "://"); scheme > 0 {
			userinfo := u[scheme+3 : at]
			if user, _, ok := strings.Cut(userinfo, ":"); ok {
				return u[:scheme+3] + user + ":***" + u[at:]
			}
		}
	}
	return u
}

func printSummary(w io.Writer, rep *report.Report) {
	type agg struct {
		orders int
		total  int64
	}
	by := map[string]*agg{}
	var all agg
	for _, o := range rep.Orders {
		a := by[o.Status]
		if a == nil {
			a = &agg{}
			by[o.Status] = a
		}
		a.orders++
		a.total += o.GrandTotal
		all.orders++
		all.total += o.GrandTotal
	}
	fmt.Fprintf(w, "\nOrders imported %s (Europe/Oslo):\n", rep.From)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "status\torders\tNOK\t")
	for _, s := range orderstate.All {
		if a := by[string(s)]; a != nil {
			fmt.Fprintf(tw, "%s\t%d\t%s\t\n", s, a.orders, fpclient.Amount(a.total).NOK())
			delete(by, string(s))
		}
	}
	for s, a := range by {
		fmt.Fprintf(tw, "%s\t%d\t%s\t\n", s, a.orders, fpclient.Amount(a.total).NOK())
	}
	fmt.Fprintf(tw, "total\t%d\t%s\t\n", all.orders, fpclient.Amount(all.total).NOK())
	tw.Flush()
	fmt.Fprintf(w, "rejected rows: %d\n", len(rep.Rejected))
}
