"""asd_utils: the helper package of the course on unsupervised anomalous sound detection (DCASE 2020 Task 2, slider).

Small topic modules, each taught by a notebook:

* :mod:`asd_utils.synth`     - the synthetic slide-rail dataset (notebook 01)
* :mod:`asd_utils.data`      - DCASE file names -> dataset table, checked WAV loading (notebook 01)
* :mod:`asd_utils.features`  - batched log-mel front end and feature cache (notebook 02)
* :mod:`asd_utils.metrics`   - AUC / pAUC as the DCASE evaluator, results tables (notebook 03)
* :mod:`asd_utils.models`    - autoencoders, ResNets, STgramNet, SepSTgramNet, ArcFace (notebooks 03-06)
* :mod:`asd_utils.training`  - the one training loop (notebook 03)
* :mod:`asd_utils.scoring`   - anomaly scores (notebooks 03-05)
* :mod:`asd_utils.checkpoints` - saving and reading the trained models of both families (notebooks 03-07)
* :mod:`asd_utils.results`   - a run's results tables (notebooks 00, 04-07)
* :mod:`asd_utils.literature` - the reports' and the DCASE baseline's numbers on the real data (notebooks 03-07)
* :mod:`asd_utils.model_choice` - notebook 07's choice of the models to submit (notebook 07)
"""
from .utils import repo_root, resolve_device, resolve_path, set_seed

__version__ = "0.1.0"
__all__ = ["repo_root", "resolve_device", "resolve_path", "set_seed", "__version__"]
