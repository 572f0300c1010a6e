"""Judges of lesson 04: S4, C5, F6 and the output."""

from __future__ import annotations

from lenet_helpers.judges.core import (
    counts_exercise,
)

counts_exercise("04-s4-counts", {
    "s4_size": (5, "2x2 windows with stride 2 on 10x10 maps."),
    "s4_params": (32, "like S2: a coefficient and a bias per map, now 16 maps."),
    "s4_connections": (2_000, "5 x 5 x 16 units, each with 4 inputs and a bias."),
}, "S4: 5x5x16, 32 parameters, 2,000 connections.")

counts_exercise("04-c5-counts", {
    "c5_size": (1, "a 5x5 kernel on a 5x5 map leaves one position."),
    "c5_params": (48_120, "120 maps x (16 inputs x 25 weights + 1 bias)."),
}, "C5: 120 maps of 1x1, 48,120 parameters (and as many connections).")

counts_exercise("04-f6-counts", {
    "f6_params": (10_164, "84 units, each with 120 weights and 1 bias."),
}, "F6: 10,164 parameters.")

counts_exercise("04-seed-total", {
    "seed_total": (61_706, "add C1, C3 (full), C5, F6 and a softmax output of 10 x (84 + 1); "
                           "pooling has no parameters here."),
}, "the seed article's network has 61,706 trainable parameters.")
