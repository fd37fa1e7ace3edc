package app

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/wagate/wagate/core/tenancy"
)

// runAdmin runs `wagate admin create-user`. The password never comes from a
// flag (it would show in the process list): it is read from an environment
// variable or from standard input.
func runAdmin(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "create-user" {
		return errors.New("usage: wagate admin create-user --email E (--password-env VAR | --password-stdin) [--name N] [--admin]")
	}
	fs := newFlags("admin create-user", stdout)
	email := fs.String("email", "", "the user's email")
	name := fs.String("name", "Admin", "the user's name")
	admin := fs.Bool("admin", false, "make the user a platform admin")
	passEnv := fs.String("password-env", "", "name of the environment variable holding the password")
	passStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	if help, err := parseFlags(fs, args[1:]); help || err != nil {
		return err
	}
	password, err := readPassword(getenv, *passEnv, *passStdin, os.Stdin)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	log := newLogger(io.Discard, cfg.LogLevel, cfg.NodeID)
	sys, err := build(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer sys.close()
	u, err := sys.tenancy.CreateUser(ctx, tenancy.CreateUserCmd{Email: *email, Password: password, Name: *name, Admin: *admin})
	if err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	fmt.Fprintf(stdout, "created user %s (%s, role %s)\n", u.ID, u.Email, u.Role)
	return nil
}

func readPassword(getenv func(string) string, env string, stdin bool, r io.Reader) (string, error) {
	switch {
	case env != "" && stdin:
		return "", errors.New("use --password-env or --password-stdin, not both")
	case env != "":
		if p := getenv(env); p != "" {
			return p, nil
		}
		return "", fmt.Errorf("environment variable %s is empty", env)
	case stdin:
		line, err := bufio.NewReader(r).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("read password: %w", err)
		}
		return strings.TrimRight(line, "\r\n"), nil
	default:
		return "", errors.New("give the password with --password-env VAR or --password-stdin")
	}
}
