"""docker-py (the `docker` PyPI package) against a daemon: networking.
A published port (ports={"80/tcp": None}) answered from the host, and the
network API (create, connect, reload, disconnect, list, remove).
Usage: docker_py_network.py UNIX_SOCKET NAME_PREFIX. Exits 0 when every
check passed; an assertion names the first that did not. Removes what it
made, also on failure."""
import sys
import time
import urllib.error
import urllib.request

import docker

c = docker.DockerClient(base_url="unix://" + sys.argv[1], version="auto", timeout=60)
prefix = sys.argv[2]
made_containers = []
made_networks = []


def get(url, deadline_s=10):
    """GET url (127.0.0.1 only), retrying until the server answers."""
    assert url.startswith("http://127.0.0.1:"), url
    deadline = time.time() + deadline_s
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                return r.status, r.read()
        except (urllib.error.URLError, ConnectionError, OSError) as e:
            if time.time() > deadline:
                raise AssertionError(f"GET {url}: {e}")
            time.sleep(0.2)


def main():
    # A published port with an ephemeral host port.
    ct = c.containers.run("busybox", "httpd -f -p 80 -h /etc", ports={"80/tcp": None},
                          detach=True, name=prefix + "web")
    made_containers.append(ct)
    ct.reload()
    assert ct.status == "running", ct.status
    bindings = ct.attrs["NetworkSettings"]["Ports"]["80/tcp"]
    assert bindings, ct.attrs["NetworkSettings"]["Ports"]
    host_port = int(bindings[0]["HostPort"])
    assert host_port > 0, bindings
    assert ct.ports["80/tcp"][0]["HostPort"] == str(host_port), ct.ports
    assert ct.attrs["HostConfig"]["PortBindings"]["80/tcp"], ct.attrs["HostConfig"]
    status, body = get(f"http://127.0.0.1:{host_port}/hostname")
    assert status == 200, status
    hostname = ct.exec_run(["hostname"])[1].strip()
    assert hostname == ct.id[:12].encode(), (hostname, ct.id)
    assert body.strip() == hostname, (body, hostname)
    # The container is on the default bridge network, with an address.
    nets = ct.attrs["NetworkSettings"]["Networks"]
    assert "bridge" in nets and nets["bridge"]["IPAddress"], nets

    # A user-defined bridge network: create, connect, disconnect, list, remove.
    name = prefix + "net"
    net = c.networks.create(name, driver="bridge", labels={"made-by": "docker-py"})
    made_networks.append(net)
    assert net.name == name, net.attrs
    assert c.networks.get(net.id).name == name
    listed = c.networks.list(names=[name])
    assert [n.id for n in listed] == [net.id], [n.attrs for n in listed]
    assert c.networks.list(names=[prefix + "nosuch"]) == []
    assert net.id in [n.id for n in c.networks.list(filters={"label": "made-by=docker-py"})]
    net.reload()
    assert net.containers == [], net.attrs

    net.connect(ct, aliases=["webalias"])
    net.reload()
    assert [x.id for x in net.containers] == [ct.id], net.attrs
    ct.reload()
    ep = ct.attrs["NetworkSettings"]["Networks"].get(name)
    assert ep and ep["IPAddress"] and ep["NetworkID"] == net.id, ct.attrs["NetworkSettings"]
    assert "webalias" in (ep.get("Aliases") or []), ep
    # Docker's DNS names of an endpoint on a user network: name, aliases, short id.
    assert {prefix + "web", "webalias", ct.id[:12]} <= set(ep.get("DNSNames") or []), ep
    # Another container on the network reaches it by name and alias (embedded DNS).
    for host in (prefix + "web", "webalias"):
        out = c.containers.run("busybox", ["timeout", "3", "wget", "-qO-", f"http://{host}/hostname"],
                               network=name, remove=True)
        assert out.strip() == hostname, (host, out)

    net.disconnect(ct)
    net.reload()
    assert net.containers == [], net.attrs
    ct.reload()
    assert name not in ct.attrs["NetworkSettings"]["Networks"], ct.attrs["NetworkSettings"]
    # Still served on the published port after the disconnect.
    assert get(f"http://127.0.0.1:{host_port}/hostname")[0] == 200

    net.remove()
    made_networks.remove(net)
    assert c.networks.list(names=[name]) == []
    try:
        c.networks.get(name)
        raise AssertionError("network still there after remove")
    except docker.errors.NotFound:
        pass

    ct.stop(timeout=1)
    ct.remove()
    made_containers.remove(ct)
    print("docker-py network: ok")


try:
    main()
finally:
    for x in made_containers:
        try:
            x.remove(force=True)
        except docker.errors.APIError:
            pass
    for n in made_networks:
        try:
            n.remove()
        except docker.errors.APIError:
            pass
