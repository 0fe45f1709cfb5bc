// Package wire is the protocol between the hook tool binary (jujuc) and the
// jujusim harness: one JSON request and one JSON response per unix socket
// connection, as Juju's own jujuc talks to the unit agent.
package wire

import (
	"encoding/json"
	"fmt"
	"net"
	"time"
)

// Request is one hook tool invocation, or a juju-exec run when Tool is
// "juju-exec".
type Request struct {
	// ContextID is the JUJU_CONTEXT_ID of the hook the tool runs in.
	ContextID string `json:"context-id"`
	// Tool is the tool's name (argv0 without its directory).
	Tool string `json:"tool"`
	// Args are the tool's arguments, without argv0.
	Args []string `json:"args"`
	// Stdin is the tool's standard input when an argument asks for it ("-").
	Stdin []byte `json:"stdin,omitempty"`
	// Dir is the working directory of the tool, for relative file flags.
	Dir string `json:"dir,omitempty"`
}

// Response is what the tool prints and its exit code.
type Response struct {
	// Stdout is written to the tool's standard output.
	Stdout []byte `json:"stdout,omitempty"`
	// Stderr is written to the tool's standard error.
	Stderr []byte `json:"stderr,omitempty"`
	// Code is the tool's exit code.
	Code int `json:"code"`
}

// Call sends req to the harness listening on the unix socket addr and
// returns its response.
func Call(addr string, req Request, timeout time.Duration) (Response, error) {
	conn, err := net.DialTimeout("unix", addr, timeout)
	if err != nil {
		return Response{}, fmt.Errorf("cannot connect to jujusim agent at %s: %w", addr, err)
	}
	defer conn.Close()
	if timeout > 0 {
		_ = conn.SetDeadline(time.Now().Add(timeout))
	}
	if err := json.NewEncoder(conn).Encode(req); err != nil {
		return Response{}, fmt.Errorf("cannot send %s request: %w", req.Tool, err)
	}
	var resp Response
	if err := json.NewDecoder(conn).Decode(&resp); err != nil {
		return Response{}, fmt.Errorf("cannot read %s response: %w", req.Tool, err)
	}
	return resp, nil
}
