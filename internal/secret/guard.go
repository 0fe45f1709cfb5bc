package secret

// Guard returns err with every secret scrubbed from its text (see Scrub),
// the last guard before an error leaves the process, and keeps its chain:
// errors.Is and errors.As see everything err wraps, so a caller still
// branches on a sentinel after the guard. A nil err is nil, and an err
// whose text holds no secret is returned as it is.
//
// What errors.As takes back out of the chain is the original error, not
// scrubbed: print the guarded error, never what is found inside it.
func Guard(err error, secrets []string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	scrubbed := Scrub(msg, secrets)
	if scrubbed == msg {
		return err
	}
	return &guarded{msg: scrubbed, err: err}
}

// guarded is an error whose text has the secrets masked; it wraps the
// original for errors.Is and errors.As.
type guarded struct {
	msg string
	err error
}

func (e *guarded) Error() string { return e.msg }
func (e *guarded) Unwrap() error { return e.err }
