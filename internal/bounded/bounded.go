// Package bounded reads input from outside the process with a size bound:
// a file, standard input, or what a hook tool prints. Above the bound it
// stops reading and returns an error naming the input and the bound, so
// memory stays flat whatever the input (/dev/zero, a sparse file of
// gigabytes, a hostile databag).
package bounded

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/dbbackup/dbbackup/internal/bytesize"
)

// The bounds of the project's inputs, each with the reason for its size.
const (
	// StorageConfig bounds a storage configuration file: a dozen short
	// fields and a TLS CA chain; a whole public CA bundle, base64-encoded,
	// is about 300 KiB.
	StorageConfig = 1 << 20
	// Databags bounds a databag document (a databag, a jobs array or the
	// output of juju show-unit): a manager's jobs with their history and
	// every provider unit's reports, for several relations, stay well
	// under a MiB; 16 MiB leaves room and keeps the YAML parse (about six
	// times the input) far from the memory of a small machine.
	Databags = 16 << 20
	// DatabagsTotal bounds all the databag documents of one command.
	DatabagsTotal = 64 << 20
	// HookToolOutput bounds what one hook tool prints to a charm:
	// relation-get (one databag), action-get (action parameters),
	// config-get and secret-get. A databag's jobs stay well under a MiB.
	HookToolOutput = 8 << 20
)

// ErrTooLarge is returned (wrapped in a *TooLargeError) when an input is
// larger than its bound.
var ErrTooLarge = errors.New("input too large")

// TooLargeError says which input went over which bound.
type TooLargeError struct {
	// Input names the input for a person: "storage configuration /x.yaml".
	Input string
	// Limit is the bound in bytes.
	Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s is larger than %s (the limit for it)", e.Input, bytesize.IEC(e.Limit))
}

// Unwrap returns ErrTooLarge.
func (e *TooLargeError) Unwrap() error { return ErrTooLarge }

// ReadAll reads r to its end, or returns a *TooLargeError naming input once
// more than limit bytes have come; it never holds more than limit+1 bytes.
func ReadAll(r io.Reader, input string, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", input, err)
	}
	if int64(len(data)) > limit {
		return nil, &TooLargeError{Input: input, Limit: limit}
	}
	return data, nil
}

// ReadFile reads the file at path, named input in errors, refusing it with
// a *TooLargeError above limit bytes: a regular file whose size says so
// before a byte is read, anything else (a device, a pipe) once limit+1
// bytes have come.
func ReadFile(path, input string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", input, err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() > limit {
		return nil, &TooLargeError{Input: input, Limit: limit}
	}
	return ReadAll(f, input, limit)
}
