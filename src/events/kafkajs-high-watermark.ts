// kafkajs 2.2.4's admin asks ListOffsets for read-committed offsets: the admin passes no
// isolation level, and the request's default is READ_COMMITTED. A partition's read-committed
// offset is its last stable offset, which stops at the first transaction still open, and a
// record committed behind such a transaction (another producer's; an instance killed in the
// middle of a policy change leaves one open until Kafka times it out or its successor fences it)
// lies above it. Marks taken that way let an instance count itself caught up while an
// acknowledged policy change was out of its reach (the history checker saw instances answer
// GetPolicy with OK and the policy from before a change, for seconds: seed 3227330079).
//
// Kafka's Java Admin asks for read-uncommitted offsets unless told otherwise; this module makes
// kafkajs's admin do the same, so `admin.fetchTopicOffsets` answers high-water marks. Consumers
// always pass their own isolation level and are not affected. It changes the exports object
// kafkajs's request table holds, so the order modules load in does not matter.
// Imported first by ./kafka.ts; `test/integration/kafka-policies.test.ts` shows the case.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

/** ListOffsets' isolation level that sees every record: the high-water mark. */
const READ_UNCOMMITTED = 0;

interface ListOffsetsArgs {
  replicaId?: number;
  isolationLevel?: number;
  topics: unknown;
}

interface RequestDefinition {
  protocol: (options: { version: number }) => (args: ListOffsetsArgs) => unknown;
  /** Set once the definition is changed, so loading this module twice changes it once. */
  highWatermarkByDefault?: true;
}

const listOffsets = require("kafkajs/src/protocol/requests/listOffsets/index.js") as RequestDefinition;
if (!listOffsets.highWatermarkByDefault) {
  const protocol = listOffsets.protocol;
  listOffsets.protocol = (options) => {
    const build = protocol(options);
    return (args) => build({ ...args, isolationLevel: args.isolationLevel ?? READ_UNCOMMITTED });
  };
  listOffsets.highWatermarkByDefault = true;
}
