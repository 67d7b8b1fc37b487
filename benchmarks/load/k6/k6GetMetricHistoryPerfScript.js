// metrics/get-history of metric loss (100 points, steps 0-99) of one run made in setup().
//   k6 run -e MLFLOW_TRACKING_URI=http://localhost:5000 k6GetMetricHistoryPerfScript.js -u 20 -d 30s
import { get } from "./common.js";
import { createReadRun } from "./readRun.js";

export function setup() {
  return createReadRun();
}

export default function (runId) {
  get(`metrics/get-history?run_id=${runId}&metric_key=loss`);
}
