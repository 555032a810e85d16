# ruff: noqa - the notebook's code as published, not this project's style
# Converted from https://github.com/Azure/MachineLearningNotebooks/blob/fa13385860631075dd159aa216488869ecd89571/how-to-use-azureml/deployment/deploy-to-cloud/model-register-and-deploy.ipynb
# Licence: MIT License, Copyright (c) Microsoft Corporation (LICENSE at the repository's root)
# Conversion: tests/v1_corpus/convert.py (rules in its docstring).
# Dropped or replaced, and why:
#   replaced 'numpy==1.23' with 'numpy': numpy==1.23 -> numpy: numpy 1.23.0 has no wheel for this Python (3.11); the pin would build from source

# --- cell 4
import aci_widgets.core


# Check core SDK version number.
print('SDK version:', aci_widgets.core.VERSION)

# --- cell 6
from aci_widgets.core import Workspace


ws = Workspace.from_config()
print(ws.name, ws.resource_group, ws.location, ws.subscription_id, sep='\n')

# --- cell 8
import dill

from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge


dataset_x, dataset_y = load_diabetes(return_X_y=True)

model = Ridge().fit(dataset_x, dataset_y)

_shown = (dill.dump(model, open('sklearn_regression_model.pkl', 'wb')))
if _shown is not None:
    print(repr(_shown))

# --- cell 10
import numpy as np

from aci_widgets.core import Dataset


np.savetxt('features.csv', dataset_x, delimiter=',')
np.savetxt('labels.csv', dataset_y, delimiter=',')

datastore = ws.get_default_datastore()
datastore.upload_files(files=['./features.csv', './labels.csv'],
                       target_path='sklearn_regression/',
                       overwrite=True)

input_dataset = Dataset.Tabular.from_delimited_files(path=[(datastore, 'sklearn_regression/features.csv')])
output_dataset = Dataset.Tabular.from_delimited_files(path=[(datastore, 'sklearn_regression/labels.csv')])

# --- cell 12
import sklearn

from aci_widgets.core import Model
from aci_widgets.core.resource_configuration import ResourceConfiguration


model = Model.register(workspace=ws,
                       model_name='my-sklearn-model',                # Name of the registered model in your workspace.
                       model_path='./sklearn_regression_model.pkl',  # Local file to upload and register as a model.
                       model_framework=Model.Framework.SCIKITLEARN,  # Framework used to create the model.
                       model_framework_version=sklearn.__version__,  # Version of scikit-learn used to create the model.
                       sample_input_dataset=input_dataset,
                       sample_output_dataset=output_dataset,
                       resource_configuration=ResourceConfiguration(cpu=1, memory_in_gb=0.5),
                       description='Ridge regression model to predict diabetes progression.',
                       tags={'area': 'diabetes', 'type': 'regression'})

print('Name:', model.name)
print('Version:', model.version)

# --- cell 15
service_name = 'my-sklearn-service'

service = Model.deploy(ws, service_name, [model], overwrite=True)
_shown = (service.wait_for_deployment(show_output=True))
if _shown is not None:
    print(repr(_shown))

# --- cell 17
import json


input_payload = json.dumps({
    'data': dataset_x[0:2].tolist(),
    'method': 'predict'  # If you have a classification model, you can get probabilities by changing this to 'predict_proba'.
})

output = service.run(input_payload)

print(output)

# --- cell 19
_shown = (service.delete())
if _shown is not None:
    print(repr(_shown))

# --- cell 21
from aci_widgets.core import Environment
from aci_widgets.core.conda_dependencies import CondaDependencies


environment = Environment('my-sklearn-environment')
environment.python.conda_dependencies = CondaDependencies.create(conda_packages=[
    'pip==20.2.4'],
    pip_packages=[
    'azureml-defaults',
    'inference-schema[numpy-support]',
    'joblib',
    'dill==0.3.6',
    'numpy',
    'scikit-learn=={}'.format(sklearn.__version__)
])

# --- cell 23
with open('score.py') as f:
    print(f.read())

# --- cell 25
from aci_widgets.core.model import InferenceConfig
from aci_widgets.core.webservice import AciWebservice


service_name = 'my-custom-env-service'

inference_config = InferenceConfig(entry_script='score.py', environment=environment)
aci_config = AciWebservice.deploy_configuration(cpu_cores=1, memory_gb=1)

service = Model.deploy(workspace=ws,
                       name=service_name,
                       models=[model],
                       inference_config=inference_config,
                       deployment_config=aci_config,
                       overwrite=True)
_shown = (service.wait_for_deployment(show_output=True))
if _shown is not None:
    print(repr(_shown))

# --- cell 27
input_payload = json.dumps({
    'data': dataset_x[0:2].tolist()
})

output = service.run(input_payload)

print(output)

# --- cell 29
_shown = (service.delete())
if _shown is not None:
    print(repr(_shown))

# --- cell 32
from aci_widgets.core import Datastore
from aci_widgets.core.dataset import Dataset
from aci_widgets.data import dataset_type_definitions

dataset_name='diabetes_sample_request_data'

dataset_registered = False
try:
    sample_request_data = Dataset.get_by_name(workspace = ws, name = dataset_name)
    dataset_registered = True
except:
    print("The dataset {} is not registered in workspace yet.".format(dataset_name))

if not dataset_registered:
    # create a string that can be utf-8 encoded and
    # put in the body of the request
    serialized_input_json = json.dumps({
        'data': [
            [ 0.03807591,  0.05068012,  0.06169621, 0.02187235, -0.0442235,
            -0.03482076, -0.04340085, -0.00259226, 0.01990842, -0.01764613]
        ]
    })
    dataset_content = []
    for i in range(100):
        dataset_content.append(serialized_input_json)
    dataset_content = '\n'.join(dataset_content)
    file_name = "{}.txt".format(dataset_name)
    f = open(file_name, 'w')
    f.write(dataset_content)
    f.close()

    # upload the txt file created above to the Datastore and create a dataset from it
    data_store = Datastore.get_default(ws)
    data_store.upload_files(['./' + file_name], target_path='sample_request_data')
    datastore_path = [(data_store, 'sample_request_data' +'/' + file_name)]
    sample_request_data = Dataset.Tabular.from_delimited_files(
        datastore_path,
        separator='\n',
        infer_column_types=True,
        header=dataset_type_definitions.PromoteHeadersBehavior.NO_HEADERS)
    sample_request_data = sample_request_data.register(workspace=ws,
                                                    name=dataset_name,
                                                    create_new_version=True)

# --- cell 34
from datetime import datetime


environment = Environment('my-sklearn-environment')
environment.python.conda_dependencies = CondaDependencies.create(conda_packages=[
    'pip==20.2.4'],
    pip_packages=[
    'azureml-defaults',
    'inference-schema[numpy-support]',
    'joblib',
    'dill==0.3.6',
    'numpy',
    'scikit-learn=={}'.format(sklearn.__version__)
])
inference_config = InferenceConfig(entry_script='score.py', environment=environment)
# if cpu and memory_in_gb parameters are not provided
# the model will be profiled on default configuration of
# 3.5CPU and 15GB memory
profile = Model.profile(ws,
            'rgrsn-%s' % datetime.now().strftime('%m%d%Y-%H%M%S'),
            [model],
            inference_config,
            input_dataset=sample_request_data,
            cpu=1.0,
            memory_in_gb=0.5)

# profiling is a long running operation and may take up to 25 min
profile.wait_for_completion(True)
details = profile.get_details()
