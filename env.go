package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// checkEnv returns an error naming the variable and its value for the
// first <prefix>_<NAME> environment variable that does not parse as its
// flag's type, e.g. "MCPFIBER_MAX_SESSIONS=abc: want an integer
// (--max-sessions)". ff.Parse, which reads the same variables after it,
// would report it without the value ("parse error"). Flags given in args
// are skipped: there the command line wins. A command line that does not
// parse is left to ff.Parse, whose error (and usage) stays as it is.
// Variables are read in ff's order and with its names (upper case, - as _).
func checkEnv(fs *flag.FlagSet, prefix string, args []string) error {
	probe := flag.NewFlagSet(fs.Name(), flag.ContinueOnError)
	probe.SetOutput(io.Discard)
	probe.Usage = func() {}
	fs.VisitAll(func(f *flag.Flag) { probe.Var(probeValue{f.Value}, f.Name, "") })
	if probe.Parse(args) != nil {
		return nil // a bad command line (or -h): ff.Parse reports it first, as ever
	}
	given := map[string]bool{}
	probe.Visit(func(f *flag.Flag) { given[f.Name] = true })

	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if err != nil || given[f.Name] {
			return
		}
		key := prefix + "_" + strings.NewReplacer("-", "_", ".", "_", "/", "_").Replace(strings.ToUpper(f.Name))
		if v := os.Getenv(key); v != "" {
			if e := parseAs(f.Value, v); e != nil {
				err = fmt.Errorf("%s=%s: %w (--%s)", key, v, e, f.Name)
			}
		}
	})
	return err
}

// parseAs returns why v is not a value for the flag whose value is like,
// or nil (also for types it does not know: ff.Parse checks those).
func parseAs(like flag.Value, v string) error {
	g, ok := like.(flag.Getter)
	if !ok {
		return nil
	}
	switch g.Get().(type) {
	case bool:
		if _, err := strconv.ParseBool(v); err != nil {
			return errors.New("want true or false")
		}
	case int:
		if _, err := strconv.ParseInt(v, 0, strconv.IntSize); err != nil {
			if errors.Is(err, strconv.ErrRange) {
				return errors.New("out of range")
			}
			return errors.New("want an integer")
		}
	case time.Duration:
		if _, err := time.ParseDuration(v); err != nil {
			return errors.New("want a duration such as 30s, 10m or 1h30m")
		}
	}
	return nil
}

// A probeValue stands in for a flag while checkEnv finds the flags on the
// command line: it checks a value as the flag would and keeps nothing.
type probeValue struct{ like flag.Value }

func (probeValue) String() string       { return "" }
func (p probeValue) Set(v string) error { return parseAs(p.like, v) }
func (p probeValue) IsBoolFlag() bool {
	b, ok := p.like.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}
