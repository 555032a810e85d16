"""Pre-warmed starts on the process target, through the core API: real environments, zygotes, forks and HTTP."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from aci_widgets.core import ContainerImage, LocalWebservice, Webservice
from aci_widgets.targets.process import prewarm

BOUND = 60.0  # seconds: a bound for something broken, not a speed goal
THREAD_MODULE = "aciw_test_starts_a_thread"


def _config():
    return ContainerImage.image_configuration(execution_script="score.py", runtime="python", conda_file="myenv.yml")


def _deploy(ws, name: str) -> Webservice:
    service = Webservice.deploy(ws, name, ["weights.npy"], _config(), LocalWebservice.deploy_configuration(),
                                overwrite=True)
    service.wait_for_deployment()
    return service


def _handle(service: Webservice) -> dict:
    service._refresh()
    return service._row["handle"]


def _env_dir(service: Webservice) -> Path:
    return Path(_handle(service)["launch"]["python"]).parents[1]


def _ppid(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def _state(pid: int) -> str | None:
    """The process's state letter (Z: a zombie nobody reaped), or None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def _notices(service: Webservice) -> list[str]:
    return [e.message for e in service.operation.events if type(e).__name__ == "Notice"]


def _logs(service: Webservice) -> list[str]:
    return [e.line for e in service.operation.events if type(e).__name__ == "LogLine"]


def _wait(condition, what: str) -> None:
    give_up = time.monotonic() + BOUND
    while not condition():
        assert time.monotonic() < give_up, f"never happened: {what}"
        time.sleep(0.05)


def _edit(score: Path, old: str, new: str) -> None:
    text = score.read_text()
    assert old in text
    score.write_text(text.replace(old, new))


def test_an_edited_score_py_is_served_by_a_fork_of_the_warm_process(ws, numpy_model):
    first = _deploy(ws, "warm-1")
    assert first.run('{"data": [[1, 1, 1]]}') == [6.0]
    _edit(numpy_model / "score.py", "(data @ weights)", "(10 * data @ weights)")  # same imports, new body
    second = _deploy(ws, "warm-1")
    pid = _handle(second)["pid"]
    zygotes = {z["zygote"]: z for z in prewarm.zygotes(_env_dir(second))}
    assert _ppid(pid) in zygotes  # forked by the environment's warm process, not started by this kernel
    assert _forked_from(second) == _forked_from(first) == _ppid(pid)  # the same one, kept warm between deployments
    assert "numpy" in zygotes[_ppid(pid)]["preloaded"]
    assert second.run('{"data": [[1, 1, 1]]}') == [60.0]  # the edited score.py, not a stale copy
    assert not [n for n in _notices(second) if "pre-warmed" in n.lower()]


def test_reattach_status_and_delete_of_a_forked_server(ws, numpy_model):
    other = _deploy(ws, "warm-other")  # another service of the same warm process: it stays while warm-re is down
    service = _deploy(ws, "warm-re")
    handle = _handle(service)
    zygote = _ppid(handle["pid"])
    assert zygote != os.getpid()
    probe = textwrap.dedent(f"""
        import json
        from aci_widgets.core import Workspace, Webservice
        ws = Workspace({ws.name!r}, path={str(ws.root)!r})
        s = Webservice(ws, "warm-re")
        print(json.dumps([s.state, s.run('{{"data": [[0, 1, 0]]}}'), s.get_logs()]))
    """)
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    state, answer, logs = json.loads(out)
    assert (state, answer) == ("Healthy", [2.0])
    assert "ready on" in logs  # the fork writes its output to the service's log, as a fresh process does
    # A server that dies is reaped by the warm process (no zombie) and reads Unhealthy (a LocalWebservice, as
    # deployed here, says it as azureml's local services do: failed).
    os.kill(handle["pid"], signal.SIGKILL)
    _wait(lambda: _state(handle["pid"]) is None, "the killed server reaped by its parent")
    assert Webservice(ws, "warm-re").state == "Unhealthy"
    assert service.state == "failed"
    again = _deploy(ws, "warm-re")
    pid = _handle(again)["pid"]
    assert _ppid(pid) == zygote  # the same warm process serves the next deployment
    again.delete()
    _wait(lambda: _state(pid) is None, "the deleted server gone and reaped")
    other.delete()
    assert Webservice.list(ws) == []


def test_prewarm_off_announces_it_and_starts_a_fresh_process(ws, numpy_model, monkeypatch):
    monkeypatch.setenv(prewarm.SWITCH, "0")
    service = _deploy(ws, "cold-off")
    assert any(f"{prewarm.SWITCH}=0" in n for n in _notices(service))
    assert _ppid(_handle(service)["pid"]) == os.getpid()  # started by this process, as before
    assert service.run('{"data": [[1, 0, 0]]}') == [1.0]


def test_a_preload_that_starts_threads_is_refused_and_the_deployment_goes_on(ws, numpy_model, monkeypatch):
    monkeypatch.setenv(prewarm.LINGER_SECONDS, "600")  # the refusing warm process serves nothing: keep it to ask it
    service = _deploy(ws, "unsafe")
    env = _env_dir(service)
    site = next((env / "lib").glob("python3*/site-packages"))
    module = site / f"{THREAD_MODULE}.py"
    # Installed in the environment, so it is preloaded; a thread alive at fork() would be lost in the child.
    module.write_text("import threading\n\nthreading.Thread(target=threading.Event().wait, daemon=True).start()\n")
    try:
        score = numpy_model / "score.py"
        score.write_text(f"import {THREAD_MODULE}  # noqa: F401\n" + score.read_text())
        unsafe = _deploy(ws, "unsafe")
        notices = _notices(unsafe)
        assert any("not safe to fork" in n and "thread" in n and "fresh process" in n for n in notices), notices
        assert _ppid(_handle(unsafe)["pid"]) == os.getpid()
        assert unsafe.run('{"data": [[0, 0, 1]]}') == [3.0]
        refused = [z for z in prewarm.zygotes(env) if f"{THREAD_MODULE}" in z["preloaded"]]
        assert refused and "thread" in refused[0]["hazard"]
    finally:
        module.unlink()
        prewarm.stop_zygotes(env)


def test_a_gpu_library_in_score_py_falls_back_with_a_notice(ws, numpy_model):
    score = numpy_model / "score.py"
    score.write_text("try:\n    import torch  # noqa: F401\nexcept ImportError:\n    torch = None\n"
                     + score.read_text())
    service = _deploy(ws, "gpu")
    assert any("torch" in n and "GPU" in n for n in _notices(service))
    assert _ppid(_handle(service)["pid"]) == os.getpid()
    assert service.run('{"data": [[1, 1, 0]]}') == [3.0]


def test_the_warm_process_exits_when_idle_and_comes_back_on_demand(ws, numpy_model, monkeypatch):
    monkeypatch.setenv(prewarm.IDLE_SECONDS, "5")
    score = numpy_model / "score.py"
    score.write_text("import colorsys  # noqa: F401\n" + score.read_text())  # a preload list, so a zygote, of its own
    service = _deploy(ws, "idle")
    zygote = _forked_from(service)
    sockets = [z["socket"] for z in prewarm.zygotes(_env_dir(service)) if z["zygote"] == zygote]
    assert len(sockets) == 1
    _wait(lambda: _state(zygote) in (None, "Z"), "the idle warm process gone")  # Z: whether init reaps is not ours
    assert not Path(sockets[0]).exists()
    assert service.run('{"data": [[1, 0, 0]]}') == [1.0]  # the server it forked outlives it
    again = _deploy(ws, "idle")
    assert _forked_from(again) not in (None, zygote)  # a new warm process, started on demand
    assert again.run('{"data": [[1, 0, 0]]}') == [1.0]


def _forked_from(service: Webservice) -> int | None:
    """The warm process that forked the service's server, as its deployment logged it."""
    for line in _logs(service):
        match = re.search(r"Forked from the pre-warmed process (\d+)", line)
        if match:
            return int(match.group(1))
    return None
