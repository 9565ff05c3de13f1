"""docker-py (the `docker` PyPI package) against a daemon: restart policies,
update and health checks through the high-level API.
- containers.run(restart_policy={"Name": "on-failure", "MaximumRetryCount": 2})
  on a failing command: restarted twice, then exited, RestartCount 2.
- container.update(mem_limit=..., restart_policy=...) on a running
  container: HostConfig shows the new values.
- containers.run(healthcheck={...}): State.Health goes healthy.
- an option berth does not apply yet (--cpu-rt-runtime) is an APIError (400)
  naming it.
Usage: docker_py_lifecycle.py UNIX_SOCKET. Exits 0 when every check passed;
an assertion names the first that did not. Removes what it made."""
import sys
import time

import docker

c = docker.DockerClient(base_url="unix://" + sys.argv[1], version="auto", timeout=60)
made = []


def until(what, fn, secs=20):
    deadline = time.time() + secs
    while not fn():
        assert time.time() < deadline, "timed out waiting for " + what
        time.sleep(0.1)


try:
    f = c.containers.run(
        "busybox", ["sh", "-c", "exit 3"], detach=True,
        restart_policy={"Name": "on-failure", "MaximumRetryCount": 2},
    )
    made.append(f)

    def restarted_twice():
        f.reload()
        return f.attrs["RestartCount"] == 2 and f.status == "exited"

    until("two restarts", restarted_twice)
    assert f.attrs["State"]["ExitCode"] == 3, f.attrs["State"]

    u = c.containers.run("busybox", ["sleep", "1000"], detach=True, mem_limit="64m")
    made.append(u)
    u.update(mem_limit="96m", memswap_limit="192m",
             restart_policy={"Name": "always", "MaximumRetryCount": 0})
    u.reload()
    hc = u.attrs["HostConfig"]
    assert hc["Memory"] == 96 * 1024 * 1024, hc["Memory"]
    assert hc["RestartPolicy"]["Name"] == "always", hc["RestartPolicy"]

    h = c.containers.run(
        "busybox", ["sleep", "1000"], detach=True,
        healthcheck={"test": ["CMD", "true"], "interval": 200_000_000, "retries": 2},
    )
    made.append(h)

    def healthy():
        h.reload()
        return (h.attrs["State"].get("Health") or {}).get("Status") == "healthy"

    until("healthy", healthy)

    try:
        c.containers.create("busybox", "true", cpu_rt_runtime=950)
        raise AssertionError("--cpu-rt-runtime was accepted")
    except docker.errors.APIError as e:
        assert e.status_code == 400, e
        assert "--cpu-rt-runtime" in str(e), e
    print("docker-py lifecycle: ok")
finally:
    for x in made:
        try:
            x.remove(force=True)
        except docker.errors.APIError:
            pass
