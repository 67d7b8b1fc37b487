// The run read by k6GetRunPerfScript.js and k6GetMetricHistoryPerfScript.js: 10 params, 10 tags,
// metric loss with 100 points (steps 0-99) and metrics m_0..m_9 with one point each.
import { createExperiment, createRun, entries, post } from "./common.js";

export function createReadRun() {
  const runId = createRun(createExperiment());
  const timestamp = Date.now();
  const loss = Array.from(Array(100), (_, step) => ({
    key: "loss",
    value: 1 / (step + 1),
    timestamp: timestamp + step,
    step,
  }));
  const singles = entries(10, "m", (i) => i).map((m) => ({ ...m, timestamp, step: 0 }));
  post("runs/log-batch", {
    run_id: runId,
    metrics: [...loss, ...singles],
    params: entries(10, "p", (i) => `p value ${i}`),
    tags: entries(10, "t", (i) => `t value ${i}`),
  });
  return runId;
}
