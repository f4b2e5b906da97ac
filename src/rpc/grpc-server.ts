import type { Http2Server, ServerHttp2Session, ServerHttp2Stream } from "node:http2";
import { type DescFile, type DescService, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import type * as protoLoader from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";
import { HealthImplementation } from "grpc-health-check";
import { grpcService, grpcStatus } from "./grpc-adapter.js";
import { healthFileDescriptor } from "./health-descriptor.js";
import { asConnectError } from "./interceptors.js";
import type { TlsMaterial, TlsSource } from "./tls-reloader.js";

export type { TlsFiles } from "./tls-reloader.js";

/** A service descriptor with its implementation. */
export interface ServiceBinding<S extends DescService = DescService> {
  service: S;
  impl: ServiceImpl<S>;
}

/** Binds a service to its implementation, keeping the two types matched. */
export function bind<S extends DescService>(service: S, impl: ServiceImpl<S>): ServiceBinding {
  return { service, impl } as unknown as ServiceBinding;
}

export interface GrpcServerOptions {
  host: string;
  port: number;
  services: ServiceBinding[];
  maxMessageBytes: number;
  /** TLS for the port; new material from the source is served to new connections. */
  tls?: TlsSource | undefined;
  /**
   * Checks the credential of a reflection call (its `authorization` metadata); throws a
   * CacheError to refuse it. Unset: reflection is open.
   */
  reflectionGuard?: ((authorization: string | null) => void) | undefined;
  /** Aborted to end the calls still running (with the signal's reason) at shutdown. */
  shutdownSignal?: AbortSignal | undefined;
  /** Bounds on client connections (defaults: no bounds beyond grpc-js's own). */
  connections?: ConnectionBounds | undefined;
}

/** Bounds on the connections of a port. Times in ms. */
export interface ConnectionBounds {
  maxConnections: number;
  idleTimeout: number;
  maxStreamsPerConnection: number;
  maxAge: number;
}

/** A running gRPC server. */
export interface RunningGrpcServer {
  readonly port: number;
  readonly health: HealthImplementation;
  /** Marks every service NOT_SERVING, lets calls finish for up to `graceMs`, then cuts. */
  close(graceMs: number): Promise<void>;
}

/**
 * What @grpc/reflection reads: every file the services are defined in, with their imports and
 * the health service's file, as the original serialized FileDescriptorProtos (a package
 * definition built by proto-loader would re-derive and merge them, which `buf curl` rejects).
 */
function reflectionPackage(services: DescService[]): protoLoader.PackageDefinition {
  const seen = new Map<string, DescFile>();
  const visit = (file: DescFile) => {
    if (seen.has(file.name)) return;
    for (const dependency of file.dependencies) visit(dependency);
    seen.set(file.name, file);
  };
  for (const service of services) visit(service.file);
  const files = [...[...seen.values()].map((f) => f.proto), healthFileDescriptor()].map((proto) =>
    Buffer.from(toBinary(FileDescriptorProtoSchema, proto)),
  );
  const definition = { fileDescriptorProtos: files } as unknown as protoLoader.AnyDefinition;
  const names = [...services.map((s) => s.typeName), "grpc.health.v1.Health"];
  return Object.fromEntries(names.map((name) => [name, definition]));
}

/**
 * A stand-in for the server that adds services whose calls are checked by `guard` first: a
 * refused call ends with the guard's status before the service sees it.
 */
function guarded(server: grpc.Server, guard: (authorization: string | null) => void): Pick<grpc.Server, "addService"> {
  return {
    addService(definition, implementation) {
      const wrapped: grpc.UntypedServiceImplementation = {};
      for (const [name, handler] of Object.entries(implementation)) {
        wrapped[name] = ((call: grpc.ServerDuplexStream<unknown, unknown>, ...rest: unknown[]) => {
          const header = call.metadata.get("authorization")[0];
          try {
            guard(typeof header === "string" ? header : null);
          } catch (error) {
            call.emit("error", grpcStatus(asConnectError(error)));
            return;
          }
          (handler as (...args: unknown[]) => void)(call, ...rest);
        }) as grpc.UntypedHandleCall;
      }
      server.addService(definition, wrapped);
    },
  };
}

/**
 * Bounds the connections of a grpc-js server, which has no options for it: past
 * `maxConnections` a new socket is closed on arrival (net.Server.maxConnections), and a
 * connection with no call in flight for `idleTimeout` (one that never sent the HTTP/2 preface
 * included) is destroyed — grpc-js's own idle timeout only sends GOAWAY, which a client that
 * does not play along ignores. This reaches grpc-js's listening servers; the tests of both
 * bounds fail if a grpc-js update moves them.
 */
function boundConnections(server: grpc.Server, bounds: ConnectionBounds): void {
  const listeners = (server as unknown as { http2Servers?: Map<Http2Server, unknown> }).http2Servers;
  if (!listeners) throw new Error("grpc-js internals changed: cannot bound connections (update boundConnections)");
  for (const listener of listeners.keys()) {
    listener.maxConnections = bounds.maxConnections;
    listener.on("session", (session: ServerHttp2Session) => destroyWhenIdle(session, bounds.idleTimeout));
  }
}

/** Destroys a session once it has had no stream open for `idleMs`. */
function destroyWhenIdle(session: ServerHttp2Session, idleMs: number): void {
  let open = 0;
  const timer = setTimeout(() => session.destroy(), idleMs);
  timer.unref();
  session.on("stream", (stream: ServerHttp2Stream) => {
    if (open++ === 0) clearTimeout(timer);
    stream.once("close", () => {
      if (--open === 0) timer.refresh();
    });
  });
  session.once("close", () => clearTimeout(timer));
}

/**
 * A grpc-js certificate provider fed by a {@link TlsSource}: the server it is bound to takes
 * each new pair with `setSecureContext`, for new connections; open ones keep theirs.
 *
 * grpc-js's own FileWatcherCertificateProvider is not used: it hands on whatever the files hold,
 * and a pair that fails `setSecureContext`, or a file it cannot read, makes grpc-js drop every new
 * connection until the next good read. A source only ever offers material that was checked.
 */
function certificateProvider(source: TlsSource): grpc.experimental.CertificateProvider {
  const identity = (m: TlsMaterial) => ({ certificate: m.cert, privateKey: m.key });
  const ca = (m: TlsMaterial) => (m.ca ? { caCertificate: m.ca } : null);
  const unsubscribe = new Map<unknown, () => void>();
  const follow = <U>(listener: (update: U) => void, update: (m: TlsMaterial) => U) => {
    // grpc-js registers its watcher after adding these listeners: the first update must come
    // later, as its own provider's does, or the server never sees it.
    process.nextTick(() => listener(update(source.current)));
    unsubscribe.set(
      listener,
      source.subscribe((m) => listener(update(m))),
    );
  };
  const unfollow = (listener: unknown) => {
    unsubscribe.get(listener)?.();
    unsubscribe.delete(listener);
  };
  return {
    addIdentityCertificateListener: (listener) => follow(listener, identity),
    removeIdentityCertificateListener: unfollow,
    addCaCertificateListener: (listener) => follow(listener, ca),
    removeCaCertificateListener: unfollow,
  };
}

function credentials(tls: TlsSource | undefined): grpc.ServerCredentials {
  if (!tls) return grpc.ServerCredentials.createInsecure();
  const provider = certificateProvider(tls);
  // grpc-js 1.14 declares (ca, identity) but passes them on as (identity, ca): the identity is
  // the first argument whatever its name says. Client certificates are asked for (and must chain
  // to the CA) only with mutual TLS, as createSsl did.
  return grpc.experimental.createCertificateProviderServerCredentials(
    provider,
    tls.requireClientCert ? provider : null,
    tls.requireClientCert,
  );
}

/**
 * Starts the gRPC port on grpc-js: the given services, standard health checking
 * (`grpc.health.v1`) and server reflection, so grpcurl and `buf curl` need no proto files.
 */
export async function startGrpcServer(options: GrpcServerOptions): Promise<RunningGrpcServer> {
  const bounds = options.connections;
  const server = new grpc.Server({
    "grpc.max_receive_message_length": options.maxMessageBytes,
    "grpc.max_send_message_length": options.maxMessageBytes,
    ...(bounds
      ? {
          "grpc.max_concurrent_streams": bounds.maxStreamsPerConnection,
          "grpc.max_connection_age_ms": bounds.maxAge,
          "grpc.max_connection_age_grace_ms": 60_000,
          // Clients may not ping more often than once a minute without calls (enforced).
          "grpc.http2.min_ping_interval_without_data_ms": 60_000,
        }
      : {}),
  });
  const statuses: Record<string, "SERVING"> = { "": "SERVING" };
  const peerCertificates = options.tls?.requireClientCert ?? false;
  for (const { service, impl } of options.services) {
    const { definition, handlers } = grpcService(service, impl, {
      peerCertificates,
      ...(options.shutdownSignal ? { shutdownSignal: options.shutdownSignal } : {}),
    });
    server.addService(definition, handlers);
    statuses[service.typeName] = "SERVING";
  }
  const health = new HealthImplementation(statuses);
  health.addToServer(server);

  const reflection = new ReflectionService(reflectionPackage(options.services.map((s) => s.service)));
  reflection.addToServer(options.reflectionGuard ? guarded(server, options.reflectionGuard) : server);

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${options.host}:${options.port}`, credentials(options.tls), (error, bound) =>
      error ? reject(error) : resolve(bound),
    );
  });
  if (bounds) boundConnections(server, bounds);

  return {
    port,
    health,
    async close(graceMs: number) {
      for (const name of Object.keys(statuses)) health.setStatus(name, "NOT_SERVING");
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        force.unref();
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
    },
  };
}
