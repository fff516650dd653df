"""Run the neck layer by layer on the chosen device and record every layer (torch, lazily).

The timing, the device choice and the records of the transposed convolutions are the audit's
(:mod:`convt_cli.audit.trace`, :func:`convt_cli.audit.conv_record`): ``convt neck`` is the
audit's SAM 3 preset, with the neck's own per-layer table around it. With ``--weights`` the neck's
tensors come from a real checkpoint (:mod:`.weights`) and the audit records the phase-gain index of
the trained deconvolutions (:func:`convt_cli.audit.phase.phase_gain`, through ``conv_record``).
"""

from __future__ import annotations

from collections.abc import Callable

from ..audit import AuditReport, Timer, WeightsInfo, conv_record, device_name, resolve_device
from .build import branches_in_order, build_for, count_flops
from .checks import check_memory, verify_layer
from .config import NeckConfig
from .plan import NeckPlan, plan_neck
from .records import BranchRecord, LayerRecord, NeckTrace

ProgressFn = Callable[[int, int, str], None]


def trace_neck(config: NeckConfig, *, verify: bool = False, progress: ProgressFn | None = None,
               plan: NeckPlan | None = None) -> NeckTrace:
    """Build the neck, check memory, run it layer by layer and record every layer.

    ``progress(done, total, path)`` is called before each layer (``path`` about to run) and once at
    the end (``path`` empty). Ctrl-C (KeyboardInterrupt) during the run stops it: the trace returned
    holds what completed and ``interrupted=True``.
    """
    from ..reference import torch_module

    torch = torch_module()
    device = resolve_device(torch, config.device, config.dtype)
    plan = plan or plan_neck(config, verify=verify)
    budget = check_memory(plan, device, torch)
    tdtype = getattr(torch, config.dtype)
    counted = count_flops(config)

    weights = None
    if config.weights is not None:
        from .weights import read_neck_weights

        shapes = {k: tuple(v.shape) for k, v in build_for(config, "meta").state_dict().items()}
        weights = read_neck_weights(torch, config.weights, shapes, config.family, config.spec.prefixes)
    if device == "meta":
        neck = build_for(config, "meta").to(tdtype)
        x0 = torch.empty(config.shape, device="meta", dtype=tdtype)
    else:
        # Built and drawn on the CPU in float32 so that a seed gives the same numbers on every device;
        # the caller's global RNG state is left as it was.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            neck = build_for(config, "cpu")
        if weights is not None:
            neck.load_state_dict(weights.tensors, strict=False)
        gen = torch.Generator().manual_seed(config.seed)
        x0 = torch.randn(config.shape, generator=gen).to(device=device, dtype=tdtype)
        neck = neck.to(device=device, dtype=tdtype)
    neck.eval()
    name, timer_kind = device_name(torch, device)

    notes = []
    if config.source == "default":
        notes.append("default")
    if device != "meta":
        notes.append(f"{device}_warmup")

    planned = {pb.name: pb for pb in plan.branches}
    total = len(plan.layers)
    dropped = set(config.dropped_levels)
    audit_layers: list = []

    def run_all() -> tuple[list[BranchRecord], int, bool]:
        records: list[BranchRecord] = []
        done = 0
        timer = Timer(torch, device)
        try:
            for name, index, branch in branches_in_order(neck):
                pb = planned[name]
                record = BranchRecord(
                    name=pb.name, group=pb.group, index=index, scale=pb.scale, in_shape=list(config.shape),
                    out_shape=None, layers=[], complete=False, dropped=index in dropped, position=pb.position,
                )
                records.append(record)
                x = x0
                for (layer_name, layer), pl in zip(branch.named_children(), pb.layers):
                    if progress is not None:
                        progress(done, total, pl.path)
                    started = timer.start()
                    y = layer(x)
                    out_shape = list(y.shape)
                    lr = LayerRecord(
                        path=pl.path, branch=pb.name, name=layer_name, kind=type(layer).__name__, op=pl.spec.op,
                        in_shape=list(x.shape), out_shape=out_shape, predicted_shape=list(pl.out_shape),
                        shape_ok=out_shape == list(pl.out_shape),
                        params=sum(p.numel() for p in layer.parameters()), params_predicted=pl.params,
                        flops=pl.flops, flops_counted=counted.get(pl.path),
                        out_bytes=y.numel() * y.element_size(), time_ms=None,
                        fan_in=None if pl.spec.fan_in is None else list(pl.spec.fan_in),
                    )
                    timer.stop(lr, started)
                    if isinstance(layer, torch.nn.ConvTranspose2d):
                        audit_layers.append((lr, layer, record.dropped))
                        if verify:
                            lr.verify = verify_layer(torch, layer, x, y, device, config.dtype)
                    record.layers.append(lr)
                    done += 1
                    x = y
                timer.finish()
                record.out_shape = list(x.shape)
                record.complete = True
                del x
            if progress is not None:
                progress(done, total, "")
        except KeyboardInterrupt:
            timer.finish()
            return records, done, True
        return records, done, False

    with torch.no_grad():
        if device != "meta":
            _warm_up(torch, neck, x0, device)
        records, done, interrupted = run_all()

    if weights is not None:
        info = WeightsInfo(weights.path, weights.format, True, "weights", weights.missing, weights.unexpected)
    else:
        info = WeightsInfo(None, None, False, "meta" if device == "meta" else "random")
    trained = {} if weights is None else weights.tensors
    report = AuditReport(
        model=f"{config.spec.model} (--preset {config.preset})", source="python", input_shape=list(config.shape),
        device=device, device_name=name, torch_version=str(torch.__version__), weights=info,
        layers=[_audit_record(i, lr, layer, drop, trained.get(f"{lr.path}.weight"))
                for i, (lr, layer, drop) in enumerate(audit_layers)],
    )
    return NeckTrace(
        config=config, device=device, device_name=name, dtype=config.dtype,
        torch_version=str(torch.__version__), timer=timer_kind, memory=plan.memory, memory_budget=budget,
        branches=records, total_layers=total, completed_layers=done, interrupted=interrupted,
        verified=verify and device != "meta", notes=notes, audit=report, weights=weights,
    )


def _audit_record(index: int, lr: LayerRecord, layer, dropped: bool, trained=None):
    """The audit's record of one of the neck's transposed convolutions; with a checkpoint's weight
    (``trained``), the phase-gain index of the trained kernel (random weights: none)."""
    values = None if trained is None else trained.to(dtype=trained.dtype).double().numpy()
    record = conv_record(index, lr.path, type(layer).__name__, repr(layer), lr.in_shape, lr.out_shape,
                         tuple(layer.weight.shape), layer.stride, layer.padding, layer.dilation, layer.groups,
                         layer.bias is not None, lr.params, values, lr.time_ms)
    record.dropped = dropped
    return record


def _warm_up(torch, neck, x0, device: str) -> None:
    """One untimed pass so the timed one does not pay for lazy initialisation.

    On CUDA the full input runs through each branch (cheap there; outputs are dropped branch by
    branch, so the memory estimate still holds). On the CPU a 2×2 crop of the input is enough to
    load the kernels and start the threads without doubling the run.
    """
    x = x0 if device == "cuda" else x0[..., :2, :2]
    for _name, _index, branch in branches_in_order(neck):
        branch(x)
    if device == "cuda":
        torch.cuda.synchronize()
