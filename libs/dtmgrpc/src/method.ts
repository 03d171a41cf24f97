/**
 * A unary gRPC method as ts-proto's grpc-js output describes it (`TransSvcService.transOut`): its path and
 * serializers. Passing the descriptor instead of a string makes a wrong invoke path impossible to write.
 */
export interface UnaryMethod<Req, Res> {
  readonly path: string;
  readonly requestStream: false;
  readonly responseStream: false;
  requestSerialize(value: Req): Buffer;
  responseDeserialize(value: Buffer): Res;
}

/** The raw method dtm itself uses towards branches: bytes in, bytes out. */
export const rawMethod = (path: string): UnaryMethod<Uint8Array, Buffer> => ({
  path,
  requestStream: false,
  responseStream: false,
  requestSerialize: (v) => Buffer.from(v.buffer, v.byteOffset, v.byteLength),
  responseDeserialize: (b) => b,
});
