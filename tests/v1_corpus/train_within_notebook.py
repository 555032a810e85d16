# ruff: noqa - the notebook's code as published, not this project's style
# Converted from https://github.com/Azure/MachineLearningNotebooks/blob/79739b5e1bf3f920cfd4770eceb297850471c01c/how-to-use-azureml/training/train-within-notebook/train-within-notebook.ipynb
# Licence: MIT License, Copyright (c) Microsoft Corporation (LICENSE at the repository's root)
# Conversion: tests/v1_corpus/convert.py (rules in its docstring).
# Dropped or replaced, and why:
#   cell 28: magic/shell line '%%time' dropped
#   cell 37: magic/shell line '%matplotlib inline' dropped
#   cell 40: magic/shell line '%%time' dropped
#   replaced from sklearn.externals import joblib with import joblib: sklearn.externals.joblib was removed in scikit-learn 0.23 (this machine has 1.x)

# --- cell 4
import aci_widgets.core
from aci_widgets.core import Experiment, Workspace

# Check core SDK version number
print("This notebook was created using version 1.0.2 of the Azure ML SDK")
print("You are currently using version", aci_widgets.core.VERSION, "of the Azure ML SDK")
print("")


ws = Workspace.from_config()
print('Workspace name: ' + ws.name, 
      'Azure region: ' + ws.location, 
      'Subscription id: ' + ws.subscription_id, 
      'Resource group: ' + ws.resource_group, sep='\n')

# --- cell 6
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import train_test_split
import joblib

X, y = load_diabetes(return_X_y = True)
columns = ['age', 'gender', 'bmi', 'bp', 's1', 's2', 's3', 's4', 's5', 's6']
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0)
data = {
    "train":{"X": X_train, "y": y_train},        
    "test":{"X": X_test, "y": y_test}
}

print ("Data contains", len(data['train']['X']), "training samples and",len(data['test']['X']), "test samples")

# --- cell 8
# Get an experiment object from Azure Machine Learning
experiment = Experiment(workspace=ws, name="train-within-notebook")

# Create a run object in the experiment
run =  experiment.start_logging()
# Log the algorithm parameter alpha to the run
run.log('alpha', 0.03)

# Create, fit, and test the scikit-learn Ridge regression model
regression_model = Ridge(alpha=0.03)
regression_model.fit(data['train']['X'], data['train']['y'])
preds = regression_model.predict(data['test']['X'])

# Output the Mean Squared Error to the notebook and to the run
print('Mean Squared Error is', mean_squared_error(data['test']['y'], preds))
run.log('mse', mean_squared_error(data['test']['y'], preds))

# Save the model to the outputs directory for capture
model_file_name = 'outputs/model.pkl'

joblib.dump(value = regression_model, filename = model_file_name)

# upload the model file explicitly into artifacts 
run.upload_file(name = model_file_name, path_or_stream = model_file_name)

# Complete the run
_shown = (run.complete())
if _shown is not None:
    print(repr(_shown))

# --- cell 10
_shown = (run)
if _shown is not None:
    print(repr(_shown))

# --- cell 12
import numpy as np
from tqdm import tqdm

# list of numbers from 0 to 1.0 with a 0.05 interval
alphas = np.arange(0.0, 1.0, 0.05)

# try a bunch of alpha values in a Linear Regression (Ridge) model
for alpha in tqdm(alphas):
    # create a bunch of runs, each train a model with a different alpha value
    with experiment.start_logging() as run:
        # Use Ridge algorithm to build a regression model
        regression_model = Ridge(alpha=alpha)
        regression_model.fit(X=data["train"]["X"], y=data["train"]["y"])
        preds = regression_model.predict(X=data["test"]["X"])
        mse = mean_squared_error(y_true=data["test"]["y"], y_pred=preds)

        # log alpha, mean_squared_error and feature names in run history
        run.log(name="alpha", value=alpha)
        run.log(name="mse", value=mse)

        # Save the model to the outputs directory for capture
        joblib.dump(value=regression_model, filename='outputs/model.pkl')

# --- cell 14
# now let's take a look at the experiment in Azure portal.
_shown = (experiment)
if _shown is not None:
    print(repr(_shown))

# --- cell 16
runs = {}
run_metrics = {}

# Create dictionaries containing the runs and the metrics for all runs containing the 'mse' metric
for r in tqdm(experiment.get_runs()):
    metrics = r.get_metrics()
    if 'mse' in metrics.keys():
        runs[r.id] = r
        run_metrics[r.id] = metrics

# Find the run with the best (lowest) mean squared error and display the id and metrics
best_run_id = min(run_metrics, key = lambda k: run_metrics[k]['mse'])
best_run = runs[best_run_id]
print('Best run is:', best_run_id)
print('Metrics:', run_metrics[best_run_id])

# Tag the best run for identification later
_shown = (best_run.tag("Best Run"))
if _shown is not None:
    print(repr(_shown))

# --- cell 19
# View the files in the run
for f in best_run.get_file_names():
    print(f)
    
# Register the model with the workspace
model = best_run.register_model(model_name='best_model', model_path='outputs/model.pkl')

# --- cell 21
# Find all models called "best_model" and display their version numbers
from aci_widgets.core.model import Model
models = Model.list(ws, name='best_model')
for m in models:
    print(m.name, m.version)

# --- cell 24
from aci_widgets.core.conda_dependencies import CondaDependencies
from aci_widgets.core.environment import Environment
from aci_widgets.core.model import InferenceConfig

env = Environment('deploytocloudenv')
env.python.conda_dependencies = CondaDependencies.create(conda_packages=['scikit-learn'],pip_packages=['azureml-defaults'])
inference_config = InferenceConfig(entry_script="score.py", environment=env)

# --- cell 26
from aci_widgets.core.webservice import AciWebservice

aciconfig = AciWebservice.deploy_configuration(cpu_cores=1, 
                                               memory_gb=1, 
                                               tags={'sample name': 'AML 101'}, 
                                               description='This is a great example.')

# --- cell 28
from aci_widgets.core.model import Model
from aci_widgets.core.webservice import Webservice

# Create the webservice using all of the precreated configurations and our best model
service = Model.deploy(workspace=ws,
                       name='my-aci-svc',
                       models=[model],
                       inference_config=inference_config,
                       deployment_config=aciconfig)

# Wait for the service deployment to complete while displaying log output
_shown = (service.wait_for_deployment(show_output=True))
if _shown is not None:
    print(repr(_shown))

# --- cell 31
import json

service = ws.webservices['my-aci-svc']

# scrape the first row from the test set.
test_samples = json.dumps({"data": X_test[0:1, :].tolist()})

#score on our service
_shown = (service.run(input_data = test_samples))
if _shown is not None:
    print(repr(_shown))

# --- cell 33
# score the entire test set.
test_samples = json.dumps({'data': X_test.tolist()})

result = service.run(input_data = test_samples)
residual = result - y_test

# --- cell 35
import requests

# use the first row from the test set again
test_samples = json.dumps({"data": X_test[0:1, :].tolist()})

# create the required header
headers = {'Content-Type':'application/json'}

# post the request to the service and display the result
resp = requests.post(service.scoring_uri, test_samples, headers = headers)
print(resp.text)

# --- cell 37
import matplotlib.pyplot as plt

f, (a0, a1) = plt.subplots(1, 2, gridspec_kw={'width_ratios':[3, 1], 'wspace':0, 'hspace': 0})
f.suptitle('Residual Values', fontsize = 18)

f.set_figheight(6)
f.set_figwidth(14)

a0.plot(residual, 'bo', alpha=0.4)
a0.plot([0,90], [0,0], 'r', lw=2)
a0.set_ylabel('residue values', fontsize=14)
a0.set_xlabel('test data set', fontsize=14)

a1.hist(residual, orientation='horizontal', color='blue', bins=10, histtype='step')
a1.hist(residual, orientation='horizontal', color='blue', alpha=0.2, bins=10)
a1.set_yticklabels([])

_shown = (plt.show())
if _shown is not None:
    print(repr(_shown))

# --- cell 40
_shown = (service.delete())
if _shown is not None:
    print(repr(_shown))
