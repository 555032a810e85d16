"""The seed document's workflow, its code blocks as written (``azureml`` -> ``aci_widgets``), on each target.

Real MNIST digits, a real scikit-learn model, real environments and real HTTP services.
"""

from __future__ import annotations

import json
import uuid

import numpy as np
import pytest


@pytest.fixture
def seed_files(workdir, mnist_source):
    """What the seed takes as given: a trained model file, score.py and myenv.yml in the working directory."""
    from aci_widgets.demo.assets import write_assets
    from aci_widgets.demo.model import train_demo_model

    train_demo_model(workdir)
    write_assets(workdir)
    return workdir


@pytest.mark.parametrize("target", ["process", pytest.param("docker", marks=pytest.mark.docker)])
def test_the_seed_workflow_three_ways(target, seed_files, mnist_source, tmp_path, capsys):
    if target == "docker":
        from support import require_docker

        require_docker()
    # --- prerequisites ------------------------------------------------------------------------------------
    from aci_widgets.core import Workspace

    name = f"seed-{target}-{uuid.uuid4().hex[:6]}"
    Workspace.create(name, exist_ok=True, target=target, path=tmp_path / "ws").write_config()
    ws = Workspace.from_config()
    assert ws.target == target

    # --- configure an image ---------------------------------------------------------------------------------
    from aci_widgets.core.image import ContainerImage

    image_config = ContainerImage.image_configuration(execution_script="score.py",
                                                      runtime="python",
                                                      conda_file="myenv.yml",
                                                      description="Image with mnist model",
                                                      tags={"data": "mnist", "type": "classification"}
                                                      )

    # --- configure the ACI container ------------------------------------------------------------------------
    from aci_widgets.core.webservice import AciWebservice

    aciconfig = AciWebservice.deploy_configuration(cpu_cores=1,
                                                   memory_gb=1,
                                                   tags={"data": "mnist", "type": "classification"},
                                                   description='Handwriting recognition')

    # --- register a model file ------------------------------------------------------------------------------
    from aci_widgets.core.model import Model

    model_name = "sklearn_mnist"
    model = Model.register(model_path="sklearn_mnist_model.pkl",
                           model_name=model_name,
                           tags={"data": "mnist", "type": "classification"},
                           description="Mnist handwriting recognition",
                           workspace=ws)
    model = Model(ws, model_name)

    services = []
    try:
        # --- option 1: deploy from a model file -----------------------------------------------------------
        from aci_widgets.core.webservice import Webservice

        service_name = 'aci-mnist-1'
        service = Webservice.deploy(deployment_config=aciconfig,
                                    image_config=image_config,
                                    model_paths=['sklearn_mnist_model.pkl'],
                                    name=service_name,
                                    workspace=ws)
        services.append(service)
        service.wait_for_deployment(show_output=True)
        print(service.state)

        # --- option 2: deploy from a registered model -----------------------------------------------------
        service_name = 'aci-mnist-2'
        service = Webservice.deploy_from_model(deployment_config=aciconfig,
                                               image_config=image_config,
                                               models=[model],  # this is the registered model object
                                               name=service_name,
                                               workspace=ws)
        services.append(service)
        service.wait_for_deployment(show_output=True)
        print(service.state)

        # --- option 3: deploy from an image ---------------------------------------------------------------
        image = ContainerImage.create(name="myimage1",
                                      models=[model],  # this is the registered model object
                                      image_config=image_config,
                                      workspace=ws)
        image.wait_for_creation(show_output=True)

        service_name = 'aci-mnist-3'
        service = Webservice.deploy_from_image(deployment_config=aciconfig,
                                               image=image,
                                               name=service_name,
                                               workspace=ws)
        services.append(service)
        service.wait_for_deployment(show_output=True)
        print(service.state)

        out = capsys.readouterr().out
        assert out.count("Healthy") >= 3
        assert f"Target: {target}" in out

        # --- test the web service (the seed's code, with the session's MNIST test set) ----------------------
        X_test, labels = mnist_source.load()
        n = 30
        cut = 8000 if mnist_source.official else 4000  # train_demo_model trained on the digits before the cut
        sample_indices = np.random.default_rng(1).permutation(range(cut, len(X_test)))[0:n]  # held-out digits
        test_samples = json.dumps({"data": X_test[sample_indices].tolist()})
        test_samples = bytes(test_samples, encoding='utf8')

        answers = [s.run(input_data=test_samples) for s in services]
        assert answers[0] == answers[1] == answers[2]
        assert len(answers[0]) == n
        accuracy = np.mean(np.array(answers[0]) == labels[sample_indices])
        assert accuracy >= 0.8, accuracy
        assert {s.state for s in services} == {"Healthy"}
        assert {s.target for s in services} == {target}
    finally:
        # --- clean up -------------------------------------------------------------------------------------
        for service in services:
            service.delete()
        assert Webservice.list(ws) == []
        from support import cleanup_workspace

        cleanup_workspace(ws)  # the images too (on Docker: real images)
