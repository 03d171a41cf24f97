// Command go-wf runs a workflow registered with dtm's Go client (package workflow of github.com/dtm-labs/client)
// whose branches are a trans.TransSvc found through go-zero: the other half of the workflow interop (our
// TypeScript trans serving a Go workflow). A saga step (TransOut, rolled back by TransOutRevert) and a TCC-style
// step (TransIn, confirmed by TransInConfirm, cancelled by TransInRevert); with -fail TransIn is asked (the
// trans-fail header) to answer FAILURE, so the workflow rolls the saga step back.
//
//	go-wf -dtm <target> -trans etcd://127.0.0.1:2379/trans -gid <gid> [-fail]
//
// Prints `workflow <gid> ok` or `workflow <gid> error: …`, and exits 0 either way once dtm has an answer; exits 1
// on bad flags or when nothing answers within -timeout.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"time"

	"dtm-gozero-ts/interop/gozero/pb"
	"dtm-gozero-ts/interop/gozero/twin"

	"github.com/dtm-labs/client/dtmcli"
	"github.com/dtm-labs/client/dtmgrpc"
	"github.com/dtm-labs/client/workflow"
	driver "github.com/dtm-labs/dtmdriver-gozero"
	"github.com/dtm-labs/logger"
	"github.com/zeromicro/go-zero/core/logx"
	"github.com/zeromicro/go-zero/zrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
)

var fatal = twin.Fatal("go-wf")

func main() {
	dtm := flag.String("dtm", "", "dtm's gRPC target")
	trans := flag.String("trans", "", "trans's go-zero target")
	gid := flag.String("gid", "", "the workflow's gid")
	fail := flag.Bool("fail", false, "ask TransIn to answer FAILURE")
	timeout := flag.Duration("timeout", 30*time.Second, "overall deadline")
	flag.Parse()
	if *dtm == "" || *trans == "" || *gid == "" {
		fatal("-dtm, -trans and -gid are required")
	}
	logger.InitLog2("warn", "stderr", 0, "")
	logx.Disable()
	if err := dtmgrpc.UseDriver(driver.DriverName); err != nil {
		fatal("%v", err)
	}
	twin.Deadline(*timeout, fatal, "")

	// The callback server dtm would call to resume the workflow.
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fatal("%v", err)
	}
	server := grpc.NewServer()
	workflow.InitGrpc(*dtm, lis.Addr().String(), server)
	go func() { _ = server.Serve(lis) }()

	// Branch calls go through workflow.Interceptor, which records their results in dtm.
	cli := pb.NewTransSvcClient(zrpc.MustNewClient(zrpc.RpcClientConf{Target: *trans},
		zrpc.WithUnaryClientInterceptor(workflow.Interceptor)).Conn())

	const name = "go-wf"
	err = workflow.Register2(name, func(wf *workflow.Workflow, data []byte) ([]byte, error) {
		var out pb.AdjustInfo
		if err := proto.Unmarshal(data, &out); err != nil {
			return nil, err
		}
		in := &pb.AdjustInfo{Amount: out.Amount, UserID: out.UserID + 1}
		ctx := wf.Context
		if *fail {
			ctx = metadata.AppendToOutgoingContext(ctx, "trans-fail", "TransIn")
		}
		wf.NewBranch().OnRollback(func(bb *dtmcli.BranchBarrier) error {
			_, err := cli.TransOutRevert(ctx, &out)
			return err
		})
		if _, err := cli.TransOut(ctx, &out); err != nil {
			return nil, err
		}
		wf.NewBranch().OnCommit(func(bb *dtmcli.BranchBarrier) error {
			_, err := cli.TransInConfirm(ctx, in)
			return err
		}).OnRollback(func(bb *dtmcli.BranchBarrier) error {
			_, err := cli.TransInRevert(ctx, in)
			return err
		})
		_, err := cli.TransIn(ctx, in)
		return nil, err
	})
	if err != nil {
		fatal("%v", err)
	}
	data, _ := proto.Marshal(&pb.AdjustInfo{Amount: 30, UserID: 1})
	if _, err := workflow.ExecuteCtx(context.Background(), name, *gid, data); err != nil {
		fmt.Printf("workflow %s error: %v\n", *gid, err)
	} else {
		fmt.Printf("workflow %s ok\n", *gid)
	}
	server.Stop()
}
