package main

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/frontpayment/fpexport/internal/web"
)

// cmdWebPasswd prints a WEB_USERS entry for NAME, its password read from
// the first line of stdin (so it is in no shell history or process list).
func cmdWebPasswd(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) != 1 || !web.ValidUserName(args[0]) {
		fmt.Fprintln(stderr, "usage: worker web-passwd NAME   (the password is read from stdin; NAME: letters, digits, . _ @ -)")
		return errUsage
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && err != io.EOF {
		return fmt.Errorf("reading the password: %w", err)
	}
	password := strings.TrimRight(line, "\r\n")
	if len(password) < 8 {
		fmt.Fprintln(stderr, "worker web-passwd: the password must be at least 8 characters")
		return errUsage
	}
	if len(password) > 72 {
		// bcrypt uses only the first 72 bytes; longer would be false comfort.
		fmt.Fprintln(stderr, "worker web-passwd: the password must be at most 72 bytes")
		return errUsage
	}
	hash, err := web.HashPassword(password)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s:%s\n", args[0], hash)
	return nil
}
