"""Nothing outlives its owner: a pre-warmed process goes with the last service it serves; ``running`` lists what a
workspace runs and ``stop_all`` stops it. Real environments, forks and /proc."""

from __future__ import annotations

import time
from pathlib import Path

from aci_widgets.core import ContainerImage, LocalWebservice, Webservice
from aci_widgets.core.running import running, stop_all, stop_unused
from aci_widgets.targets.process import prewarm

BOUND = 60.0  # seconds: a bound for something broken, not a speed goal


def _deploy(ws, name: str) -> Webservice:
    config = ContainerImage.image_configuration(execution_script="score.py", runtime="python", conda_file="myenv.yml")
    service = Webservice.deploy(ws, name, ["weights.npy"], config, LocalWebservice.deploy_configuration(),
                                overwrite=True)
    service.wait_for_deployment()
    return service


def _pid(service: Webservice) -> int:
    service._refresh()
    return service._row["handle"]["pid"]


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def _gone(pid: int) -> bool:
    """Gone, or a zombie (whether init reaps it is not ours)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def _wait_gone(pid: int, what: str) -> None:
    give_up = time.monotonic() + BOUND
    while not _gone(pid):
        assert time.monotonic() < give_up, f"still running: {what} (pid {pid})"
        time.sleep(0.05)


def test_the_warm_process_goes_with_the_last_service_it_serves(ws, numpy_model):
    first, second = _deploy(ws, "life-1"), _deploy(ws, "life-2")
    zygote = _parent(_pid(first))
    assert _parent(_pid(second)) == zygote
    first.delete()
    env_dir = Path(second._row["handle"]["launch"]["python"]).parents[1]
    [ping] = [z for z in prewarm.zygotes(env_dir) if z["zygote"] == zygote]
    assert [c["pid"] for c in ping["children"]] == [_pid(second)]  # it still serves the other one
    assert not _gone(zygote)
    pid = _pid(second)
    second.delete()
    _wait_gone(pid, "the deleted server")
    _wait_gone(zygote, "the pre-warmed process after its last service was deleted")


def test_running_lists_services_and_warm_processes_and_stop_all_stops_them(ws, numpy_model):
    service = _deploy(ws, "life-ps")
    pid, port = _pid(service), service._row["handle"]["port"]
    zygote = _parent(pid)
    found = {(r.kind, r.name): r for r in running(ws)}
    assert (found["service", "life-ps"].pid, found["service", "life-ps"].port) == (pid, port)
    assert found["service", "life-ps"].state == "Healthy"
    warm = [r for r in found.values() if r.kind == "pre-warmed process"]
    assert [r.pid for r in warm] == [zygote] and warm[0].state == "serving 1 service(s)"
    assert stop_unused(ws) == []  # the service needs its warm process: nothing is unused

    stopped = stop_all(ws)
    assert {(r.kind, r.name, r.pid) for r in stopped} >= {("service", "life-ps", pid)}
    assert zygote in [r.pid for r in stopped if r.kind == "pre-warmed process"]
    _wait_gone(pid, "the service's server")
    _wait_gone(zygote, "its pre-warmed process")
    assert Webservice.list(ws) == [] and running(ws) == []
