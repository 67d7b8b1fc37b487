// Shared by the k6 scripts here: the REST base URL from MLFLOW_TRACKING_URI, JSON requests that
// check for a 2xx answer, and the experiment/run fixtures made in each script's setup().
import http from "k6/http";
import { check } from "k6";

export const baseUrl = `${__ENV.MLFLOW_TRACKING_URI}/api/2.0/mlflow`;

if (!baseUrl.startsWith("http")) {
  throw new Error("MLFLOW_TRACKING_URI must be a valid URL, starting with http(s)");
}

const jsonHeaders = { headers: { "Content-Type": "application/json" } };

function checked(response) {
  check(response, { "status is 2xx": (r) => r.status >= 200 && r.status < 300 });
  return response;
}

export function post(route, body) {
  return checked(http.post(`${baseUrl}/${route}`, JSON.stringify(body), jsonHeaders));
}

export function get(routeAndQuery) {
  return checked(http.get(`${baseUrl}/${routeAndQuery}`));
}

export function createExperiment() {
  const tags = [{ key: "description", value: "k6 experiment" }];
  return post("experiments/create", { name: `exp_k6_${Date.now()}`, tags }).json().experiment_id;
}

export function createRunBody(experimentId) {
  const tags = [{ key: "mlflow.user", value: "k6" }];
  return { experiment_id: experimentId, start_time: Date.now(), tags };
}

export function createRun(experimentId) {
  return post("runs/create", createRunBody(experimentId)).json().run.info.run_id;
}

// count entries {key: `${prefix}_${i}`, value: valueOf(i)}
export function entries(count, prefix, valueOf) {
  return Array.from(Array(count), (_, i) => ({ key: `${prefix}_${i}`, value: valueOf(i) }));
}
