"""PyTorch's side of the ConvNet step breakdown (bench/PeerBench.ps1 -Case convnet): the same ConvNet, batch and
optimizer as Isaacai's `convnet-step`, on one batch of 64 random 1×28×28 images, torch at one thread; prints one JSON
line with the median forward (with the loss), backward and step (with zero_grad) times in milliseconds.

Run with Debian's python3-torch; libopenblas0-pthread installed, OPENBLAS_CORETYPE unset.
"""
import argparse, json, statistics, time

import torch
import torch.nn as nn

parser = argparse.ArgumentParser()
parser.add_argument("--steps", type=int, default=200)
parser.add_argument("--warmup", type=int, default=20)
args = parser.parse_args()

torch.set_num_threads(1)
torch.manual_seed(1)


def block(c_in, c_out):
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU())


model = nn.Sequential(block(1, 8), block(8, 16), block(16, 32), block(32, 64),
                      nn.Conv2d(64, 10, 3, stride=2, padding=1), nn.AdaptiveAvgPool2d(1), nn.Flatten())
model.train()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
loss_func = nn.CrossEntropyLoss()
x = torch.randn(64, 1, 28, 28)
y = torch.randint(0, 10, (64,))
forward, backward, step = [], [], []
for i in range(args.warmup + args.steps):
    t0 = time.perf_counter()
    loss = loss_func(model(x), y)
    t1 = time.perf_counter()
    loss.backward()
    t2 = time.perf_counter()
    optimizer.step()
    optimizer.zero_grad()
    t3 = time.perf_counter()
    if i >= args.warmup:
        forward.append(t1 - t0); backward.append(t2 - t1); step.append(t3 - t2)
ms = lambda values: statistics.median(values) * 1000
print(json.dumps({"side": "pytorch", "version": torch.__version__, "forward_ms": ms(forward), "backward_ms": ms(backward),
                  "step_ms": ms(step), "seconds_per_step": (ms(forward) + ms(backward) + ms(step)) / 1000}))
