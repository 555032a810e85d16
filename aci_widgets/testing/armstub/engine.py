"""Running a container group's containers on the local Docker engine, and reading their instance view back.

A group gets a loopback address of its own (127.0.0.X), and each of its ``ipAddress.ports`` is published there on
the same port number, so that ``ipAddress.ip`` and the ports mean what they mean on ACI.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import urllib.error
import urllib.request
from typing import Any

import docker
from docker.errors import APIError, NotFound
from docker.utils import parse_repository_tag

from .errors import ArmError

STUB_LABEL = "armstub"
GROUP_LABEL = "armstub.group"
_RESTART = {"Always": "always", "OnFailure": "on-failure", "Never": "no"}


def split_image(image: str) -> tuple[str | None, str, str]:
    """``server/repo:tag`` -> (server or None for Docker Hub, repository with server, tag)."""
    repository, tag = parse_repository_tag(image)
    first = repository.split("/", 1)[0]
    server = first if "/" in repository and ("." in first or ":" in first or first == "localhost") else None
    return server, repository, tag or "latest"


def credentials_for(server: str | None, credentials: list[dict[str, Any]]) -> dict[str, str] | None:
    for cred in credentials:
        if server and cred.get("server", "").lower() == server.lower():
            return {"username": cred.get("username") or "", "password": cred.get("password") or ""}
    return None


def check_accessible(image: str, group: str, credentials: list[dict[str, Any]]) -> None:
    """ACI refuses a PUT whose image it cannot reach: ask the registry for the manifest with the credentials."""
    server, repository, tag = split_image(image)
    if server is None or not server.startswith(("127.", "localhost")):
        return  # only local registries can be asked here
    path = repository.split("/", 1)[1]
    request = urllib.request.Request(f"http://{server}/v2/{path}/manifests/{tag}", method="HEAD", headers={
        "Accept": "application/vnd.docker.distribution.manifest.v2+json"})
    cred = credentials_for(server, credentials)
    if cred:
        token = base64.b64encode(f"{cred['username']}:{cred['password']}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        urllib.request.urlopen(request, timeout=10).close()
    except (urllib.error.URLError, OSError):
        raise ArmError(400, "InaccessibleImage",
                       f"The image '{image}' in container group '{group}' is not accessible. Please check the "
                       "image and registry credential.") from None


def run_group(client: docker.DockerClient, stub_id: str, resource_id: str, name: str, ip: str,
              props: dict[str, Any], on_event: Any) -> list[str]:
    """Pull and start every container of the group; returns their ids. Raises ArmError(InaccessibleImage)."""
    ids = []
    exposed = {int(p["port"]) for p in (props.get("ipAddress") or {}).get("ports") or []}
    for container in props["containers"]:
        cprops = container["properties"]
        image = cprops["image"]
        server, repository, tag = split_image(image)
        on_event(container["name"], "Pulling", f'pulling image "{image}"')
        try:
            client.images.pull(repository, tag=tag,
                               auth_config=credentials_for(server, props.get("imageRegistryCredentials") or []))
        except APIError as exc:
            raise ArmError(400, "InaccessibleImage",
                           f"The image '{image}' in container group '{name}' is not accessible. Please check the "
                           f"image and registry credential. ({exc.explanation})") from None
        on_event(container["name"], "Pulled", f'Successfully pulled image "{image}"')
        command = cprops.get("command") or []
        env = {v["name"]: v.get("value") if v.get("value") is not None else v.get("secureValue") or ""
               for v in cprops.get("environmentVariables") or []}
        requests = cprops["resources"]["requests"]
        memory = f"{int(float(requests['memoryInGB']) * 1024)}m"
        ports = {f"{p['port']}/tcp": (ip, int(p["port"])) for p in cprops.get("ports") or []
                 if int(p["port"]) in exposed}
        docker_name = re.sub(r"[^a-zA-Z0-9_.-]", "-", f"armstub-{stub_id}-{name}-{container['name']}")
        run = client.containers.create(
            f"{repository}:{tag}", name=docker_name,
            entrypoint=command[:1] or None, command=command[1:] or None, environment=env,
            labels={STUB_LABEL: stub_id, GROUP_LABEL: resource_id}, detach=True,
            nano_cpus=int(float(requests["cpu"]) * 1e9), mem_limit=memory, memswap_limit=memory,
            restart_policy={"Name": _RESTART.get(props.get("restartPolicy") or "Always", "always")}, ports=ports)
        ids.append(run.id)
        run.start()
        on_event(container["name"], "Started", "Started container")
    return ids


def remove_containers(client: docker.DockerClient, ids: list[str]) -> None:
    for cid in ids:
        with contextlib.suppress(NotFound):
            client.containers.get(cid).remove(force=True)


def remove_all(client: docker.DockerClient, stub_id: str) -> int:
    found = client.containers.list(all=True, filters={"label": f"{STUB_LABEL}={stub_id}"})
    for container in found:
        with contextlib.suppress(NotFound):
            container.remove(force=True)
    return len(found)


def _time(value: str | None) -> str | None:
    """Docker's nanosecond times as ISO-8601 with microseconds (what isodate reads); None for the zero time."""
    if not value or value.startswith("0001-"):
        return None
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?", value)
    return f"{m.group(1)}{(m.group(2) or '.0')[:7]}Z" if m else None


def container_view(client: docker.DockerClient, cid: str | None) -> dict[str, Any] | None:
    """The container's instanceView (without events): current and previous state, restart count."""
    if cid is None:
        return None
    try:
        attrs = client.api.inspect_container(cid)
    except NotFound:
        return {"restartCount": 0, "currentState": {"state": "Terminated", "detailStatus": "Removed"}}
    state = attrs["State"]
    restarts = int(attrs.get("RestartCount") or 0)
    view: dict[str, Any] = {"restartCount": restarts}
    if state.get("Running") and not state.get("Restarting"):
        view["currentState"] = {"state": "Running", "startTime": _time(state.get("StartedAt")), "detailStatus": ""}
    elif state.get("Restarting"):
        view["currentState"] = {"state": "Waiting", "detailStatus": "CrashLoopBackOff: Back-off restarting failed"}
    elif state.get("Status") == "created":
        view["currentState"] = {"state": "Waiting", "detailStatus": "ContainerCreating"}
    else:
        view["currentState"] = {"state": "Terminated", "exitCode": state.get("ExitCode"),
                                "finishTime": _time(state.get("FinishedAt")),
                                "detailStatus": "Completed" if state.get("ExitCode") == 0 else "Error"}
    if restarts:
        view["previousState"] = {"state": "Terminated", "exitCode": state.get("ExitCode"),
                                 "finishTime": _time(state.get("FinishedAt")), "detailStatus": "Error"}
    return view


def container_logs(client: docker.DockerClient, cid: str | None, tail: int | None, timestamps: bool) -> str:
    if cid is None:
        return ""
    try:
        raw = client.containers.get(cid).logs(stdout=True, stderr=True, timestamps=timestamps,
                                              tail=tail if tail else "all")
    except NotFound:
        return ""
    return raw.decode("utf-8", "replace")


def dumps(value: Any) -> bytes:
    return json.dumps(value).encode()
