import { readFileSync } from "node:fs";
import { create, type DescFile, type DescService, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";
import { HealthImplementation, protoPath as healthProtoPath } from "grpc-health-check";
import { grpcService } from "./grpc-adapter.js";

/** A service descriptor with its implementation. */
export interface ServiceBinding<S extends DescService = DescService> {
  service: S;
  impl: ServiceImpl<S>;
}

/** Binds a service to its implementation, keeping the two types matched. */
export function bind<S extends DescService>(service: S, impl: ServiceImpl<S>): ServiceBinding {
  return { service, impl } as unknown as ServiceBinding;
}

/** TLS material for a server; `caFile` with `requireClientCert` gives mutual TLS. */
export interface TlsFiles {
  certFile: string;
  keyFile: string;
  caFile?: string | undefined;
  requireClientCert?: boolean;
}

export interface GrpcServerOptions {
  host: string;
  port: number;
  services: ServiceBinding[];
  maxMessageBytes: number;
  tls?: TlsFiles | undefined;
}

/** A running gRPC server. */
export interface RunningGrpcServer {
  readonly port: number;
  readonly health: HealthImplementation;
  /** Marks every service NOT_SERVING, lets calls finish for up to `graceMs`, then cuts. */
  close(graceMs: number): Promise<void>;
}

/** Every file the services are defined in, with their imports, as a FileDescriptorSet. */
function descriptorSet(services: DescService[]): Uint8Array {
  const seen = new Map<string, DescFile>();
  const visit = (file: DescFile) => {
    if (seen.has(file.name)) return;
    for (const dependency of file.dependencies) visit(dependency);
    seen.set(file.name, file);
  };
  for (const service of services) visit(service.file);
  return toBinary(
    FileDescriptorSetSchema,
    create(FileDescriptorSetSchema, { file: [...seen.values()].map((f) => f.proto) }),
  );
}

function credentials(tls: TlsFiles | undefined): grpc.ServerCredentials {
  if (!tls) return grpc.ServerCredentials.createInsecure();
  return grpc.ServerCredentials.createSsl(
    tls.caFile ? readFileSync(tls.caFile) : null,
    [{ cert_chain: readFileSync(tls.certFile), private_key: readFileSync(tls.keyFile) }],
    tls.requireClientCert ?? false,
  );
}

/**
 * Starts the gRPC port on grpc-js: the given services, standard health checking
 * (`grpc.health.v1`) and server reflection, so grpcurl and `buf curl` need no proto files.
 */
export async function startGrpcServer(options: GrpcServerOptions): Promise<RunningGrpcServer> {
  const server = new grpc.Server({
    "grpc.max_receive_message_length": options.maxMessageBytes,
    "grpc.max_send_message_length": options.maxMessageBytes,
  });
  const statuses: Record<string, "SERVING"> = { "": "SERVING" };
  for (const { service, impl } of options.services) {
    const { definition, handlers } = grpcService(service, impl);
    server.addService(definition, handlers);
    statuses[service.typeName] = "SERVING";
  }
  const health = new HealthImplementation(statuses);
  health.addToServer(server);

  const ours = protoLoader.loadFileDescriptorSetFromBuffer(
    Buffer.from(descriptorSet(options.services.map((s) => s.service))),
  );
  const healthPackage = protoLoader.loadSync(healthProtoPath);
  new ReflectionService({ ...healthPackage, ...ours }).addToServer(server);

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${options.host}:${options.port}`, credentials(options.tls), (error, bound) =>
      error ? reject(error) : resolve(bound),
    );
  });

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
