"""The MNIST demo of the Azure ML "deploy to ACI" tutorial: a model to train, its scoring assets, a gallery.

Submodules are imported on demand (``aci_widgets.demo.model`` pulls scikit-learn, ``gallery`` matplotlib).
"""
