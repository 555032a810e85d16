"""Model.profile measured for real: a temporary local service fed with the dataset's request bodies."""

import json

import pytest

from aci_widgets.core import Dataset, Environment, InferenceConfig, Model, Webservice
from aci_widgets.core.model_profile import _percentile, _step_up


def _request_dataset(ws, workdir, bodies):
    (workdir / "requests.txt").write_text("\n".join(bodies))
    store = ws.get_default_datastore()
    store.upload_files(["requests.txt"], target_path="sample_request_data", show_progress=False)
    ds = Dataset.Tabular.from_delimited_files([(store, "sample_request_data/requests.txt")], separator="\n",
                                              header=False)
    return ds.register(ws, "profile-requests", create_new_version=True)


def test_profile_reports_azureml_keys_from_measurements_and_leaves_no_service(ws, numpy_model):
    model = Model.register(ws, "weights.npy", "weights")
    good = json.dumps({"data": [[1, 2, 3]]})
    dataset = _request_dataset(ws, numpy_model, [good] * 20)
    config = InferenceConfig(entry_script="score.py",
                             environment=Environment.from_conda_specification("numpy-env", "myenv.yml"))
    result = Model.profile(ws, "numpy-profile", [model], config, input_dataset=dataset, cpu=1, memory_in_gb=0.5)
    result.wait_for_completion(show_output=True)
    details = result.get_details()
    assert details["state"] == "Succeeded" and details["name"] == "numpy-profile"
    assert (details["totalQueries"], details["successQueries"], details["successRate"]) == (20, 20, 1.0)
    assert (details["requestedCpu"], details["requestedMemoryInGB"]) == (1.0, 0.5)
    assert 0 < details["latencyPercentile50InMs"] <= details["latencyPercentile90InMs"] \
        <= details["latencyPercentile99InMs"] <= details["latencyPercentile999InMs"]
    # numpy and the runtime hold tens of MB; the recommendation is the peak with headroom, in 0.1 steps
    assert 0.01 < details["maxUtilizedMemoryInGB"] < 4
    assert details["recommendedMemoryInGB"] == _step_up(details["maxUtilizedMemoryInGB"] * 1.2)
    assert details["recommendedCpu"] == _step_up(details["maxUtilizedCpu"] * 1.2)
    assert Webservice.list(ws) == []


def test_profile_takes_the_models_sample_input_dataset_and_fails_with_the_services_error(ws, numpy_model):
    dataset = _request_dataset(ws, numpy_model, ['{"data": [[1, 2]]}'] * 3)  # wrong shape: run() raises
    model = Model.register(ws, "weights.npy", "weights", sample_input_dataset=dataset)
    config = InferenceConfig(entry_script="score.py",
                             environment=Environment.from_conda_specification("numpy-env", "myenv.yml"))
    result = Model.profile(ws, "bad-inputs", [model], config)
    assert result.get_details()["state"] == "Failed" and "3 of 3 samples failed" in result.error
    with pytest.raises(Exception, match="Profiling 'bad-inputs' failed"):
        result.wait_for_completion()
    assert Webservice.list(ws) == []


def test_percentiles_and_steps():
    assert _percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.0 and _percentile([1.0, 2.0, 3.0, 4.0], 99) == 4.0
    assert (_step_up(0.0), _step_up(0.31), _step_up(0.3)) == (0.1, 0.4, 0.3)
