package main

import (
	"context"
	"fmt"
	"log"
	"strings"

	"dtm-gozero-ts/interop/gozero/pb"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// failHeader names the methods that must answer FAILURE, as in apps/trans (a dtm branch header, which dtm passes
// on every branch call of that transaction).
const failHeader = "trans-fail"

// transSvcServer answers every TransSvc method the TypeScript trans answers without a database; the XA methods and
// QueryPrepared (MySQL-backed there) answer Unimplemented.
type transSvcServer struct {
	pb.UnimplementedTransSvcServer
}

// adjust logs the method's line the way apps/trans does, or answers FAILURE (gRPC Aborted, dtm's code for it) when
// the caller asked this method to fail.
func adjust(ctx context.Context, method, line string) (*pb.Response, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	for _, v := range md.Get(failHeader) {
		for _, m := range strings.Split(v, ",") {
			if strings.TrimSpace(m) == method {
				log.Printf("%s: FAILURE (asked for by the caller)", line)
				return nil, status.Errorf(codes.Aborted, "%s: FAILURE asked for by the caller", method)
			}
		}
	}
	log.Printf("%s", line)
	return &pb.Response{}, nil
}

func out(in *pb.AdjustInfo) string { return fmt.Sprintf("%d cents from %d", in.Amount, in.UserID) }
func to(in *pb.AdjustInfo) string  { return fmt.Sprintf("%d cents to %d", in.Amount, in.UserID) }

func (s *transSvcServer) TransIn(ctx context.Context, in *pb.AdjustInfo) (*pb.Response, error) {
	return adjust(ctx, "TransIn", "transfer in "+to(in))
}

func (s *transSvcServer) TransOut(ctx context.Context, in *pb.AdjustInfo) (*pb.Response, error) {
	return adjust(ctx, "TransOut", "transfer out "+out(in))
}

func (s *transSvcServer) TransInConfirm(ctx context.Context, in *pb.AdjustInfo) (*pb.Response, error) {
	return adjust(ctx, "TransInConfirm", "confirm transfer in "+to(in))
}

func (s *transSvcServer) TransInRevert(ctx context.Context, in *pb.AdjustInfo) (*pb.Response, error) {
	return adjust(ctx, "TransInRevert", "revert transfer in "+to(in))
}

func (s *transSvcServer) TransOutConfirm(ctx context.Context, in *pb.AdjustInfo) (*pb.Response, error) {
	return adjust(ctx, "TransOutConfirm", "confirm transfer out "+out(in))
}

func (s *transSvcServer) TransOutRevert(ctx context.Context, in *pb.AdjustInfo) (*pb.Response, error) {
	return adjust(ctx, "TransOutRevert", "revert transfer out "+out(in))
}
