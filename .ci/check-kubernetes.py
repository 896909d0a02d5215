"""Offline checks of deploy/kubernetes/: the manifests validate against the Kubernetes
schema (kubernetes-validate, strict), SHARDS equals completions and parallelism, and
Sluice's shutdown grace is below the pod's termination grace period."""
import subprocess, sys, yaml

files = ["deploy/kubernetes/sluice-job.yaml", "deploy/kubernetes/sluice-merge-job.yaml"]
subprocess.run(["kubernetes-validate", "--strict", "--quiet", *files], check=True)

def env(container):
    return {e["name"]: e.get("value") for e in container.get("env", [])}

job = yaml.safe_load(open(files[0]))
spec = job["spec"]
c = spec["template"]["spec"]["containers"][0]
shards = int(env(c)["SHARDS"])
problems = []
if spec["completions"] != shards:
    problems.append(f"completions {spec['completions']} != SHARDS {shards}")
if spec["parallelism"] > shards:
    problems.append(f"parallelism {spec['parallelism']} > SHARDS {shards}")
grace = env(c)["GRACE"]
assert grace.endswith("s"), grace
if float(grace[:-1]) >= spec["template"]["spec"]["terminationGracePeriodSeconds"]:
    problems.append(f"GRACE {grace} is not below terminationGracePeriodSeconds")
job_env = {e["name"]: e for e in c.get("env", [])}
uid = job_env.get("JOB_ID", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
if uid != "metadata.labels['batch.kubernetes.io/controller-uid']":
    problems.append(f"JOB_ID is not the Job's uid (fieldPath {uid!r})")
if '--job-id "${JOB_ID}"' not in " ".join(c["args"]):
    problems.append("the shards do not pass --job-id")
merge = yaml.safe_load(open(files[1]))
mc = merge["spec"]["template"]["spec"]["containers"][0]
if int(env(mc)["SHARDS"]) != shards:
    problems.append("the merge job's SHARDS differs from the job's")
if "--check --shards" not in " ".join(mc["args"]):
    problems.append("the merge job does not check the shard count")
if problems:
    sys.exit("deploy/kubernetes: " + "; ".join(problems))
print(f"deploy/kubernetes: valid, {shards} shards, grace {grace}")
