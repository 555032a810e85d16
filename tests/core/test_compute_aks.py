"""AKS names at azureml's paths: a compute target that does not exist raises ComputeTargetException as azureml's
does; AksWebservice.deploy_configuration keeps azureml's defaults, maps them to Ray Serve, refuses AKS-only knobs."""

import pytest

from aci_widgets.core.compute import ComputeTarget, ComputeTargetException
from aci_widgets.core.errors import UserErrorException
from aci_widgets.core.webservice import AksWebservice


def test_the_notebooks_probe_branch_raises_compute_target_exception(ws):
    with pytest.raises(ComputeTargetException, match="ComputeTarget.create"):
        ComputeTarget(workspace=ws, name="aks-cluster")


def test_deploy_configuration_defaults_and_their_ray_serve_form():
    config = AksWebservice.deploy_configuration()
    assert (config.autoscale_enabled, config.auth_enabled, config.cpu_cores, config.memory_gb) == (True, True, 0.1, 0.5)
    options = config.target_options()
    assert options["autoscaling_config"]["target_ongoing_requests"] == pytest.approx(0.7)
    assert options["max_ongoing_requests"] == 1 and "num_replicas" not in options
    fixed = AksWebservice.deploy_configuration(num_replicas=2, replica_max_concurrent_requests=4).target_options()
    assert fixed["num_replicas"] == 2 and fixed["max_ongoing_requests"] == 4 and "autoscaling_config" not in fixed


def test_aks_only_knobs_say_why_they_do_not_apply():
    with pytest.raises(UserErrorException, match="namespace='ns' has no meaning on a Ray cluster"):
        AksWebservice.deploy_configuration(namespace="ns")
    with pytest.raises(UserErrorException, match="num_replicas cannot be used with autoscale_enabled=True"):
        AksWebservice.deploy_configuration(num_replicas=2, autoscale_enabled=True)
