package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/frontpayment/fpexport/internal/store"
)

// opFlags is the flag set of an operator's command (status, retry, review)
// with its usage, which it prints with a mistake's reason.
type opFlags struct {
	*flag.FlagSet
	usage  string
	stderr io.Writer
}

func newOpFlags(name, usage string, stderr io.Writer) *opFlags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	return &opFlags{FlagSet: fs, usage: usage, stderr: stderr}
}

// parse parses args, flags wherever they stand, and returns the positional
// ones. help: -h was asked for and the usage printed; nothing more to do.
func (f *opFlags) parse(args []string) (pos []string, help bool, err error) {
	pos, err = parseInterspersed(f.FlagSet, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil, true, nil
	}
	if err != nil {
		return nil, false, errUsage // the flag package said why
	}
	return pos, false, nil
}

// usageErr prints why the command line is wrong and the usage, and returns
// errUsage (exit code 2).
func (f *opFlags) usageErr(format string, a ...any) error {
	fmt.Fprintf(f.stderr, "%s: %s\n\n%s", f.Name(), fmt.Sprintf(format, a...), f.usage)
	return errUsage
}

// decisionFlags adds --note and --by (default $USER); the function returned
// reads them after parsing, and refuses a decision nobody signs.
func (f *opFlags) decisionFlags(getenv func(string) string, noteHelp string) func() (store.ReviewDecision, error) {
	note := f.String("note", "", noteHelp)
	by := f.String("by", getenv("USER"), "who decided (default $USER)")
	return func() (store.ReviewDecision, error) {
		d := store.ReviewDecision{By: strings.TrimSpace(*by), Note: strings.TrimSpace(*note)}
		if d.By == "" {
			return d, f.usageErr("--by is empty and $USER is not set: say who decides")
		}
		return d, nil
	}
}

// parseInterspersed parses flags wherever they stand among the positional
// arguments (`resubmit R-1 --note x`), which the flag package alone does not.
// Everything after "--" is positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		before, after, dashes := cutDashes(args)
		if err := fs.Parse(before); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			if dashes {
				pos = append(pos, after...)
			}
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
		if dashes {
			args = append(append(args, "--"), after...)
		}
	}
}

func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func cutDashes(args []string) (before, after []string, found bool) {
	for i, a := range args {
		if a == "--" {
			return args[:i], args[i+1:], true
		}
	}
	return args, nil, false
}
