// Command fpsim runs the Front Payment simulator (internal/fpfake) on its
// own: the four order endpoints and the status endpoint, validation as FP's
// seeds document it, callbacks to each order's callbackUrl, and the fault
// knobs that make sense from the command line.
//
//	FP_TOKEN=demo-token fpsim -addr 127.0.0.1:8099 -callback-delay 2s
//
// Every setting can come from a flag or from the environment; a flag wins.
// The token is better given as FP_TOKEN than as a flag, which other users
// of the machine can see in the process list.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/frontpayment/fpexport/internal/fpfake"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "fpsim:", err)
		os.Exit(1)
	}
}

// settings are fpsim's configuration after flags and environment.
type settings struct {
	addr, token, key, baseURL, plan string
	callbackDelay, latency          time.Duration
	limitPerMinute                  int
	errorsAsObject, nullData        bool
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	s, err := parseSettings(args, getenv, stderr)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	var plan func(fpfake.Order) []string = fpfake.NoCallbacks
	if statuses := splitPlan(s.plan); len(statuses) > 0 {
		plan = func(fpfake.Order) []string { return statuses }
	}
	sim := fpfake.New(fpfake.Config{
		Token:         s.token,
		ChecksumKey:   s.key,
		CallbackDelay: s.callbackDelay,
		Plan:          plan,
		BaseURL:       s.baseURL,
		Logger:        logger,
		Faults: fpfake.Faults{
			Latency:             s.latency,
			LimitPerMinute:      s.limitPerMinute,
			ErrorsAsObject:      s.errorsAsObject,
			PaymentLinkNullData: s.nullData,
		},
	})
	base, err := sim.Start(s.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.addr, err)
	}
	fmt.Fprintf(stdout, "fpsim listening on %s\n", base)
	logger.InfoContext(ctx, "fpsim started", "base_url", base, "callback_delay", s.callbackDelay,
		"plan", s.plan, "latency", s.latency, "checksum_key_set", s.key != "")

	<-ctx.Done()
	logger.Info("fpsim stopping")
	return sim.Close()
}

// parseSettings reads the environment, then the flags, and checks every
// setting, reporting each problem on a line of its own.
func parseSettings(args []string, getenv func(string) string, stderr io.Writer) (settings, error) {
	var problems []error
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	envDuration := func(name string, def time.Duration) time.Duration {
		v := getenv(name)
		if v == "" {
			return def
		}
		d, err := time.ParseDuration(v)
		if err != nil {
			problems = append(problems, fmt.Errorf("%s=%q is not a duration (like 2s or 150ms)", name, v))
			return def
		}
		return d
	}
	envInt := func(name string, def int) int {
		v := getenv(name)
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			problems = append(problems, fmt.Errorf("%s=%q is not a whole number", name, v))
			return def
		}
		return n
	}
	envBool := func(name string) bool {
		v := getenv(name)
		if v == "" {
			return false
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			problems = append(problems, fmt.Errorf("%s=%q is not true or false", name, v))
		}
		return b
	}

	var s settings
	fs := flag.NewFlagSet("fpsim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&s.addr, "addr", env("FPSIM_ADDR", "127.0.0.1:8099"), "listen address (FPSIM_ADDR)")
	fs.StringVar(&s.token, "token", env("FP_TOKEN", fpfake.DefaultToken), "bearer token FP accepts (FP_TOKEN; prefer the variable)")
	fs.StringVar(&s.key, "checksum-key", env("FP_CHECKSUM_KEY", ""), "secret key appended to the callback checksum; empty: the seeds' keyless formula (FP_CHECKSUM_KEY)")
	fs.StringVar(&s.baseURL, "base-url", env("FPSIM_BASE_URL", ""), "base of the paymentUrl answered; default the listen address (FPSIM_BASE_URL)")
	fs.StringVar(&s.plan, "plan", env("FPSIM_PLAN", "SENT,PAID"), `statuses reported by callback for each new order, comma-separated; "none" for no callbacks (FPSIM_PLAN)`)
	fs.DurationVar(&s.callbackDelay, "callback-delay", envDuration("FPSIM_CALLBACK_DELAY", 2*time.Second), "wait before each callback of the plan (FPSIM_CALLBACK_DELAY)")
	fs.DurationVar(&s.latency, "latency", envDuration("FPSIM_LATENCY", 0), "delay added to every order request (FPSIM_LATENCY)")
	fs.IntVar(&s.limitPerMinute, "limit-per-minute", envInt("FPSIM_LIMIT_PER_MINUTE", 0), "enforce this many requests per minute per token, 0: not enforced (FPSIM_LIMIT_PER_MINUTE)")
	fs.BoolVar(&s.errorsAsObject, "errors-as-object", envBool("FPSIM_ERRORS_AS_OBJECT"), "answer 417 errors as field → messages instead of a list (FPSIM_ERRORS_AS_OBJECT)")
	fs.BoolVar(&s.nullData, "payment-link-null-data", envBool("FPSIM_PAYMENT_LINK_NULL_DATA"), "payment links answer 201 with data null (FPSIM_PAYMENT_LINK_NULL_DATA)")
	if err := fs.Parse(args); err != nil {
		return s, err
	}
	if fs.NArg() > 0 {
		problems = append(problems, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " ")))
	}
	if _, _, err := net.SplitHostPort(s.addr); err != nil {
		problems = append(problems, fmt.Errorf("addr %q is not host:port", s.addr))
	}
	if strings.TrimSpace(s.token) == "" || strings.ContainsAny(s.token, " \t\r\n") {
		problems = append(problems, errors.New("token must be non-empty and without spaces"))
	}
	if s.baseURL != "" {
		if u, err := url.Parse(s.baseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			problems = append(problems, fmt.Errorf("base-url %q is not an http(s) URL", s.baseURL))
		}
	}
	if s.callbackDelay <= 0 {
		problems = append(problems, fmt.Errorf("callback-delay %v must be positive", s.callbackDelay))
	}
	if s.latency < 0 {
		problems = append(problems, fmt.Errorf("latency %v must not be negative", s.latency))
	}
	if s.limitPerMinute < 0 {
		problems = append(problems, fmt.Errorf("limit-per-minute %d must not be negative", s.limitPerMinute))
	}
	for _, st := range splitPlan(s.plan) {
		if st != strings.ToUpper(st) {
			problems = append(problems, fmt.Errorf("plan status %q: FP's statuses are upper case", st))
		}
	}
	return s, errors.Join(problems...)
}

// splitPlan reads "SENT,PAID" (or "none").
func splitPlan(plan string) []string {
	if strings.EqualFold(strings.TrimSpace(plan), "none") {
		return nil
	}
	var out []string
	for p := range strings.SplitSeq(plan, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
