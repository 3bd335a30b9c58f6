"""intcore: fit implicit neural representations with Implicit Neural Teaching (INT) and its baselines.

    from intcore import load_signal, make_sampler, Trainer, TrainConfig
    signal = load_signal("photo.jpg", max_side=128)
    for snap in Trainer(signal, make_sampler("int"), config=TrainConfig(steps=300)).run():
        print(snap.step, snap.quality)
"""
from .metrics import iou, psnr, ssim
from .modalities import MODALITIES, get_modality, load_image, load_signal
from .models import MODELS, ModelConfig, Siren, build_model
from .samplers import SAMPLERS, Sampler, make_sampler
from .signals import Signal, SignalError
from .trainer import Snapshot, TrainConfig, Trainer

__all__ = [
    "MODALITIES", "MODELS", "SAMPLERS", "ModelConfig", "Sampler", "Signal", "SignalError", "Siren",
    "Snapshot", "TrainConfig", "Trainer", "build_model", "get_modality", "iou", "load_image",
    "load_signal", "make_sampler", "psnr", "ssim",
]
__version__ = "0.1.0"
