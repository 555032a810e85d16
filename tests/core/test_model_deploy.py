"""Model.deploy with InferenceConfig and Environment, end to end on the process target (real servers, real HTTP)."""

import json
import textwrap

import numpy as np
import pytest

from aci_widgets.core import Environment, UserErrorException
from aci_widgets.core.errors import WebserviceException
from aci_widgets.core.model import InferenceConfig, Model
from aci_widgets.core.webservice import LocalWebservice, Webservice

SCORE = '''\
import json
import os

import numpy as np

from helpers import scale
from aci_widgets.core.model import Model


def init():
    global weights, model_dir
    model_dir = os.environ["AZUREML_MODEL_DIR"]
    weights = np.load(Model.get_model_path("weights"))


def run(raw_data):
    data = np.array(json.loads(raw_data)["data"])
    return {"result": (scale(data) @ weights).tolist(), "model_dir": model_dir,
            "greeting": os.environ.get("GREETING"), "files": sorted(os.listdir(".")),
            "labels": os.path.isfile("src/data/labels.txt")}
'''


@pytest.fixture
def source(numpy_model):
    folder = numpy_model / "src"
    folder.mkdir()
    (folder / "score.py").write_text(SCORE)
    (folder / "helpers.py").write_text("def scale(x):\n    return x * 2\n")
    (folder / "data").mkdir()
    (folder / "data" / "labels.txt").write_text("a\nb\n")
    return folder


def test_model_deploy_with_an_environment_and_a_source_directory(ws, source, capsys):
    model = Model.register(ws, model_path="weights.npy", model_name="weights")
    env = Environment.from_conda_specification("numpy-env", "myenv.yml")
    env.environment_variables = {"GREETING": "hello"}
    config = InferenceConfig(entry_script="score.py", source_directory="src", environment=env)
    service = Model.deploy(ws, "v1-dot", [model], config, LocalWebservice.deploy_configuration())  # positional
    assert isinstance(service, Webservice)
    service.wait_for_deployment(show_output=True)
    assert "wait for health: done" in capsys.readouterr().out
    answer = service.run(json.dumps({"data": [[1, 1, 1]]}))
    assert answer["result"] == [12.0]
    assert answer["greeting"] == "hello"
    assert "src" in answer["files"]  # as on Azure: the folder under its own name in the working directory
    assert answer["labels"] is True  # its files too: open("src/data/labels.txt") works, as in the v1 samples
    assert answer["model_dir"].endswith("/azureml-models/weights/1")  # one model: its own folder, as on Azure
    assert ws.webservices["v1-dot"].state == "Healthy"
    assert ws.models["weights"] == model


def test_several_models_point_azureml_model_dir_at_the_models_folder(ws, source):
    np.save("other.npy", np.array([0.0, 0.0, 0.0]))
    first = Model.register(ws, "weights.npy", "weights")
    other = Model.register(ws, "other.npy", "other")
    env = Environment("numpy-only")
    env.python.conda_dependencies.add_pip_package("numpy")
    config = InferenceConfig(entry_script="score.py", source_directory="src", environment=env)
    service = Model.deploy(workspace=ws, name="v1-two", models=[first, other], inference_config=config)
    service.wait_for_deployment()
    answer = service.run({"data": [[1, 0, 0]]})
    assert answer["result"] == [2.0]
    assert answer["model_dir"].endswith("/azureml-models")


def test_the_older_loose_arguments_still_deploy(ws, numpy_model):
    model = Model.register(ws, "weights.npy", "weights.npy")
    config = InferenceConfig(entry_script="score.py", runtime="python", conda_file="myenv.yml")
    service = Model.deploy(ws, "v1-loose", [model], config)
    service.wait_for_deployment()
    assert service.run({"data": [[1, 1, 1]]}) == [6.0]


def test_user_managed_dependencies_run_on_this_python(ws, source):
    model = Model.register(ws, "weights.npy", "weights")
    env = Environment("mine")
    env.python.user_managed_dependencies = True
    config = InferenceConfig(entry_script="score.py", source_directory="src", environment=env)
    service = Model.deploy(ws, "v1-mine", [model], config)
    service.wait_for_deployment()
    assert service.run({"data": [[0, 0, 1]]})["result"] == [6.0]
    assert service.image._row["record"]["process"]["python"]


def test_no_code_deploy_of_a_scikit_learn_model(ws, workdir):
    import joblib
    import sklearn
    from sklearn.linear_model import LinearRegression

    x = np.array([[0.0], [1.0], [2.0]])
    joblib.dump(LinearRegression().fit(x, 3 * x.ravel() + 1), "model.pkl")
    model = Model.register(ws, "model.pkl", "lin", model_framework=Model.Framework.SCIKITLEARN,
                           model_framework_version=sklearn.__version__, sample_input_dataset=None,
                           resource_configuration={"cpu": 1, "memory_in_gb": 0.5})
    assert model.model_framework == "ScikitLearn"
    assert model.resource_configuration.memory_in_gb == 0.5
    service = Model.deploy(ws, "v1-nocode", [model])
    service.wait_for_deployment()
    assert service.run(json.dumps({"data": [[3.0]]})) == pytest.approx([10.0])


def test_no_code_deploy_needs_a_framework(ws, numpy_model):
    model = Model.register(ws, "weights.npy", "weights")
    with pytest.raises(UserErrorException, match="no-code deployment is available for scikit-learn"):
        Model.deploy(ws, "v1-none", [model])


def test_wrong_arguments_are_named(ws, numpy_model):
    model = Model.register(ws, "weights.npy", "weights")
    with pytest.raises(UserErrorException, match="inference_config must be an InferenceConfig"):
        Model.deploy(ws, "v1-bad", [model], inference_config="score.py")
    with pytest.raises(UserErrorException, match="models must be registered Model objects"):
        Model.deploy(ws, "v1-bad", ["weights.npy"], InferenceConfig("score.py", runtime="python"))


SCORE_BY_FILE = textwrap.dedent('''\
    import json, os
    def init():
        global path
        path = os.path.join(os.getenv("AZUREML_MODEL_DIR"), "weights.npy")
    def run(raw_data):
        return os.path.isfile(path)
''')


def test_azure_style_model_dir_join_finds_the_file(ws, numpy_model):
    (numpy_model / "byfile.py").write_text(SCORE_BY_FILE)
    model = Model.register(ws, "weights.npy", "weights")
    service = Model.deploy(ws, "v1-join", [model], InferenceConfig("byfile.py", runtime="python"))
    service.wait_for_deployment()
    assert service.run("{}") is True


def test_user_managed_interpreter_path_without_the_runtimes_packages_is_named(ws, source, tmp_path):
    import subprocess
    import sys

    bare = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    model = Model.register(ws, "weights.npy", "weights")
    env = Environment("bare")
    env.python.user_managed_dependencies = True
    env.python.interpreter_path = str(bare / "bin" / "python")
    config = InferenceConfig(entry_script="score.py", source_directory="src", environment=env)
    with pytest.raises(WebserviceException,
                       match=r"runs .*bare/bin/python .*as it is.*lacks httptools.*pip install 'httptools>=0.6'"):
        Model.deploy(ws, "v1-bare", [model], config).wait_for_deployment()
    env.python.interpreter_path = str(tmp_path / "no-such-python")
    with pytest.raises(WebserviceException, match="does not start"):
        Model.deploy(ws, "v1-nopy", [model], config).wait_for_deployment()


def test_show_output_prints_what_azureml_prints(ws, numpy_model, capsys):
    """azureml-core: Model.deploy(show_output=True) of a cloud service prints "Request submitted..." and returns;
    wait_for_deployment ends with "ACI service creation operation finished..." with or without show_output; a
    local deployment is followed in the call and ends with the local URL."""
    model = Model.register(ws, "weights.npy", "weights.npy")
    config = InferenceConfig("score.py", runtime="python", conda_file="myenv.yml")
    service = Model.deploy(ws, "v1-shown", [model], config, show_output=True)
    assert capsys.readouterr().out == ("Request submitted, please run wait_for_deployment(show_output=True) to get "
                                       "deployment status.\n")
    service.wait_for_deployment()
    assert capsys.readouterr().out == 'ACI service creation operation finished, operation "Succeeded"\n'
    service.wait_for_deployment(show_output=True)  # again, as notebooks do: the steps, then the same line
    shown = capsys.readouterr().out
    assert "wait for health" in shown and shown.endswith('ACI service creation operation finished, operation '
                                                         '"Succeeded"\n')
    local = Model.deploy(ws, "v1-shown-local", [model], config, LocalWebservice.deploy_configuration(),
                         show_output=True)
    shown = capsys.readouterr().out
    assert "wait for health" in shown and f"Local webservice is running at http://127.0.0.1:{local.port}" in shown
    assert "service creation operation" not in shown and "Request submitted" not in shown
