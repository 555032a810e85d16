"""Web services end to end on the process target: real environments, real servers, real HTTP."""

import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from aci_widgets.core import (
    AciWebservice,
    ContainerImage,
    Image,
    LocalWebservice,
    Model,
    TargetUnavailable,
    UserErrorException,
    Webservice,
    WebserviceException,
)


def _config():
    return ContainerImage.image_configuration(execution_script="score.py", runtime="python",
                                              conda_file="myenv.yml", description="numpy model",
                                              tags={"data": "numbers"})


def test_deploy_from_files_runs_and_reports(ws, numpy_model, capsys):
    aci = AciWebservice.deploy_configuration(cpu_cores=1, memory_gb=1, tags={"data": "numbers"},
                                             description="dot product")
    service = Webservice.deploy(ws, "dot-1", ["weights.npy"], _config(), aci)
    service.wait_for_deployment(show_output=True)
    out = capsys.readouterr().out
    assert "Target: process" in out
    for step in ("register model", "build image", "start service", "wait for health"):
        assert f"{step}: done" in out
    assert service.state == "Healthy"
    assert service.run(json.dumps({"data": [[1, 1, 1], [0, 0, 1]]})) == [6.0, 3.0]
    assert service.run(b'{"data": [[1, 0, 0]]}') == [1.0]
    assert service.scoring_uri.startswith("http://127.0.0.1:")
    assert Model(ws, "weights.npy").version == 1
    assert service.tags == {"data": "numbers"}
    assert service.description == "dot product"
    assert "ready on" in service.get_logs()


def test_three_ways_share_one_cached_environment(ws, numpy_model):
    model = Model.register(ws, "weights.npy", "weights.npy")
    config = _config()
    aci = AciWebservice.deploy_configuration()
    by_model = Webservice.deploy_from_model(ws, "dot-2", [model], config, aci)
    by_model.wait_for_deployment()
    image = ContainerImage.create(name="myimage1", models=[model], image_config=config, workspace=ws)
    image.wait_for_creation(show_output=False)
    assert image.creation_state == "Succeeded"
    by_image = Webservice.deploy_from_image(deployment_config=aci, image=image, name="dot-3", workspace=ws)
    by_image.wait_for_deployment()
    assert by_model.run('{"data": [[1, 2, 3]]}') == by_image.run('{"data": [[1, 2, 3]]}') == [14.0]
    env_keys = {Image(ws, name)._row["record"]["process"]["env_key"] for name in ("dot-2", "myimage1")}
    assert len(env_keys) == 1
    notices = [e.message for e in image.operation.events if type(e).__name__ == "Notice"]
    assert any("Reusing the cached environment" in n for n in notices)
    assert sorted(s.name for s in Webservice.list(ws)) == ["dot-2", "dot-3"]
    assert [s.name for s in Webservice.list(ws, image_name="myimage1")] == ["dot-3"]


def test_errors_in_run_are_500_and_the_service_keeps_serving(ws, numpy_model):
    service = Webservice.deploy(ws, "dot-err", ["weights.npy"], _config())
    service.wait_for_deployment()
    with pytest.raises(WebserviceException, match="500") as info:
        service.run('{"data": "not a matrix"}')
    # numpy's own words reach the caller: the error type and what went wrong (a str array cannot be multiplied)
    assert "UFuncTypeError" in str(info.value) and "'matmul'" in str(info.value), str(info.value)
    assert service.run('{"data": [[1, 0, 0]]}') == [1.0]


def test_init_failure_is_shown_with_the_users_traceback(ws, numpy_model):
    (numpy_model / "score.py").write_text(textwrap.dedent("""
        def init():
            global model
            model = load_the_model()   # NameError on purpose


        def run(raw_data):
            return raw_data
    """))
    service = Webservice.deploy(ws, "broken", ["weights.npy"], _config())
    with pytest.raises(WebserviceException) as info:
        service.wait_for_deployment(show_output=False)
    message = str(info.value)
    assert "init() failed" in message
    assert "load_the_model" in message          # the user's own line, in the exception itself
    assert "score.py" in info.value.detail
    assert service.state == "Failed"
    assert "load_the_model" in service.get_logs()
    # A failed service can be deployed again under its name without overwrite=True.
    (numpy_model / "score.py").write_text("def init():\n    pass\n\n\ndef run(raw_data):\n    return 'ok'\n")
    fixed = Webservice.deploy(ws, "broken", ["weights.npy"], _config())
    fixed.wait_for_deployment()
    assert fixed.run("{}") == "ok"


def test_existing_service_needs_overwrite(ws, numpy_model):
    first = Webservice.deploy(ws, "dot-ow", ["weights.npy"], _config())
    first.wait_for_deployment()
    with pytest.raises(WebserviceException, match="overwrite=True"):
        Webservice.deploy(ws, "dot-ow", ["weights.npy"], _config())
    old_pid = first._row["handle"]["pid"]
    second = Webservice.deploy(ws, "dot-ow", ["weights.npy"], _config(), overwrite=True)
    second.wait_for_deployment()
    assert second.state == "Healthy"
    assert second._row["handle"]["pid"] != old_pid
    with pytest.raises(ProcessLookupError):
        os.kill(old_pid, 0)
    listed = [(s.name, s._row["handle"]["pid"]) for s in Webservice.list(ws)]
    assert listed == [("dot-ow", second._row["handle"]["pid"])]


def test_user_mistakes_fail_at_once_with_clear_messages(ws, numpy_model):
    with pytest.raises(UserErrorException, match="3 to 32 characters"):
        Webservice.deploy(ws, "Bad_Name", ["weights.npy"], _config())
    with pytest.raises(UserErrorException, match="not found"):
        Webservice.deploy(ws, "dot-x", ["nope.npy"], _config())
    with pytest.raises(UserErrorException, match="Execution script 'nope.py' not found"):
        ContainerImage.image_configuration(execution_script="nope.py", runtime="python")
    with pytest.raises(UserErrorException, match="cpu_cores"):
        AciWebservice.deploy_configuration(cpu_cores=0)
    with pytest.raises(UserErrorException, match="memory_gb"):
        AciWebservice.deploy_configuration(memory_gb=100)
    with pytest.raises(UserErrorException, match="Model.register"):
        Webservice.deploy_from_model(ws, "dot-x", ["weights.npy"], _config())
    with pytest.raises(WebserviceException, match="not found"):
        Webservice(ws, "never-deployed")
    assert Webservice.list(ws) == []


def test_unknown_target_from_the_environment_is_refused(ws, numpy_model, monkeypatch):
    monkeypatch.setenv("ACI_WIDGETS_TARGET", "mainframe")
    with pytest.raises(UserErrorException, match="Unknown target 'mainframe'"):
        Webservice.deploy(ws, "dot-t", ["weights.npy"], _config())
    assert Webservice.list(ws) == []


def test_docker_asked_for_without_an_engine_is_a_clear_error(ws, numpy_model, monkeypatch):
    monkeypatch.setenv("ACI_WIDGETS_TARGET", "docker")
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    with pytest.raises(TargetUnavailable, match="docker"):
        Webservice.deploy(ws, "dot-d", ["weights.npy"], _config())
    assert Webservice.list(ws) == []
    assert Image.list(ws) == []


def test_reattach_from_a_new_process_and_a_dead_process_reads_unhealthy(ws, numpy_model):
    service = Webservice.deploy(ws, "dot-re", ["weights.npy"], _config())
    service.wait_for_deployment()
    probe = textwrap.dedent(f"""
        import json
        from aci_widgets.core import Workspace, Webservice
        ws = Workspace({ws.name!r}, path={str(ws.root)!r})
        s = Webservice(ws, "dot-re")
        print(json.dumps([s.state, s.run('{{"data": [[0, 1, 0]]}}')]))
    """)
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == ["Healthy", [2.0]]
    os.kill(service._row["handle"]["pid"], signal.SIGKILL)
    assert service.state == "Unhealthy"
    assert "exited" in service.error
    with pytest.raises(WebserviceException, match="Unhealthy"):
        service.run('{"data": [[0, 1, 0]]}')


def test_auth_keys(ws, numpy_model):
    aci = AciWebservice.deploy_configuration(auth_enabled=True)
    service = Webservice.deploy(ws, "dot-auth", ["weights.npy"], _config(), aci)
    service.wait_for_deployment()
    primary, secondary = service.get_keys()
    assert primary != secondary
    assert service.run('{"data": [[1, 0, 0]]}') == [1.0]   # run() sends the key
    import urllib.error
    import urllib.request

    request = urllib.request.Request(service.scoring_uri, data=b'{"data": [[1, 0, 0]]}', method="POST")
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=5)
    assert info.value.code == 401
    request.add_header("Authorization", f"Bearer {secondary}")
    assert json.loads(urllib.request.urlopen(request, timeout=5).read()) == [1.0]


def test_no_keys_without_auth(ws, numpy_model):
    service = Webservice.deploy(ws, "dot-nokey", ["weights.npy"], _config())
    service.wait_for_deployment()
    with pytest.raises(WebserviceException, match="auth_enabled=True"):
        service.get_keys()


def test_update_tags_and_image_keeps_the_name(ws, numpy_model):
    service = Webservice.deploy(ws, "dot-up", ["weights.npy"], _config())
    service.wait_for_deployment()
    service.update(tags={"stage": "test"}, description="updated")
    assert (service.tags, service.description) == ({"stage": "test"}, "updated")
    (numpy_model / "score.py").write_text(
        (numpy_model / "score.py").read_text().replace("(data @ weights)", "(10 * data @ weights)"))
    image = ContainerImage.create(ws, "dot-up-v2", [Model(ws, "weights.npy")], _config())
    image.wait_for_creation()
    service.update(image=image)
    service.wait_for_deployment()
    assert service.image_id == "dot-up-v2:1"
    assert service.run('{"data": [[1, 0, 0]]}') == [10.0]
    assert service.tags == {"stage": "test"}


def test_reload_picks_up_the_edited_score_py_on_the_same_uri(ws, numpy_model):
    service = Webservice.deploy(ws, "dot-local", ["weights.npy"], _config(),
                                LocalWebservice.deploy_configuration())
    service.wait_for_deployment()
    uri = service.scoring_uri
    (numpy_model / "score.py").write_text(
        (numpy_model / "score.py").read_text().replace("(data @ weights)", "(-1 * data @ weights)"))
    service.reload()
    assert service.scoring_uri == uri
    assert service.run('{"data": [[1, 0, 0]]}') == [-1.0]
    assert service.compute_type == "Local"


def test_delete_stops_the_process(ws, numpy_model):
    service = Webservice.deploy(ws, "dot-del", ["weights.npy"], _config())
    service.wait_for_deployment()
    pid = service._row["handle"]["pid"]
    service.delete()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert Webservice.list(ws) == []
    assert Image(ws, "dot-del").creation_state == "Succeeded"   # the image stays, as in azureml


def test_image_build_failure_names_pips_error(ws, numpy_model):
    (numpy_model / "myenv.yml").write_text("dependencies:\n  - python=3.11\n  - pip:\n"
                                           "    - no-such-package-aci-widgets==0.0.1\n")
    image = ContainerImage.create(ws, "broken-env", [], _config())
    from aci_widgets.core import ImageBuildError

    with pytest.raises(ImageBuildError) as info:
        image.wait_for_creation()
    assert "no-such-package-aci-widgets" in str(info.value) + info.value.detail
    assert image.creation_state == "Failed"
    assert "no-such-package-aci-widgets" in image.get_logs()


def test_cancelling_a_build_leaves_no_image_entry(ws, numpy_model):
    (numpy_model / "myenv.yml").write_text("dependencies:\n  - python=3.11\n  - numpy\n  - pip:\n"
                                           "    - six\n")  # a new environment, so pip runs
    image = ContainerImage.create(ws, "cancelled", [], _config())
    for event in image.operation.follow():
        if type(event).__name__ == "LogLine":
            image.operation.cancel()
            break
    image.operation.wait(60)
    assert image.operation.events[-1].state == "Cancelled"
    assert Image.list(ws, image_name="cancelled") == []


def test_a_second_handle_in_the_same_process_follows_the_deployment(ws, numpy_model):
    service = Webservice.deploy(ws, "dot-two", ["weights.npy"], _config())
    other = Webservice(ws, "dot-two")
    assert other.state != "Failed"   # not mistaken for an interrupted deployment
    other.wait_for_deployment()
    assert other.state == service.state == "Healthy"
