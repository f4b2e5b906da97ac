import {
  create,
  type DescMessage,
  type DescMethod,
  type DescMethodUnary,
  fromBinary,
  type MessageInitShape,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import { Code, ConnectError, type StreamResponse, type Transport, type UnaryResponse } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import { authorizationOf, type TlsOptions } from "./credentials.js";

/** Options for {@link createGrpcJsTransport}. */
export interface GrpcJsTransportOptions {
  /** `host:port` of the server's gRPC port. */
  address: string;
  /** Sent as `authorization: Bearer <token>` on every call (over TLS or not: use TLS beyond loopback). */
  token?: string;
  /** TLS with these CAs and client certificate (`{}`: the system's roots, no certificate). */
  tls?: TlsOptions;
  /** Channel credentials of your own (wins over `tls`). Default: plaintext. */
  credentials?: grpc.ChannelCredentials;
  /** grpc-js channel options, e.g. `{ "grpc.keepalive_time_ms": 30_000 }`. */
  channelOptions?: grpc.ChannelOptions;
}

/** A Connect transport that also owns a grpc-js channel, so it can be closed. */
export interface ClosableTransport extends Transport {
  close(): void;
}

/**
 * A Connect `Transport` over a grpc-js channel: every Connect client (and so `CacheClient`)
 * can speak gRPC through grpc-js, with the same errors (`ConnectError`, gRPC codes) as
 * the connect-node and connect-web transports.
 *
 *   const transport = createGrpcJsTransport({ address: "127.0.0.1:50051" });
 *   const secure = createGrpcJsTransport({ address: "cache.internal:50051", token, tls: { ca: readFileSync("ca.pem") } });
 */
export function createGrpcJsTransport(options: GrpcJsTransportOptions): ClosableTransport {
  // In metadata rather than call credentials: grpc-js refuses those on a plaintext channel.
  const authorization = options.token !== undefined ? authorizationOf(options.token) : undefined;
  const client = new grpc.Client(options.address, channelCredentials(options), options.channelOptions);
  const metadataFrom = (header: HeaderInit | undefined): grpc.Metadata => {
    const metadata = new grpc.Metadata();
    for (const [name, value] of new Headers(header)) metadata.add(name, value);
    if (authorization !== undefined) metadata.set("authorization", authorization);
    return metadata;
  };

  // Cancellation through the signal is wired per call (call.cancel()); the deadline goes here.
  const callOptions = (timeoutMs: number | undefined): grpc.CallOptions =>
    timeoutMs !== undefined && timeoutMs > 0 ? { deadline: Date.now() + timeoutMs } : {};

  const codec = (method: DescMethod) => ({
    path: `/${method.parent.typeName}/${method.name}`,
    serialize: (message: unknown) => Buffer.from(toBinary(method.input, create(method.input, message as never))),
    deserialize: (bytes: Buffer) =>
      fromBinary(method.output, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)),
  });

  return {
    unary<I extends DescMessage, O extends DescMessage>(
      method: DescMethodUnary<I, O>,
      signal: AbortSignal | undefined,
      timeoutMs: number | undefined,
      header: HeaderInit | undefined,
      input: MessageInitShape<I>,
    ) {
      const { path, serialize, deserialize } = codec(method);
      return new Promise<UnaryResponse<I, O>>((resolve, reject) => {
        const responseHeader = new Headers();
        const call = client.makeUnaryRequest<unknown, unknown>(
          path,
          serialize,
          deserialize,
          input,
          metadataFrom(header),
          callOptions(timeoutMs),
          (error, message) => {
            signal?.removeEventListener("abort", cancel);
            if (error || message === undefined) {
              reject(connectErrorFrom(error));
              return;
            }
            resolve({
              stream: false,
              service: method.parent,
              method,
              header: responseHeader,
              message: message as MessageShape<O>,
              trailer: new Headers(),
            });
          },
        );
        const cancel = () => call.cancel();
        if (signal?.aborted) call.cancel();
        signal?.addEventListener("abort", cancel, { once: true });
        call.on("metadata", (metadata) => copyMetadata(metadata, responseHeader));
      });
    },

    async stream(method, signal, timeoutMs, header, input) {
      if (method.methodKind !== "server_streaming") {
        throw new ConnectError(`${method.name}: only server streaming is supported over grpc-js`, Code.Unimplemented);
      }
      let request: unknown;
      for await (const message of input) {
        request = message;
        break;
      }
      const { path, serialize, deserialize } = codec(method);
      const call = client.makeServerStreamRequest(
        path,
        serialize,
        deserialize,
        request,
        metadataFrom(header),
        callOptions(timeoutMs),
      );
      const cancel = () => call.cancel();
      if (signal?.aborted) call.cancel();
      signal?.addEventListener("abort", cancel, { once: true });
      const responseHeader = new Headers();
      call.on("metadata", (metadata: grpc.Metadata) => copyMetadata(metadata, responseHeader));
      async function* messages() {
        try {
          for await (const message of call) yield message;
        } catch (error) {
          throw connectErrorFrom(error as grpc.ServiceError);
        } finally {
          signal?.removeEventListener("abort", cancel);
          call.cancel(); // no-op once the stream has ended; stops it when the reader leaves early
        }
      }
      return {
        stream: true,
        service: method.parent,
        method,
        header: responseHeader,
        message: messages(),
        trailer: new Headers(),
      } as StreamResponse<DescMessage, DescMessage> as never;
    },

    close() {
      client.close();
    },
  };
}

/** What Headers' constructor takes (the DOM's HeadersInit, without the DOM lib). */
export type HeaderInit = ConstructorParameters<typeof Headers>[0];

function channelCredentials(options: GrpcJsTransportOptions): grpc.ChannelCredentials {
  if (options.credentials) return options.credentials;
  if (!options.tls) return grpc.credentials.createInsecure();
  const { ca, cert, key } = options.tls;
  if ((cert === undefined) !== (key === undefined)) throw new Error("tls.cert and tls.key go together");
  const buffer = (pem: string | Uint8Array | undefined) => (pem === undefined ? null : Buffer.from(pem));
  return grpc.credentials.createSsl(buffer(ca), buffer(key), buffer(cert));
}

function copyMetadata(metadata: grpc.Metadata, into: Headers) {
  for (const [name, value] of Object.entries(metadata.getMap())) {
    if (typeof value === "string") into.set(name, value);
  }
}

/** gRPC status codes and Connect codes are the same numbers. */
function connectErrorFrom(error: grpc.ServiceError | null): ConnectError {
  if (!error) return new ConnectError("the server answered without a message", Code.Internal);
  const metadata = new Headers();
  if (error.metadata) copyMetadata(error.metadata, metadata);
  return new ConnectError(error.details || error.message, error.code as number as Code, metadata, undefined, error);
}
