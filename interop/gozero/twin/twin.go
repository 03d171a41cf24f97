// Package twin is what the Go twins (go-app, go-wf, go-ceiling) and the go-zero client (go-trans-client) share:
// the pass-through gRPC codec, the fatal exit, and the hard deadline of a run. It needs only grpc, so that it
// builds against both go-zero versions (go.mod and go110.mod) and into the client's module.
package twin

import (
	"fmt"
	"os"
	"time"
)

// RawCodec passes []byte through unchanged: requests encoded by hand (protowire), or not decoded at all (the
// ceiling). It keeps the name "proto", so the content-type on the wire is the ordinary application/grpc+proto.
type RawCodec struct{}

func (RawCodec) Marshal(v any) ([]byte, error) {
	b, ok := v.(*[]byte)
	if !ok {
		return nil, fmt.Errorf("rawCodec: cannot marshal %T", v)
	}
	return *b, nil
}

func (RawCodec) Unmarshal(data []byte, v any) error {
	b, ok := v.(*[]byte)
	if !ok {
		return fmt.Errorf("rawCodec: cannot unmarshal into %T", v)
	}
	*b = append((*b)[:0], data...)
	return nil
}

func (RawCodec) Name() string { return "proto" }

// Fatal returns the program's fatal error: "<prog>: <message>" on stderr, exit status 1.
func Fatal(prog string) func(format string, args ...any) {
	return func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, prog+": "+format+"\n", args...)
		os.Exit(1)
	}
}

// Deadline ends the run through fatal once d has passed, whatever blocks (a dial, a resolver, a call): a twin
// never runs past its bound.
func Deadline(d time.Duration, fatal func(format string, args ...any), hint string) {
	time.AfterFunc(d, func() { fatal("timed out after %s%s", d, hint) })
}
