// End to end on both ports: a key rule naming its own loader and writer. Keys under the rule load
// from origin B (one bulk call per origin in BulkGet) and write through to B; other keys use the
// namespace's origin A. GetPolicy never shows the rule origin's secret, a policy read and written
// back keeps it, and a rule origin outside the allowlist is refused.
import { toJsonString } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GetPolicyResponseSchema } from "../../src/gen/mlcache/v1/admin_pb.js";
import { type NamespacePolicy, NamespacePolicySchema } from "../../src/gen/mlcache/v1/policy_pb.js";
import type { RunningService } from "../../src/server.js";
import { OriginState, startGrpcOrigin, type TestGrpcOrigin } from "../support/origins.js";
import { startTestService } from "../support/service.js";
import { CLIENT_KINDS, clientsFor, text } from "./harness.js";

const RULE_SECRET = "Bearer rule-origin-secret-42";
const NAMESPACE_SECRET = "Bearer namespace-secret-7";
const decode = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);

/** An origin whose values say which origin answered. */
class LabelledState extends OriginState {
  constructor(private readonly label: string) {
    super();
  }
  override valueOf(_namespace: string, key: string): string {
    return `${this.label}:${key}`;
  }
}

let a: TestGrpcOrigin;
let b: TestGrpcOrigin;
let running: RunningService | undefined;
beforeAll(async () => {
  [a, b] = await Promise.all([startGrpcOrigin(new LabelledState("A")), startGrpcOrigin(new LabelledState("B"))]);
  const namespace = {
    loader: { grpc: { target: a.target, metadata: { authorization: NAMESPACE_SECRET } } },
    writeMode: "WRITE_MODE_WRITE_THROUGH",
    rules: [
      {
        name: "vip",
        prefix: "vip:",
        overrides: { loader: { grpc: { target: b.target, metadata: { authorization: RULE_SECRET } } } },
      },
    ],
  };
  running = await startTestService({
    // Only the configured origins: the API may point a rule at nothing else.
    namespaces: { "grpc-js.orig": namespace, "connect.orig": namespace },
  });
});
afterAll(async () => {
  await running?.close();
  await Promise.all([a?.close(), b?.close()]);
});
const service = new Proxy({} as RunningService, {
  get: (_, property) => Reflect.get(running as RunningService, property),
});

describe.each(CLIENT_KINDS)("a key rule's own origin, through %s", (kind) => {
  const { cache, admin, ns } = clientsFor(service, kind);

  it("Get and BulkGet load keys under the rule from B (one bulk call per origin), others from A", async () => {
    const namespace = ns("orig");
    expect(decode((await cache.get({ namespace, key: "vip:1" })).item?.value)).toBe("B:vip:1");
    expect(b.lastMetadata().authorization).toBe(RULE_SECRET);
    expect(decode((await cache.get({ namespace, key: "plain:1" })).item?.value)).toBe("A:plain:1");
    expect(a.lastMetadata().authorization).toBe(NAMESPACE_SECRET);

    const before = { a: { ...a.state.calls }, b: { ...b.state.calls } };
    const keys = ["vip:2", "plain:2", "vip:3", "plain:3"];
    const answer = await cache.bulkGet({ namespace, keys });
    expect(
      answer.results.map((r) => (r.outcome.case === "item" ? decode(r.outcome.value.value) : r.outcome.case)),
    ).toEqual(["B:vip:2", "A:plain:2", "B:vip:3", "A:plain:3"]);
    expect(b.state.calls.bulkLoads - before.b.bulkLoads).toBe(1);
    expect(b.state.calls.bulkKeys - before.b.bulkKeys).toBe(2);
    expect(a.state.calls.bulkLoads - before.a.bulkLoads).toBe(1);
    expect(a.state.calls.bulkKeys - before.a.bulkKeys).toBe(2);
  });

  it("a write-through Set under the rule reaches writer B, one outside reaches A", async () => {
    const namespace = ns("orig");
    await cache.set({ namespace, key: "vip:w", value: text("ruled") });
    await cache.set({ namespace, key: "plain:w", value: text("plain") });
    expect(b.state.data.get(`${namespace}/vip:w`)).toBe("ruled");
    expect(a.state.data.get(`${namespace}/plain:w`)).toBe("plain");
    expect(a.state.data.has(`${namespace}/vip:w`)).toBe(false);
    expect(b.state.data.has(`${namespace}/plain:w`)).toBe(false);
  });

  it("GetPolicy never shows the rule origin's secret; written back as read, the secret stays in force", async () => {
    const namespace = ns("orig");
    const got = await admin.getPolicy({ namespace });
    const json = toJsonString(GetPolicyResponseSchema, got);
    expect(json).not.toContain(RULE_SECRET);
    expect(json).not.toContain(NAMESPACE_SECRET);
    const rule = got.policy?.rules.find((r) => r.name === "vip");
    const loader = rule?.overrides?.loader?.kind;
    expect(loader?.case).toBe("grpc");
    expect(loader?.case === "grpc" ? loader.value : undefined).toMatchObject({
      target: b.target,
      metadata: { authorization: "<redacted>" },
    });

    // Back as read (the whole policy): the rule keeps its origin and its secret.
    const updated = await admin.updatePolicy({ policy: got.policy });
    expect(toJsonString(NamespacePolicySchema, updated.policy as NamespacePolicy)).not.toContain(RULE_SECRET);
    expect(decode((await cache.get({ namespace, key: "vip:after-update" })).item?.value)).toBe("B:vip:after-update");
    expect(b.lastMetadata().authorization).toBe(RULE_SECRET);
  });

  it("refuses a rule origin outside the allowlist (PERMISSION_DENIED) and a redacted secret it cannot restore", async () => {
    const namespace = ns("orig");
    const before = await admin.getPolicy({ namespace });
    const attempt = (overrides: object, name = "elsewhere") =>
      admin.updatePolicy({
        policy: { namespace, rules: [{ name, match: { case: "prefix", value: "e:" }, overrides }] } as never,
        updateMask: { paths: ["rules"] },
      });
    const denied = await attempt({ loader: { kind: { case: "grpc", value: { target: "127.0.0.1:1" } } } }).catch(
      (error: unknown) => ConnectError.from(error),
    );
    expect(denied).toBeInstanceOf(ConnectError);
    expect((denied as ConnectError).code).toBe(Code.PermissionDenied);
    expect((denied as ConnectError).rawMessage).toMatch(
      /rule elsewhere: origin 127\.0\.0\.1:1 is not in origins\.allowedTargets/,
    );
    // A writer outside the allowlist too.
    const writer = await attempt({ writer: { kind: { case: "grpc", value: { target: "127.0.0.1:2" } } } }).catch(
      (error: unknown) => ConnectError.from(error),
    );
    expect((writer as ConnectError).code).toBe(Code.PermissionDenied);
    // "<redacted>" for a rule with no secret in force cannot be guessed into one.
    const guessed = await attempt({
      loader: { kind: { case: "grpc", value: { target: b.target, metadata: { authorization: "<redacted>" } } } },
    }).catch((error: unknown) => ConnectError.from(error));
    expect((guessed as ConnectError).code).toBe(Code.InvalidArgument);
    const after = await admin.getPolicy({ namespace });
    expect(after.policy?.rules.map((r) => r.name)).toEqual(before.policy?.rules.map((r) => r.name));
  });
});
