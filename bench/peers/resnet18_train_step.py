"""PyTorch's side of the resnet18 benchmark (bench/PeerBench.ps1 -Case resnet18): the same model, batch and optimizer as
Isaacai's side, timed inside one process. Prints one JSON line: the median seconds per training step.

Run with Debian's python3-torch and python3-torchvision; libopenblas0-pthread installed, OPENBLAS_CORETYPE unset.
"""
import argparse, json, statistics, time

import torch
import torchvision

parser = argparse.ArgumentParser()
parser.add_argument("--steps", type=int, default=10)
parser.add_argument("--warmup", type=int, default=2)
parser.add_argument("--size", type=int, default=64)
parser.add_argument("--batch", type=int, default=64)
args = parser.parse_args()

torch.set_num_threads(1)
torch.manual_seed(1)
model = torchvision.models.resnet18(num_classes=10)
model.train()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
loss_func = torch.nn.CrossEntropyLoss()
x = torch.randn(args.batch, 3, args.size, args.size)
y = torch.randint(0, 10, (args.batch,))
times = []
for step in range(args.warmup + args.steps):
    start = time.perf_counter()
    loss = loss_func(model(x), y)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    if step >= args.warmup:
        times.append(time.perf_counter() - start)
print(json.dumps({"side": "pytorch", "version": torch.__version__, "seconds_per_step": statistics.median(times)}))
