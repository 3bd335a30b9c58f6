"""The command line's defaults come from intcore.defaults alone: what `fit` runs without flags and what
its help says are both `defaults_for(...)`, so changing a default in one place changes both."""
from __future__ import annotations

import argparse
import re

import torch

from intcore.cli import build_parser
from intcore.cli.options import show, spec_from_args
from intcore.defaults import defaults_for
from intcore.trainer import TrainConfig

CPU, GPU = torch.device("cpu"), torch.device("cuda")


def help_of(command: str) -> str:
    """The command's help on one line (wide enough that argparse never wraps, e.g. at late-cosine's hyphen)."""
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    parser = sub.choices[command]
    parser.formatter_class = lambda prog: argparse.HelpFormatter(prog, width=100_000)
    return re.sub(r"\s+", " ", parser.format_help())


def test_a_fit_without_flags_runs_defaults_for_its_modality_and_device(tmp_path):
    for modality, suffix in (("image", ".png"), ("audio", ".wav"), ("shape", ".obj")):
        args = build_parser().parse_args(["fit", str(tmp_path / f"x{suffix}"), "--device", "cpu"])
        spec = spec_from_args(args, None)
        d = defaults_for(modality, CPU)
        assert spec.modality == modality
        assert (spec.train.steps, spec.train.lr, spec.train.eval_every, spec.train.lr_schedule) == \
            (d.steps, d.lr, d.eval_every, d.lr_schedule)
        assert spec.model == d.model and spec.signal.options == d.load_options


def test_the_help_states_each_device_default_as_defaults_for_gives_it():
    text = help_of("fit")
    image_cpu, image_gpu = defaults_for("image", CPU), defaults_for("image", GPU)
    for flag, cpu, gpu in (("--steps", image_cpu.steps, image_gpu.steps), ("--lr", image_cpu.lr, image_gpu.lr),
                           ("--eval-every", image_cpu.eval_every, image_gpu.eval_every),
                           ("--width", image_cpu.model.width, image_gpu.model.width),
                           ("--hidden-layers", image_cpu.model.hidden_layers, image_gpu.model.hidden_layers),
                           ("--max-side", image_cpu.load_options.get("max_side"),
                            image_gpu.load_options.get("max_side"))):
        words = f"{show(cpu)} on CPU, {show(gpu)} on GPU" if cpu != gpu else show(cpu)
        own_line = re.escape(flag) + r" [A-Z_]+ (?:(?! --).)*?\(default: " + re.escape(words) + r"\)"  # not the next flag's
        assert re.search(own_line, text.split("options:", 1)[1]), (flag, words)
    audio = defaults_for("audio", CPU)
    shape = defaults_for("shape", CPU)
    said = re.findall(r"--lr-schedule \S+ learning-rate schedule over the budget \(default: ([^)]*)\)", text)[-1]
    for m, d in (("audio", audio), ("image", image_cpu), ("shape", shape)):
        assert f"{d.lr_schedule} for {m}" in said or f"{d.lr_schedule} otherwise" in said, (m, said)
    assert f"(default: {show(audio.model.first_w0)} for audio, {show(image_cpu.model.first_w0)} otherwise)" in text
    for name in ("seed", "precision", "compile", "cuda_graphs"):
        assert f"(default: {show(getattr(TrainConfig(), name))})" in text


def test_numbers_are_written_as_a_person_would():
    assert [show(x) for x in (5e-4, 1e-4, 0.2, 1.0, 3000.0, 300, None, "off")] == \
        ["5e-4", "1e-4", "0.2", "1", "3000", "300", "full size", "off"]
