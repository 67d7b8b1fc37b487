// runs/search over an experiment of RUN_COUNT (default 1,000) runs made in setup(), each with 5
// metrics, 5 params and 5 tags; max_results MAX_RESULTS (default 100; the other workload: 1000).
//   k6 run -e MLFLOW_TRACKING_URI=http://localhost:5000 k6SearchRunsPerfScript.js -u 20 -d 30s
import http from "k6/http";
import { baseUrl, createExperiment, createRunBody, entries, post } from "./common.js";

const runCount = Number(__ENV.RUN_COUNT || 1000);
const maxResults = Number(__ENV.MAX_RESULTS || 100);
const batchSize = 20;

export const options = { setupTimeout: "600s" };

function jsonPosts(route, bodies) {
  const params = { headers: { "Content-Type": "application/json" } };
  return http.batch(bodies.map((b) => ["POST", `${baseUrl}/${route}`, JSON.stringify(b), params]));
}

function logRunData(runIds) {
  const timestamp = Date.now();
  const bodies = runIds.map((runId, n) => ({
    run_id: runId,
    metrics: entries(5, "m", (i) => n + i).map((m) => ({ ...m, timestamp, step: 0 })),
    params: entries(5, "p", (i) => `p value ${i}`),
    tags: entries(5, "t", (i) => `t value ${i}`),
  }));
  jsonPosts("runs/log-batch", bodies);
}

export function setup() {
  const experimentId = createExperiment();
  for (let made = 0; made < runCount; made += batchSize) {
    const count = Math.min(batchSize, runCount - made);
    const created = jsonPosts("runs/create", Array.from(Array(count), () => createRunBody(experimentId)));
    logRunData(created.map((r) => r.json().run.info.run_id));
  }
  return experimentId;
}

export default function (experimentId) {
  post("runs/search", { experiment_ids: [experimentId], max_results: maxResults });
}
