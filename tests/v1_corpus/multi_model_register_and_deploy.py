# ruff: noqa - the notebook's code as published, not this project's style
# Converted from https://github.com/Azure/MachineLearningNotebooks/blob/f0442166cd7a6676a26e9495464c4a532478bf5a/how-to-use-azureml/deployment/deploy-multi-model/multi-model-register-and-deploy.ipynb
# Licence: MIT License, Copyright (c) Microsoft Corporation (LICENSE at the repository's root)
# Conversion: tests/v1_corpus/convert.py (rules in its docstring).
# Dropped or replaced, and why:
#   replaced "numpy==1.23" with "numpy": numpy==1.23 -> numpy: numpy 1.23.0 has no wheel for this Python (3.11); the pin would build from source

# --- cell 4
# Check core SDK version number
import aci_widgets.core

print("SDK version:", aci_widgets.core.VERSION)

# --- cell 6
from aci_widgets.core import Workspace

ws = Workspace.from_config()
print(ws.name, ws.resource_group, ws.location, ws.subscription_id, sep='\n')

# --- cell 9
import joblib
import sklearn

from sklearn.datasets import load_diabetes
from sklearn.linear_model import BayesianRidge, Ridge

x, y = load_diabetes(return_X_y=True)

first_model = Ridge().fit(x, y)
second_model = BayesianRidge().fit(x, y)

joblib.dump(first_model, "first_model.pkl")
joblib.dump(second_model, "second_model.pkl")

print("Trained models using scikit-learn {}.".format(sklearn.__version__))

# --- cell 11
from aci_widgets.core.model import Model

my_model_1 = Model.register(model_path="first_model.pkl",
                            model_name="my_first_model",
                            workspace=ws)

my_model_2 = Model.register(model_path="second_model.pkl",
                            model_name="my_second_model",
                            workspace=ws)

# --- cell 14
with open('score.py', 'w') as _f:
    _f.write('import joblib\nimport json\nimport numpy as np\n\nfrom aci_widgets.core.model import Model\n\ndef init():\n    global model_1, model_2\n    # Here "my_first_model" is the name of the model registered under the workspace.\n    # This call will return the path to the .pkl file on the local disk.\n    model_1_path = Model.get_model_path(model_name=\'my_first_model\')\n    model_2_path = Model.get_model_path(model_name=\'my_second_model\')\n    \n    # Deserialize the model files back into scikit-learn models.\n    model_1 = joblib.load(model_1_path)\n    model_2 = joblib.load(model_2_path)\n\n# Note you can pass in multiple rows for scoring.\ndef run(raw_data):\n    try:\n        data = json.loads(raw_data)[\'data\']\n        data = np.array(data)\n        \n        # Call predict() on each model\n        result_1 = model_1.predict(data)\n        result_2 = model_2.predict(data)\n\n        # You can return any JSON-serializable value.\n        return {"prediction1": result_1.tolist(), "prediction2": result_2.tolist()}\n    except Exception as e:\n        result = str(e)\n        return result\n')

# --- cell 17
from aci_widgets.core import Environment

env = Environment("deploytocloudenv")
env.python.conda_dependencies.add_pip_package("joblib")
env.python.conda_dependencies.add_pip_package("numpy")
_shown = (env.python.conda_dependencies.add_pip_package("scikit-learn=={}".format(sklearn.__version__)))
if _shown is not None:
    print(repr(_shown))

# --- cell 19
from aci_widgets.core.model import InferenceConfig

inference_config = InferenceConfig(entry_script="score.py", environment=env)

# --- cell 21
from aci_widgets.core.webservice import AciWebservice

aci_service_name = "aciservice-multimodel"

deployment_config = AciWebservice.deploy_configuration(cpu_cores=1, memory_gb=1)

service = Model.deploy(ws, aci_service_name, [my_model_1, my_model_2], inference_config, deployment_config, overwrite=True)
service.wait_for_deployment(True)

print(service.state)

# --- cell 23
import json

test_sample = json.dumps({'data': x[0:2].tolist()})

prediction = service.run(test_sample)

print(prediction)

# --- cell 25
_shown = (service.delete())
if _shown is not None:
    print(repr(_shown))
