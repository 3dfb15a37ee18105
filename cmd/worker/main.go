// Command worker is fpexport's daemon and operator tool.
//
//	worker migrate   bring the database to the current schema
//	worker run       submit queued orders, receive callbacks, serve reports,
//	                 import the inbox and the ERP on IMPORT_SCHEDULE, write
//	                 yesterday's report on REPORT_SCHEDULE
//	worker report    write the reconciliation report for a period; --list
//	                 shows the ones written on REPORT_SCHEDULE
//	worker review    list the orders in needs_review; resubmit or confirm one
//	worker status    the batches of the last days and the queues; one batch's orders
//	worker retry     send failed orders (of a batch, or one) again
//	worker demo      the whole path on one machine against the FP simulator
//	worker version   which build this is (also --version)
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/frontpayment/fpexport/internal/buildinfo"
	"github.com/frontpayment/fpexport/internal/logging"
	"github.com/frontpayment/fpexport/internal/secretenv"
)

// errUsage marks a usage mistake (exit code 2).
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	// Rejected rows name their values (a personal number, say): masked
	// when the output goes to a file or a journal rather than a person.
	stdout, flushOut := logging.MaskUnlessTerminal(os.Stdout)
	stderr, flushErr := logging.MaskUnlessTerminal(os.Stderr)
	// FP_TOKEN_FILE and the like: the secrets read from files once, here.
	getenv, err := secretenv.Wrap(os.Getenv)
	if err == nil {
		err = run(ctx, os.Args[1:], getenv, stdout, stderr)
	}
	stop()
	flushOut()
	flushErr()
	if err != nil {
		if !errors.Is(err, errUsage) {
			// One line per problem (daemon.LoadConfig names each bad setting on
			// its own line), each marked as the worker's.
			for _, line := range strings.Split(err.Error(), "\n") {
				fmt.Fprintln(os.Stderr, "worker:", line)
			}
		}
		os.Exit(exitCode(err))
	}
}

func exitCode(err error) int {
	if errors.Is(err, errUsage) {
		return 2
	}
	return 1
}

const usage = `usage: worker <command> [flags]

commands:
  migrate   bring the database (DATABASE_URL) to the current schema
  run       the daemon: submit orders, receive FP callbacks, serve reports, scheduled imports
  report    write the reconciliation report: [--from DATE] [--to DATE] [--format xlsx|csv|json] [--out FILE]
            report --list [--format text|json]: the reports written on REPORT_SCHEDULE
  review    list the orders in needs_review: [--format text|json]; decide one:
            review resubmit ORDER [--fpgo-uuid UUID|known] [--note TEXT] [--by NAME]
            review confirm ORDER ORDER_UUID [--note TEXT] [--by NAME]
  status    batches of the last days with orders per status, and River's queues: [--days N] [--format text|json]
            status BATCH: the batch's orders
  retry     send the failed orders again: retry BATCH|ORDER [--note TEXT] [--by NAME]
  cancel    cancel an order at FP (or withdraw one FP has not got): cancel ORDER [--note TEXT] [--by NAME]
  resend    send the payment link or notification again: resend ORDER [--email E] [--msisdn M] [--country-code C]
  withdraw  stop an order FP has not got from being sent: withdraw ORDER [--note TEXT] [--by NAME]
  attention what needs a person, with the actions that fit: [--format text|json] [--limit N] [--lang no|en]
  orders    find orders: orders --search TEXT (reference, name, e-mail, FP order id, id or batch)
  order     one order, its lines, payment link and whole history: order ORDER
  demo      run the whole path on this machine against the built-in FP simulator
  web-passwd NAME  print a WEB_USERS entry for NAME; the password is read from stdin
  version   the build: module version, VCS revision and time, Go version (also --version)

Configuration is read from the environment; see README.md.
`

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	logger := logging.New(getenv("LOG_FORMAT"), stderr)
	switch args[0] {
	case "migrate":
		return cmdMigrate(ctx, getenv, logger)
	case "run":
		logger.Info("worker starting", buildinfo.Read().LogAttrs()...)
		return cmdRun(ctx, getenv, logger)
	case "report":
		return cmdReport(ctx, args[1:], getenv, stdout, stderr, logger)
	case "review":
		return cmdReview(ctx, args[1:], getenv, stdout, stderr)
	case "status":
		return cmdStatus(ctx, args[1:], getenv, stdout, stderr)
	case "retry":
		return cmdRetry(ctx, args[1:], getenv, stdout, stderr)
	case "attention":
		return cmdAttention(ctx, args[1:], getenv, stdout, stderr)
	case "orders":
		return cmdOrders(ctx, args[1:], getenv, stdout, stderr)
	case "order":
		return cmdOrder(ctx, args[1:], getenv, stdout, stderr)
	case "cancel":
		return cmdAction(ctx, "cancel", args[1:], getenv, stdout, stderr)
	case "resend":
		return cmdAction(ctx, "resend", args[1:], getenv, stdout, stderr)
	case "withdraw":
		return cmdAction(ctx, "withdraw", args[1:], getenv, stdout, stderr)
	case "web-passwd":
		return cmdWebPasswd(args[1:], os.Stdin, stdout, stderr)
	case "demo":
		return cmdDemo(ctx, args[1:], getenv, stdout, stderr, logger)
	case "version", "--version":
		fmt.Fprintln(stdout, "worker", buildinfo.Read())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprintf(stderr, "worker: unknown command %q\n\n%s", args[0], usage)
	return errUsage
}
