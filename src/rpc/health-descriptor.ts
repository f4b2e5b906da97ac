import { create } from "@bufbuild/protobuf";
import {
  type FileDescriptorProto,
  FileDescriptorProtoSchema,
  FieldDescriptorProto_Label as Label,
  FieldDescriptorProto_Type as Type,
} from "@bufbuild/protobuf/wkt";

/**
 * The descriptor of `grpc/health/v1/health.proto` (the version grpc-health-check serves:
 * Check, Watch, List), written out so reflection can describe the health service exactly as
 * the standard file does. It is data, not a second schema: the health implementation itself
 * comes from grpc-health-check.
 */
export function healthFileDescriptor(): FileDescriptorProto {
  const optional = Label.OPTIONAL;
  return create(FileDescriptorProtoSchema, {
    name: "grpc/health/v1/health.proto",
    package: "grpc.health.v1",
    syntax: "proto3",
    options: {
      goPackage: "google.golang.org/grpc/health/grpc_health_v1",
      javaPackage: "io.grpc.health.v1",
      javaMultipleFiles: true,
      javaOuterClassname: "HealthProto",
      csharpNamespace: "Grpc.Health.V1",
    },
    messageType: [
      { name: "HealthListRequest" },
      {
        name: "HealthListResponse",
        field: [
          {
            name: "statuses",
            number: 1,
            label: Label.REPEATED,
            type: Type.MESSAGE,
            typeName: ".grpc.health.v1.HealthListResponse.StatusesEntry",
            jsonName: "statuses",
          },
        ],
        nestedType: [
          {
            name: "StatusesEntry",
            field: [
              { name: "key", number: 1, label: optional, type: Type.STRING, jsonName: "key" },
              {
                name: "value",
                number: 2,
                label: optional,
                type: Type.MESSAGE,
                typeName: ".grpc.health.v1.HealthCheckResponse",
                jsonName: "value",
              },
            ],
            options: { mapEntry: true },
          },
        ],
      },
      {
        name: "HealthCheckRequest",
        field: [{ name: "service", number: 1, label: optional, type: Type.STRING, jsonName: "service" }],
      },
      {
        name: "HealthCheckResponse",
        field: [
          {
            name: "status",
            number: 1,
            label: optional,
            type: Type.ENUM,
            typeName: ".grpc.health.v1.HealthCheckResponse.ServingStatus",
            jsonName: "status",
          },
        ],
        enumType: [
          {
            name: "ServingStatus",
            value: [
              { name: "UNKNOWN", number: 0 },
              { name: "SERVING", number: 1 },
              { name: "NOT_SERVING", number: 2 },
              { name: "SERVICE_UNKNOWN", number: 3 },
            ],
          },
        ],
      },
    ],
    service: [
      {
        name: "Health",
        method: [
          {
            name: "Check",
            inputType: ".grpc.health.v1.HealthCheckRequest",
            outputType: ".grpc.health.v1.HealthCheckResponse",
          },
          {
            name: "Watch",
            inputType: ".grpc.health.v1.HealthCheckRequest",
            outputType: ".grpc.health.v1.HealthCheckResponse",
            serverStreaming: true,
          },
          {
            name: "List",
            inputType: ".grpc.health.v1.HealthListRequest",
            outputType: ".grpc.health.v1.HealthListResponse",
          },
        ],
      },
    ],
  });
}
