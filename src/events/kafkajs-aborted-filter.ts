// kafkajs 2.2.4 filters the records of aborted transactions wrongly when several transactional
// producers write one partition (every instance's write-behind producers do): it takes the
// aborted-transaction list of a fetch in the order the broker sends it and enters at most one
// aborted transaction per record, so a record of an aborted transaction can reach a
// read-committed consumer (measured here: 3 of 117 aborted records with two producers). This
// module replaces kafkajs's filter before kafkajs loads it, with the rule of the Java client:
// the aborted transactions sorted by first offset, every one that starts at or before a record
// entered, a producer's abort marker ending its aborted transaction.
// Imported first by ./kafka.ts; `test/unit/events/kafkajs-aborted-filter.test.ts` shows the leak.
import { createRequire, Module } from "node:module";

const require = createRequire(import.meta.url);

/** The parts of a kafkajs record this filter reads. */
export interface FetchedRecord {
  offset: string;
  key: Buffer | null;
  isControlRecord?: boolean;
  batchContext: { producerId: string | number | bigint; inTransaction: boolean };
}

/** An aborted transaction as a fetch response lists it. */
export interface AbortedTransaction {
  producerId: string | number | bigint;
  firstOffset: string | number | bigint;
}

/** The key of an abort marker (control record type 0). */
const ABORT_MARKER_KEY = Buffer.from([0, 0, 0, 0]);

/** The records a read-committed consumer may see: none of an aborted transaction. */
export function filterAbortedRecords<R extends FetchedRecord>(
  records: R[],
  abortedTransactions: readonly AbortedTransaction[] | undefined,
): R[] {
  if (!abortedTransactions || abortedTransactions.length === 0) return records;
  const pending = [...abortedTransactions].sort((a, b) =>
    BigInt(a.firstOffset) < BigInt(b.firstOffset) ? -1 : BigInt(a.firstOffset) > BigInt(b.firstOffset) ? 1 : 0,
  );
  const aborting = new Set<string>();
  let next = 0;
  return records.filter((record) => {
    const offset = BigInt(record.offset);
    while (next < pending.length && offset >= BigInt((pending[next] as AbortedTransaction).firstOffset)) {
      aborting.add(String((pending[next] as AbortedTransaction).producerId));
      next++;
    }
    const producer = String(record.batchContext.producerId);
    if (record.key && Buffer.from(record.key).equals(ABORT_MARKER_KEY) && record.isControlRecord !== false) {
      aborting.delete(producer); // the aborted transaction ends here
      return true; // control records are dropped by kafkajs after this filter
    }
    return !(record.batchContext.inTransaction && aborting.has(producer));
  });
}

const path = require.resolve("kafkajs/src/consumer/filterAbortedMessages.js");
if (!require.cache[path]) {
  const replacement = new Module(path);
  replacement.filename = path;
  replacement.loaded = true;
  replacement.exports = ({
    messages,
    abortedTransactions,
  }: {
    messages: FetchedRecord[];
    abortedTransactions?: AbortedTransaction[];
  }) => filterAbortedRecords(messages, abortedTransactions);
  require.cache[path] = replacement;
}
