// runs/get of one run made in setup(): 10 params, 10 tags, 11 metrics (loss: 100 points).
//   k6 run -e MLFLOW_TRACKING_URI=http://localhost:5000 k6GetRunPerfScript.js -u 20 -d 30s
import { get } from "./common.js";
import { createReadRun } from "./readRun.js";

export function setup() {
  return createReadRun();
}

export default function (runId) {
  get(`runs/get?run_id=${runId}`);
}
