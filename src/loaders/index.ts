/** Origin loaders and writers, and the guards every one of them sits behind. */

export { TokenBucket, type TokenBucketOptions } from "../engine/token-bucket.js";
export { withAttemptTimeout } from "./attempt-timeout.js";
export { type BatchingCounters, BatchingLoader, type BatchingOptions } from "./batching.js";
export { type BreakerListener, type BreakerOptions, type BreakerState, OriginBreaker } from "./breaker.js";
export { Semaphore, type SemaphoreOptions } from "./concurrency.js";
export {
  DeadLetterLoader,
  DeadLetterLog,
  type DeadLetterOptions,
  type DeadLetterRecord,
} from "./dead-letters.js";
export { isOriginFailure, isRetryable, RejectedBy, type RejectedByValue, rejectionOf } from "./failures.js";
export { type FunctionOriginFunctions, functionOrigin } from "./function-origin.js";
export { GrpcOrigin, type GrpcOriginOptions } from "./grpc-origin.js";
export {
  type BulkAnswer,
  type BulkValue,
  codeForHttpStatus,
  HttpOrigin,
  type HttpOriginOptions,
} from "./http-origin.js";
export {
  type CreateOriginOptions,
  createOrigin,
  ORIGIN_DEFAULTS,
  type Origin,
  type OriginStats,
  resilienceOptions,
} from "./origin.js";
export { type RefreshThrottleOptions, RefreshThrottlingLoader, type ThrottleContext } from "./refresh-throttle.js";
export { emptyOriginCounters, type OriginCounters, Resilience, type ResilienceOptions } from "./resilience.js";
export { ResilientLoader, ResilientWriter } from "./resilient-loader.js";
export { fullJitterBackoff, type RetryOptions, retry } from "./retry.js";
export { type StoreErrors, type StoreItemInput, type Writer, writerFunction } from "./writer.js";
