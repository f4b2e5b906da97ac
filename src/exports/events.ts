/**
 * `multilayer-cache/events`: the protobuf messages on the Kafka topics (invalidations, write
 * events, dead letters, policy changes), for consumers and outside publishers.
 *
 *   import { InvalidationEventSchema } from "multilayer-cache/events";
 */

export * from "../gen/mlcache/v1/events_pb.js";
