# ruff: noqa - the notebook's code as published, not this project's style
# Converted from https://github.com/Azure/MachineLearningNotebooks/blob/f0442166cd7a6676a26e9495464c4a532478bf5a/how-to-use-azureml/deployment/deploy-to-local/register-model-deploy-local.ipynb
# Licence: MIT License, Copyright (c) Microsoft Corporation (LICENSE at the repository's root)
# Conversion: tests/v1_corpus/convert.py (rules in its docstring).
# Dropped or replaced, and why:
#   cell 32 dropped: AKS cluster: not available here (ComputeTarget raises ComputeTargetException by design, tests/core/test_compute_aks.py)
#   cell 33 dropped: AKS cluster: not available here (ComputeTarget raises ComputeTargetException by design, tests/core/test_compute_aks.py)
#   cell 34 dropped: AKS cluster: not available here (ComputeTarget raises ComputeTargetException by design, tests/core/test_compute_aks.py)
#   cell 35 dropped: AKS cluster: not available here (ComputeTarget raises ComputeTargetException by design, tests/core/test_compute_aks.py)
#   cell 36 dropped: AKS cluster: not available here (ComputeTarget raises ComputeTargetException by design, tests/core/test_compute_aks.py)

# --- cell 4
# Check core SDK version number
import aci_widgets.core

print("SDK version:", aci_widgets.core.VERSION)

# --- cell 6
from aci_widgets.core import Workspace

ws = Workspace.from_config()
print(ws.name, ws.resource_group, ws.location, ws.subscription_id, sep='\n')

# --- cell 8
import joblib

from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge

dataset_x, dataset_y = load_diabetes(return_X_y=True)

sk_model = Ridge().fit(dataset_x, dataset_y)

_shown = (joblib.dump(sk_model, "sklearn_regression_model.pkl"))
if _shown is not None:
    print(repr(_shown))

# --- cell 11
from aci_widgets.core.model import Model

model = Model.register(model_path="sklearn_regression_model.pkl",
                       model_name="sklearn_regression_model",
                       tags={'area': "diabetes", 'type': "regression"},
                       description="Ridge regression model to predict diabetes",
                       workspace=ws)

# --- cell 13
import sklearn

from aci_widgets.core.environment import Environment

environment = Environment("LocalDeploy")
environment.python.conda_dependencies.add_pip_package("inference-schema[numpy-support]")
environment.python.conda_dependencies.add_pip_package("joblib")
_shown = (environment.python.conda_dependencies.add_pip_package("scikit-learn=={}".format(sklearn.__version__)))
if _shown is not None:
    print(repr(_shown))

# --- cell 15
with open('score.py', 'w') as _f:
    _f.write("import joblib\nimport json\nimport numpy as np\nimport os\n\nfrom inference_schema.schema_decorators import input_schema, output_schema\nfrom inference_schema.parameter_types.numpy_parameter_type import NumpyParameterType\n\ndef init():\n    global model\n    # AZUREML_MODEL_DIR is an environment variable created during deployment.\n    # It is the path to the model folder (./azureml-models/$MODEL_NAME/$VERSION)\n    # For multiple models, it points to the folder containing all deployed models (./azureml-models)\n    model_path = os.path.join(os.getenv('AZUREML_MODEL_DIR'), 'sklearn_regression_model.pkl')\n    # Deserialize the model file back into a sklearn model.\n    model = joblib.load(model_path)\n\ninput_sample = np.array([[10.0, 9.0, 8.0, 7.0, 6.0, 5.0, 4.0, 3.0, 2.0, 1.0]])\noutput_sample = np.array([3726.995])\n\n@input_schema('data', NumpyParameterType(input_sample))\n@output_schema(NumpyParameterType(output_sample))\ndef run(data):\n    try:\n        result = model.predict(data)\n        # You can return any JSON-serializable object.\n        return result.tolist()\n    except Exception as e:\n        error = str(e)\n        return error\n")

# --- cell 17
from aci_widgets.core.model import InferenceConfig

inference_config = InferenceConfig(entry_script="score.py",
                                   environment=environment)

# --- cell 19
from aci_widgets.core.webservice import LocalWebservice

# This is optional, if not provided Docker will choose a random unused port.
deployment_config = LocalWebservice.deploy_configuration(port=6789)

local_service = Model.deploy(ws, "test", [model], inference_config, deployment_config)

_shown = (local_service.wait_for_deployment())
if _shown is not None:
    print(repr(_shown))

# --- cell 20
print('Local service port: {}'.format(local_service.port))

# --- cell 22
print(local_service.get_logs())

# --- cell 25
import json

sample_input = json.dumps({
    'data': dataset_x[0:2].tolist()
})

_shown = (local_service.run(sample_input))
if _shown is not None:
    print(repr(_shown))

# --- cell 27
with open('score.py', 'w') as _f:
    _f.write("import joblib\nimport json\nimport numpy as np\nimport os\n\nfrom inference_schema.schema_decorators import input_schema, output_schema\nfrom inference_schema.parameter_types.numpy_parameter_type import NumpyParameterType\n\ndef init():\n    global model\n    # AZUREML_MODEL_DIR is an environment variable created during deployment.\n    # It is the path to the model folder (./azureml-models/$MODEL_NAME/$VERSION)\n    # For multiple models, it points to the folder containing all deployed models (./azureml-models)\n    model_path = os.path.join(os.getenv('AZUREML_MODEL_DIR'), 'sklearn_regression_model.pkl')\n    # Deserialize the model file back into a sklearn model.\n    model = joblib.load(model_path)\n\ninput_sample = np.array([[10.0, 9.0, 8.0, 7.0, 6.0, 5.0, 4.0, 3.0, 2.0, 1.0]])\noutput_sample = np.array([3726.995])\n\n@input_schema('data', NumpyParameterType(input_sample))\n@output_schema(NumpyParameterType(output_sample))\ndef run(data):\n    try:\n        result = model.predict(data)\n        # You can return any JSON-serializable object.\n        return 'Hello from the updated score.py: ' + str(result.tolist())\n    except Exception as e:\n        error = str(e)\n        return error\n")

# --- cell 28
local_service.reload()
print("--------------------------------------------------------------")

# After calling reload(), run() will return the updated message.
_shown = (local_service.run(sample_input))
if _shown is not None:
    print(repr(_shown))

# --- cell 30
_shown = (local_service.update(models=[model],
                     inference_config=inference_config,
                     deployment_config=deployment_config))
if _shown is not None:
    print(repr(_shown))

# --- cell 38
_shown = (local_service.delete())
if _shown is not None:
    print(repr(_shown))
