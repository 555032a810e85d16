"""The curated environments v1 notebooks ask for by name (``Environment.get(ws, "AzureML-Minimal")``).

On Azure each name is a prebuilt image with a conda environment. Here each resolves to the pip requirements that
matter for scoring; ``azureml-*`` packages are left out (the aci_widgets scoring runtime takes their place), and
GPU environments get the framework's ordinary pip wheel (the process target has no CUDA). Framework versions are
kept where the name carries one that still installs on today's Pythons (``AzureML-sklearn-1.5`` gets
``scikit-learn==1.5.*``); the 2019-2022 names (``AzureML-sklearn-0.24-...``, ``AzureML-TensorFlow-2.0-GPU``)
name versions that have no wheels for Python 3.10+, so they get the framework unpinned, and their description
says so. Names match case-insensitively (notebooks write both ``AzureML-sklearn-1.5`` and ``azureml-sklearn-1.5``).
"""

from __future__ import annotations

_SCIPY = ["numpy", "scipy", "pandas", "joblib"]

# name -> (pip requirements, description)
CURATED: dict[str, tuple[list[str], str]] = {
    "AzureML-Minimal": ([], "The scoring runtime alone (azureml-core and azureml-defaults on Azure)."),
    "AzureML-Tutorial": ([*_SCIPY, "scikit-learn", "matplotlib"],
                         "The tutorials' environment: numpy, scipy, pandas, scikit-learn, matplotlib."),
    "AzureML-sklearn-1.5": ([*_SCIPY, "scikit-learn==1.5.*"], "scikit-learn 1.5."),
    "AzureML-sklearn-1.0-ubuntu20.04-py38-cpu": ([*_SCIPY, "scikit-learn"],
                                                 "scikit-learn (1.0 on Azure; unpinned: no wheels for Python 3.10+)."),
    "AzureML-sklearn-0.24-ubuntu18.04-py37-cpu": (
        [*_SCIPY, "scikit-learn"], "scikit-learn (0.24 on Azure; unpinned: no wheels for Python 3.10+)."),
    "AzureML-sklearn-0.24.1-ubuntu18.04-py37-cpu-inference": (
        [*_SCIPY, "scikit-learn"], "scikit-learn (0.24.1 on Azure; unpinned: no wheels for Python 3.10+)."),
    "AzureML-Scikit-learn-0.20.3": ([*_SCIPY, "scikit-learn"],
                                    "scikit-learn (0.20.3 on Azure; unpinned: no wheels for Python 3.10+)."),
    "AzureML-Scikit-learn0.24-Cuda11-OpenMpi4.1.0-py36": (
        [*_SCIPY, "scikit-learn"], "scikit-learn (0.24 on Azure; unpinned: no wheels for Python 3.10+)."),
    "AzureML-lightgbm-3.2-ubuntu18.04-py37-cpu": ([*_SCIPY, "scikit-learn", "lightgbm"], "LightGBM."),
    "AzureML-xgboost-0.9-ubuntu18.04-py37-cpu-inference": ([*_SCIPY, "xgboost"], "XGBoost (unpinned)."),
    "AzureML-TensorFlow-1.13-GPU": (["numpy", "tensorflow"], "TensorFlow (1.13 on Azure; unpinned, CPU wheel)."),
    "AzureML-TensorFlow-2.0-GPU": (["numpy", "tensorflow"], "TensorFlow (2.0 on Azure; unpinned, CPU wheel)."),
    "AzureML-TensorFlow-2.1-GPU": (["numpy", "tensorflow"], "TensorFlow (2.1 on Azure; unpinned, CPU wheel)."),
    "AzureML-TensorFlow-2.3-GPU": (["numpy", "tensorflow"], "TensorFlow (2.3 on Azure; unpinned, CPU wheel)."),
    "AzureML-tensorflow-2.4-ubuntu18.04-py37-cpu-inference": (["numpy", "tensorflow"],
                                                              "TensorFlow (2.4 on Azure; unpinned)."),
    "AzureML-tensorflow-2.11-cuda11": (["numpy", "tensorflow"], "TensorFlow (2.11 on Azure; unpinned, CPU wheel)."),
    "AzureML-tensorflow-2.16-cuda12": (["numpy", "tensorflow==2.16.*"], "TensorFlow 2.16 (CPU wheel)."),
    "AzureML-PyTorch-1.4-GPU": (["numpy", "torch"], "PyTorch (1.4 on Azure; unpinned, CPU wheel)."),
    "AzureML-PyTorch-1.6-CPU": (["numpy", "torch"], "PyTorch (1.6 on Azure; unpinned)."),
    "AzureML-PyTorch-1.6-GPU": (["numpy", "torch"], "PyTorch (1.6 on Azure; unpinned, CPU wheel)."),
    "AzureML-pytorch-1.10-ubuntu18.04-py38-cuda11-gpu": (["numpy", "torch"],
                                                         "PyTorch (1.10 on Azure; unpinned, CPU wheel)."),
    "AzureML-acpt-pytorch-2.2-cuda12.1": (["numpy", "torch==2.2.*"], "PyTorch 2.2 (CPU wheel)."),
    "AzureML-onnxruntime-1.6-ubuntu18.04-py37-cpu-inference": (["numpy", "onnxruntime"],
                                                               "ONNX Runtime (unpinned)."),
}

_BY_LOWER = {name.lower(): name for name in CURATED}


def is_curated_name(name: str) -> bool:
    """Names starting with ``AzureML`` are Azure's own: users cannot register them (as on Azure)."""
    return name.lower().startswith("azureml")


def lookup(name: str) -> tuple[str, list[str], str] | None:
    """(canonical name, pip requirements, description) of a curated environment, or None."""
    canonical = _BY_LOWER.get(name.lower())
    if canonical is None:
        return None
    requirements, description = CURATED[canonical]
    return canonical, list(requirements), description


def known_names() -> list[str]:
    return sorted(CURATED, key=str.lower)
