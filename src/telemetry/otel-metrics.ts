import { type Attributes, type HrTime, ValueType } from "@opentelemetry/api";
import { emptyResource } from "@opentelemetry/resources";
import {
  AggregationTemporality,
  type CollectionResult,
  type DataPoint,
  DataPointType,
  type Histogram,
  type MetricData,
  type MetricProducer,
} from "@opentelemetry/sdk-metrics";
import type { MetricObjectWithValues, MetricValue, Registry } from "prom-client";

/** A metric as `getMetricsAsJSON` gives it (histogram series name their suffix in `metricName`). */
type PromMetric = MetricObjectWithValues<MetricValue<string> & { metricName?: string }>;

/**
 * The Prometheus registry as an OpenTelemetry metric producer: every series `/metrics` shows
 * (cache_*, mlcache_*, grpc_server_*, process and Node.js metrics) under the same name and
 * labels, so there is one definition of the metrics and two ways out. At each collection the
 * registry is read (`getMetricsAsJSON`, the same call a scrape makes) and converted: counters
 * become cumulative monotonic sums, gauges gauges, histograms explicit-bucket histograms;
 * summaries (none of ours; prom-client's defaults have none) are skipped.
 *
 *   new PeriodicExportingMetricReader({ exporter, metricProducers: [prometheusProducer(registry)] })
 */
export function prometheusProducer(registry: Registry): MetricProducer {
  const startTime = toHrTime(Date.now());
  return {
    async collect(): Promise<CollectionResult> {
      const errors: unknown[] = [];
      const metrics: MetricData[] = [];
      const now = toHrTime(Date.now());
      for (const metric of (await registry.getMetricsAsJSON()) as PromMetric[]) {
        try {
          const converted = convert(metric, startTime, now);
          if (converted) metrics.push(converted);
        } catch (error) {
          errors.push(error);
        }
      }
      return {
        // The reader's own resource (service.name) is the one exported; only the scopes are merged.
        resourceMetrics: { resource: emptyResource(), scopeMetrics: [{ scope: { name: "mlcache" }, metrics }] },
        errors,
      };
    },
  };
}

function toHrTime(ms: number): HrTime {
  return [Math.floor(ms / 1000), (ms % 1000) * 1e6];
}

const attributesOf = (labels: Partial<Record<string, string | number>> | undefined): Attributes => {
  const out: Attributes = {};
  for (const [name, value] of Object.entries(labels ?? {})) if (value !== undefined) out[name] = value;
  return out;
};

/** One Prometheus metric as OTel metric data, or undefined for a type that has no counterpart. */
export function convert(metric: PromMetric, startTime: HrTime, endTime: HrTime): MetricData | undefined {
  const descriptor = { name: metric.name, description: metric.help, unit: "", valueType: ValueType.DOUBLE };
  const points = (): DataPoint<number>[] =>
    metric.values.map((v) => ({ startTime, endTime, attributes: attributesOf(v.labels), value: v.value }));
  switch (metric.type as unknown as string) {
    case "counter":
      return {
        descriptor,
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        dataPointType: DataPointType.SUM,
        isMonotonic: true,
        dataPoints: points(),
      };
    case "gauge":
      return {
        descriptor,
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        dataPointType: DataPointType.GAUGE,
        dataPoints: points(),
      };
    case "histogram":
      return {
        descriptor,
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        dataPointType: DataPointType.HISTOGRAM,
        dataPoints: histogramPoints(metric, startTime, endTime),
      };
    default:
      return undefined;
  }
}

/**
 * Prometheus histograms come as cumulative `_bucket{le}` series plus `_sum` and `_count` per
 * label set; OTel wants, per label set, the finite bounds and the count in each bucket.
 */
function histogramPoints(metric: PromMetric, startTime: HrTime, endTime: HrTime): DataPoint<Histogram>[] {
  const series = new Map<
    string,
    { attributes: Attributes; bounds: [number, number][]; sum: number; count: number; inf: number }
  >();
  for (const v of metric.values) {
    const { le, ...labels } = (v.labels ?? {}) as Record<string, string | number>;
    const attributes = attributesOf(labels);
    const id = JSON.stringify(Object.entries(attributes).sort(([a], [b]) => (a < b ? -1 : 1)));
    let one = series.get(id);
    if (!one) {
      one = { attributes, bounds: [], sum: 0, count: 0, inf: 0 };
      series.set(id, one);
    }
    const name = v.metricName ?? "";
    if (name.endsWith("_sum")) one.sum = v.value;
    else if (name.endsWith("_count")) one.count = v.value;
    else if (le === "+Inf") one.inf = v.value;
    else if (le !== undefined) one.bounds.push([Number(le), v.value]);
  }
  return [...series.values()].map(({ attributes, bounds, sum, count, inf }) => {
    bounds.sort(([a], [b]) => a - b);
    const counts: number[] = [];
    let below = 0;
    for (const [, cumulative] of bounds) {
      counts.push(cumulative - below);
      below = cumulative;
    }
    counts.push(Math.max(0, (inf || count) - below));
    return {
      startTime,
      endTime,
      attributes,
      value: { buckets: { boundaries: bounds.map(([le]) => le), counts }, sum, count },
    };
  });
}
