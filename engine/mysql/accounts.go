package mysql

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// accountsHeader starts the accounts section a backup of all databases
// ends with.
const accountsHeader = "\n-- dbbackup: accounts, roles and their grants\n"

// builtinAccounts are never part of a backup: every server has its own.
var builtinAccounts = []string{"", "root", "mariadb.sys", "mysql", "PUBLIC"}

// account is a user or role of the server.
type account struct {
	user, host string
	role       bool
}

// name is the account as SQL names it: `user`@`host`, or `role`.
func (a account) name() string {
	if a.role {
		return quoteIdent(a.user)
	}
	return quoteIdent(a.user) + "@" + quoteIdent(a.host)
}

// writeAccounts writes SQL that recreates the server's accounts and roles
// and their grants, for a backup of all databases (as a PostgreSQL cluster
// backup carries its roles): first every role and user with CREATE ... IF
// NOT EXISTS (an account the target already has keeps its password and
// settings), then their grants and default roles without any IDENTIFIED
// clause (so no grant changes a password). The built-in accounts (root,
// mariadb.sys, mysql, anonymous) and the account the backup runs as are
// left out: the target server has its own. When the accounts cannot be
// read (MySQL's mysql.user has no is_role; an account SHOW CREATE USER
// refuses), the section is a comment saying they are not in the backup,
// with a line in log, and the backup of the databases stands.
func (e *Engine) writeAccounts(ctx context.Context, w io.Writer, log io.Writer) error {
	text, err := e.accountsSQL(ctx)
	if err != nil {
		// The databases are in the backup already; an account the server
		// cannot describe must not cost them. The log says so.
		msg := fmt.Sprintf("accounts and grants not backed up: %v", err)
		if log != nil {
			fmt.Fprintf(log, "dbbackup: %s\n", msg)
		}
		text = accountsHeader + "-- " + oneLine(msg) + "\n"
	}
	_, err = io.WriteString(w, text)
	return err
}

// accountsSQL returns the accounts section (see writeAccounts).
func (e *Engine) accountsSQL(ctx context.Context) (string, error) {
	accounts, err := e.accounts(ctx)
	if err != nil {
		return "", err
	}
	var creates, shows, grants strings.Builder
	for _, a := range accounts {
		if a.role {
			fmt.Fprintf(&creates, "CREATE ROLE IF NOT EXISTS %s;\n", a.name())
		} else {
			fmt.Fprintf(&shows, "SHOW CREATE USER %s;\n", a.name())
		}
		fmt.Fprintf(&grants, "SHOW GRANTS FOR %s;\n", a.name())
	}
	var b strings.Builder
	b.WriteString(accountsHeader)
	b.WriteString(creates.String())
	if shows.Len() > 0 {
		out, err := e.query(ctx, "", shows.String())
		if err != nil {
			return "", fmt.Errorf("cannot back up the accounts: %w", err)
		}
		for _, line := range lines(out) {
			stmt, ok := strings.CutPrefix(line, "CREATE USER ")
			if !ok {
				return "", fmt.Errorf("cannot back up the accounts: SHOW CREATE USER gave a line that is not a CREATE USER statement")
			}
			b.WriteString("CREATE USER IF NOT EXISTS " + stmt + ";\n")
		}
	}
	if grants.Len() > 0 {
		out, err := e.query(ctx, "", grants.String())
		if err != nil {
			return "", fmt.Errorf("cannot back up the grants: %w", err)
		}
		for _, line := range lines(out) {
			if !strings.HasPrefix(line, "GRANT ") && !strings.HasPrefix(line, "SET DEFAULT ROLE ") {
				return "", fmt.Errorf("cannot back up the grants: SHOW GRANTS gave a line that is neither GRANT nor SET DEFAULT ROLE")
			}
			b.WriteString(identified.ReplaceAllString(line, "") + ";\n")
		}
	}
	return b.String(), nil
}

// identified matches the authentication clause MariaDB's SHOW GRANTS adds
// to a user's USAGE grant; CREATE USER carries it instead.
var identified = regexp.MustCompile(` IDENTIFIED (BY PASSWORD '[^']*'|VIA [^ ]+( USING '[^']*')?( OR [^ ]+( USING '[^']*')?)*)`)

// errNoCreateUser: the backup's account could not restore accounts.
var errNoCreateUser = errors.New("the backup's account lacks the global CREATE USER privilege, which a restore of them needs")

// canCreateUser asks whether the current account holds the global CREATE
// USER privilege (grantee in information_schema's 'user'@'host' form).
const canCreateUser = "SELECT COUNT(*) FROM information_schema.user_privileges WHERE privilege_type = 'CREATE USER' " +
	"AND grantee = CONCAT(QUOTE(SUBSTRING_INDEX(CURRENT_USER(), '@', 1)), '@', QUOTE(SUBSTRING_INDEX(CURRENT_USER(), '@', -1)))"

// accounts lists the accounts to back up: roles first, then users, sorted.
// It refuses when the backup's account lacks CREATE USER: the same account
// restores, and a restore that failed on its last statements, after the
// databases, would only confuse.
func (e *Engine) accounts(ctx context.Context) ([]account, error) {
	can, err := e.query(ctx, "", canCreateUser)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(can) == "0" {
		return nil, errNoCreateUser
	}
	quoted := make([]string, len(builtinAccounts))
	for i, a := range builtinAccounts {
		quoted[i] = "'" + a + "'"
	}
	out, err := e.query(ctx, "", "SELECT HEX(User), HEX(Host), is_role FROM mysql.user WHERE User NOT IN ("+strings.Join(quoted, ", ")+
		") AND CONCAT(User, '@', Host) <> CURRENT_USER() ORDER BY is_role = 'Y' DESC, User, Host")
	if err != nil {
		return nil, err
	}
	var list []account
	for _, line := range lines(out) {
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			return nil, fmt.Errorf("unexpected account row %q", clip(line))
		}
		u, err1 := hex.DecodeString(f[0])
		h, err2 := hex.DecodeString(f[1])
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("unexpected account row %q", clip(line))
		}
		list = append(list, account{user: string(u), host: string(h), role: f[2] == "Y"})
	}
	return list, nil
}

// lines splits client output into its non-empty lines.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimRight(l, "\r"); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// clip cuts s for an error message.
func clip(s string) string {
	if len(s) > 120 {
		return s[:120] + "..."
	}
	return s
}

// oneLine keeps s on one line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
