# ruff: noqa - the notebook's code as published, not this project's style
# Converted from https://github.com/Azure/MachineLearningNotebooks/blob/f0442166cd7a6676a26e9495464c4a532478bf5a/how-to-use-azureml/deployment/deploy-to-local/register-model-deploy-local-advanced.ipynb
# Licence: MIT License, Copyright (c) Microsoft Corporation (LICENSE at the repository's root)
# Conversion: tests/v1_corpus/convert.py (rules in its docstring).
# Dropped or replaced, and why:
#   nothing

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
import os

source_directory = "source_directory"

os.makedirs(source_directory, exist_ok=True)
os.makedirs(os.path.join(source_directory, "x/y"), exist_ok=True)
os.makedirs(os.path.join(source_directory, "env"), exist_ok=True)
_shown = (os.makedirs(os.path.join(source_directory, "dockerstep"), exist_ok=True))
if _shown is not None:
    print(repr(_shown))

# --- cell 15
with open('source_directory/x/y/score.py', 'w') as _f:
    _f.write('import joblib\nimport json\nimport numpy as np\nimport os\n\nfrom inference_schema.schema_decorators import input_schema, output_schema\nfrom inference_schema.parameter_types.numpy_parameter_type import NumpyParameterType\n\ndef init():\n    global model\n    # AZUREML_MODEL_DIR is an environment variable created during deployment. Join this path with the filename of the model file.\n    # It holds the path to the directory that contains the deployed model (./azureml-models/$MODEL_NAME/$VERSION)\n    # If there are multiple models, this value is the path to the directory containing all deployed models (./azureml-models)\n    model_path = os.path.join(os.getenv(\'AZUREML_MODEL_DIR\'), \'sklearn_regression_model.pkl\')\n    # Deserialize the model file back into a sklearn model.\n    model = joblib.load(model_path)\n\n    global name\n    # Note here, the entire source directory from inference config gets added into image.\n    # Below is an example of how you can use any extra files in image.\n    with open(\'./source_directory/extradata.json\') as json_file:\n        data = json.load(json_file)\n        name = data["people"][0]["name"]\n\ninput_sample = np.array([[10.0, 9.0, 8.0, 7.0, 6.0, 5.0, 4.0, 3.0, 2.0, 1.0]])\noutput_sample = np.array([3726.995])\n\n@input_schema(\'data\', NumpyParameterType(input_sample))\n@output_schema(NumpyParameterType(output_sample))\ndef run(data):\n    try:\n        result = model.predict(data)\n        # You can return any JSON-serializable object.\n        return "Hello " + name + " here is your result = " + str(result)\n    except Exception as e:\n        error = str(e)\n        return error\n')

# --- cell 16
with open('source_directory/extradata.json', 'w') as _f:
    _f.write('{\n    "people": [\n        {\n            "website": "microsoft.com", \n            "from": "Seattle", \n            "name": "Mrudula"\n        }\n    ]\n}\n')

# --- cell 18
import sklearn

from aci_widgets.core.environment import Environment
from aci_widgets.core.model import InferenceConfig


myenv = Environment('myenv')
myenv.python.conda_dependencies.add_pip_package("inference-schema[numpy-support]")
myenv.python.conda_dependencies.add_pip_package("joblib")
myenv.python.conda_dependencies.add_pip_package("scikit-learn=={}".format(sklearn.__version__))

# explicitly set base_image to None when setting base_dockerfile
myenv.docker.base_image = None
myenv.docker.base_dockerfile = "FROM mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04\nRUN echo \"this is test\""
myenv.inferencing_stack_version = "latest"

inference_config = InferenceConfig(source_directory=source_directory,
                                   entry_script="x/y/score.py",
                                   environment=myenv)

# --- cell 20
from aci_widgets.core.webservice import LocalWebservice

# This is optional, if not provided Docker will choose a random unused port.
deployment_config = LocalWebservice.deploy_configuration(port=6789)

local_service = Model.deploy(ws, "test", [model], inference_config, deployment_config)

_shown = (local_service.wait_for_deployment())
if _shown is not None:
    print(repr(_shown))

# --- cell 21
print('Local service port: {}'.format(local_service.port))

# --- cell 23
print(local_service.get_logs())

# --- cell 26
import json

sample_input = json.dumps({
    'data': dataset_x[0:2].tolist()
})

print(local_service.run(sample_input))

# --- cell 28
with open('source_directory/x/y/score.py', 'w') as _f:
    _f.write('import joblib\nimport json\nimport numpy as np\nimport os\n\nfrom inference_schema.schema_decorators import input_schema, output_schema\nfrom inference_schema.parameter_types.numpy_parameter_type import NumpyParameterType\n\ndef init():\n    global model\n    # AZUREML_MODEL_DIR is an environment variable created during deployment.\n    # It is the path to the model folder (./azureml-models/$MODEL_NAME/$VERSION)\n    # For multiple models, it points to the folder containing all deployed models (./azureml-models)\n    model_path = os.path.join(os.getenv(\'AZUREML_MODEL_DIR\'), \'sklearn_regression_model.pkl\')\n    # Deserialize the model file back into a sklearn model.\n    model = joblib.load(model_path)\n\n    global name, from_location\n    # Note here, the entire source directory from inference config gets added into image.\n    # Below is an example of how you can use any extra files in image.\n    with open(\'source_directory/extradata.json\') as json_file:  \n        data = json.load(json_file)\n        name = data["people"][0]["name"]\n        from_location = data["people"][0]["from"]\n\ninput_sample = np.array([[10.0, 9.0, 8.0, 7.0, 6.0, 5.0, 4.0, 3.0, 2.0, 1.0]])\noutput_sample = np.array([3726.995])\n\n@input_schema(\'data\', NumpyParameterType(input_sample))\n@output_schema(NumpyParameterType(output_sample))\ndef run(data):\n    try:\n        result = model.predict(data)\n        # You can return any JSON-serializable object.\n        return "Hello " + name + " from " + from_location + " here is your result = " + str(result)\n    except Exception as e:\n        error = str(e)\n        return error\n')

# --- cell 29
local_service.reload()
print("--------------------------------------------------------------")

# After calling reload(), run() will return the updated message.
_shown = (local_service.run(sample_input))
if _shown is not None:
    print(repr(_shown))

# --- cell 32
_shown = (local_service.delete())
if _shown is not None:
    print(repr(_shown))
