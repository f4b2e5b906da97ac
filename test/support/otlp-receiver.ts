// A real OTLP/HTTP receiver for tests: a node:http server on 127.0.0.1 that decodes the protobuf
// ExportTraceServiceRequest and ExportMetricsServiceRequest the SDK's exporters send (protobufjs,
// with the part of opentelemetry-proto these messages use, field numbers as upstream).
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import protobuf from "protobufjs";

const OTLP_PROTO = `
syntax = "proto3";
package otlp;
message AnyValue {
  oneof value {
    string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4;
    ArrayValue array_value = 5; KeyValueList kvlist_value = 6; bytes bytes_value = 7;
  }
}
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }
message KeyValue { string key = 1; AnyValue value = 2; }
message Resource { repeated KeyValue attributes = 1; }
message InstrumentationScope { string name = 1; string version = 2; }
message Status { string message = 2; int32 code = 3; }
message Span {
  bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; bytes parent_span_id = 4;
  string name = 5; int32 kind = 6; fixed64 start_time_unix_nano = 7; fixed64 end_time_unix_nano = 8;
  repeated KeyValue attributes = 9; repeated Event events = 11; repeated Link links = 13; Status status = 15;
  message Event { fixed64 time_unix_nano = 1; string name = 2; repeated KeyValue attributes = 3; }
  message Link { bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; repeated KeyValue attributes = 4; }
}
message ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message NumberDataPoint {
  fixed64 start_time_unix_nano = 2; fixed64 time_unix_nano = 3; double as_double = 4; sfixed64 as_int = 6;
  repeated KeyValue attributes = 7;
}
message HistogramDataPoint {
  fixed64 start_time_unix_nano = 2; fixed64 time_unix_nano = 3; fixed64 count = 4; double sum = 5;
  repeated fixed64 bucket_counts = 6; repeated double explicit_bounds = 7; repeated KeyValue attributes = 9;
}
message Gauge { repeated NumberDataPoint data_points = 1; }
message Sum { repeated NumberDataPoint data_points = 1; int32 aggregation_temporality = 2; bool is_monotonic = 3; }
message Histogram { repeated HistogramDataPoint data_points = 1; int32 aggregation_temporality = 2; }
message Metric { string name = 1; string description = 2; string unit = 3; Gauge gauge = 5; Sum sum = 7; Histogram histogram = 9; }
message ScopeMetrics { InstrumentationScope scope = 1; repeated Metric metrics = 2; }
message ResourceMetrics { Resource resource = 1; repeated ScopeMetrics scope_metrics = 2; }
message ExportMetricsServiceRequest { repeated ResourceMetrics resource_metrics = 1; }
`;

const root = protobuf.parse(OTLP_PROTO, { keepCase: false }).root;
const TraceRequest = root.lookupType("otlp.ExportTraceServiceRequest");
const MetricsRequest = root.lookupType("otlp.ExportMetricsServiceRequest");

type Attributes = Record<string, unknown>;

/** A span as received, ids in hex. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Attributes;
  events: { name: string; attributes: Attributes }[];
  links: { traceId: string; spanId: string }[];
  service: string;
}

/** A metric as received: its name, kind and the attribute sets of its points. */
export interface ReceivedMetric {
  name: string;
  kind: "gauge" | "sum" | "histogram" | "other";
  points: { attributes: Attributes; value: number; bucketCounts?: number[]; bounds?: number[] }[];
}

interface KeyValue {
  key: string;
  value?: Record<string, unknown>;
}

function attributesOf(list: KeyValue[] | undefined): Attributes {
  const out: Attributes = {};
  for (const { key, value } of list ?? []) {
    const [first] = Object.values(value ?? {});
    out[key] = typeof first === "object" && first !== null && "toNumber" in first ? Number(first) : first;
  }
  return out;
}

const hex = (bytes: Uint8Array | undefined) => Buffer.from(bytes ?? []).toString("hex");

/** A running receiver: what it decoded, and every request it got (any path). */
export interface OtlpReceiver {
  /** http://127.0.0.1:PORT (the `endpoint` to configure). */
  readonly endpoint: string;
  readonly spans: ReceivedSpan[];
  /** Metric export requests, newest last, each the list of its metrics. */
  readonly metricExports: ReceivedMetric[][];
  /** Requests received, whatever their path. */
  requests: number;
  /** Paths of the requests received, in order. */
  readonly paths: string[];
  /** Headers of the last request. */
  readonly lastHeaders: () => Record<string, unknown>;
  close(): Promise<void>;
}

/** Starts a receiver on 127.0.0.1 with an ephemeral port. */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const metricExports: ReceivedMetric[][] = [];
  const state = { requests: 0, lastHeaders: {} as Record<string, unknown> };
  const paths: string[] = [];
  const server: Server = createServer((request, response) => {
    state.requests++;
    paths.push(request.url ?? "");
    state.lastHeaders = { ...request.headers };
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks);
      try {
        if (request.url === "/v1/traces") spans.push(...decodeSpans(body));
        else if (request.url === "/v1/metrics") metricExports.push(decodeMetrics(body));
        else {
          response.writeHead(404).end();
          return;
        }
        response.writeHead(200, { "content-type": "application/x-protobuf" }).end();
      } catch (error) {
        response.writeHead(400).end(String(error));
      }
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    spans,
    metricExports,
    paths,
    lastHeaders: () => state.lastHeaders,
    get requests() {
      return state.requests;
    },
    set requests(n: number) {
      state.requests = n;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

interface DecodedSpan {
  traceId?: Uint8Array;
  spanId?: Uint8Array;
  parentSpanId?: Uint8Array;
  name?: string;
  kind?: number;
  attributes?: KeyValue[];
  events?: { name?: string; attributes?: KeyValue[] }[];
  links?: { traceId?: Uint8Array; spanId?: Uint8Array }[];
}

function decodeSpans(body: Buffer): ReceivedSpan[] {
  const message = TraceRequest.toObject(TraceRequest.decode(body), { defaults: false }) as {
    resourceSpans?: { resource?: { attributes?: KeyValue[] }; scopeSpans?: { spans?: DecodedSpan[] }[] }[];
  };
  const out: ReceivedSpan[] = [];
  for (const resourceSpans of message.resourceSpans ?? []) {
    const service = String(attributesOf(resourceSpans.resource?.attributes)["service.name"] ?? "");
    for (const scope of resourceSpans.scopeSpans ?? []) {
      for (const span of scope.spans ?? []) {
        out.push({
          traceId: hex(span.traceId),
          spanId: hex(span.spanId),
          parentSpanId: hex(span.parentSpanId),
          name: span.name ?? "",
          kind: span.kind ?? 0,
          attributes: attributesOf(span.attributes),
          events: (span.events ?? []).map((e) => ({ name: e.name ?? "", attributes: attributesOf(e.attributes) })),
          links: (span.links ?? []).map((l) => ({ traceId: hex(l.traceId), spanId: hex(l.spanId) })),
          service,
        });
      }
    }
  }
  return out;
}

interface DecodedPoint {
  attributes?: KeyValue[];
  asDouble?: number;
  asInt?: unknown;
  count?: unknown;
  bucketCounts?: unknown[];
  explicitBounds?: number[];
}

function decodeMetrics(body: Buffer): ReceivedMetric[] {
  const message = MetricsRequest.toObject(MetricsRequest.decode(body), { defaults: false }) as {
    resourceMetrics?: {
      scopeMetrics?: {
        metrics?: {
          name?: string;
          gauge?: { dataPoints?: DecodedPoint[] };
          sum?: { dataPoints?: DecodedPoint[] };
          histogram?: { dataPoints?: DecodedPoint[] };
        }[];
      }[];
    }[];
  };
  const out: ReceivedMetric[] = [];
  for (const resource of message.resourceMetrics ?? []) {
    for (const scope of resource.scopeMetrics ?? []) {
      for (const metric of scope.metrics ?? []) {
        const kind = metric.gauge ? "gauge" : metric.sum ? "sum" : metric.histogram ? "histogram" : "other";
        const points = (metric.gauge ?? metric.sum ?? metric.histogram)?.dataPoints ?? [];
        out.push({
          name: metric.name ?? "",
          kind,
          points: points.map((p) => ({
            attributes: attributesOf(p.attributes),
            value: kind === "histogram" ? Number(p.count ?? 0) : Number(p.asDouble ?? p.asInt ?? 0),
            ...(kind === "histogram"
              ? { bucketCounts: (p.bucketCounts ?? []).map(Number), bounds: p.explicitBounds ?? [] }
              : {}),
          })),
        });
      }
    }
  }
  return out;
}
