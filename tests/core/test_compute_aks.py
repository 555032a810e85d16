"""AKS names import at azureml's paths; any use says in one line that the cluster target is not here yet."""

import pytest

from aci_widgets.core.compute import AksCompute, ComputeTarget, ComputeTargetException
from aci_widgets.core.webservice import AksWebservice


def test_the_notebooks_probe_and_provision_branches_both_end_in_the_same_line(ws):
    with pytest.raises(ComputeTargetException) as probed:
        ComputeTarget(workspace=ws, name="aks-cluster")
    with pytest.raises(ComputeTargetException) as provisioned:
        AksCompute.provisioning_configuration(location="eastus")
    assert str(probed.value) == str(provisioned.value)
    assert "\n" not in str(probed.value) and "cluster (Ray) target" in str(probed.value)
    with pytest.raises(ComputeTargetException, match="AKS web services is not available here yet"):
        AksWebservice.deploy_configuration(autoscale_enabled=True)
