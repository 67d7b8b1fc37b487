// runs/log-batch, all virtual users logging into one run made in setup().
// Default body as the Go peer's: 10 metrics (metric_0..9, step 0, timestamp now), no params or
// tags. The larger workload: -e METRIC_COUNT=300 -e PARAM_COUNT=50 -e TAG_COUNT=50. Param keys
// are new in every request (a param can't change value once logged); tags are overwritten.
//   k6 run -e MLFLOW_TRACKING_URI=http://localhost:5000 k6LogBatchPerfScript.js -u 20 -d 30s
import { createExperiment, createRun, entries, post } from "./common.js";

const metricCount = Number(__ENV.METRIC_COUNT || 10);
const paramCount = Number(__ENV.PARAM_COUNT || 0);
const tagCount = Number(__ENV.TAG_COUNT || 0);

export function setup() {
  return createRun(createExperiment());
}

export default function (runId) {
  const timestamp = Date.now();
  const metrics = entries(metricCount, "metric", () => Math.random()).map((m) => ({
    ...m,
    timestamp,
    step: 0,
  }));
  const params = entries(paramCount, `param_${__VU}_${__ITER}`, () => "v");
  const tags = entries(tagCount, "tag", () => `${__ITER}`);
  post("runs/log-batch", { run_id: runId, metrics, params, tags });
}
