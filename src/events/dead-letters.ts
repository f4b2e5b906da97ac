import { create, toBinary } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { DeadLetterEventSchema, DeadLetterKind } from "../gen/mlcache/v1/events_pb.js";
import type { DeadLetterRecord } from "../loaders/dead-letters.js";
import type { KafkaConnection } from "./kafka.js";

/** Publishes a key whose loads keep failing to the dead-letter topic, for post-mortems. */
export function deadLetterPublisher(connection: KafkaConnection, instanceId: string) {
  return async (record: DeadLetterRecord): Promise<void> => {
    const event = create(DeadLetterEventSchema, {
      kind: DeadLetterKind.LOAD,
      namespace: record.namespace,
      key: record.key,
      lastError: record.lastError,
      failures: record.failures,
      firstFailure: timestampFromMs(record.firstFailure),
      lastFailure: timestampFromMs(record.lastFailure),
      originInstance: instanceId,
    });
    await connection.send(connection.settings.topics.deadLetters, [
      { key: `${record.namespace}/${record.key}`, value: toBinary(DeadLetterEventSchema, event) },
    ]);
  };
}
