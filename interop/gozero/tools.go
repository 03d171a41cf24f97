//go:build tools

// Pins the protoc plugins build.sh compiles from this module (no separate download, no go install).
package tools

import (
	_ "google.golang.org/grpc/cmd/protoc-gen-go-grpc"
	_ "google.golang.org/protobuf/cmd/protoc-gen-go"
)
