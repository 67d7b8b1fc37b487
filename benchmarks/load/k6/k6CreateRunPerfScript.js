// runs/create into one experiment made in setup(), with tag mlflow.user.
//   k6 run -e MLFLOW_TRACKING_URI=http://localhost:5000 k6CreateRunPerfScript.js -u 20 -d 30s
import { createExperiment, createRunBody, post } from "./common.js";

export function setup() {
  return createExperiment();
}

export default function (experimentId) {
  post("runs/create", createRunBody(experimentId));
}
