"""The report's PNG charts (matplotlib, no display needed)."""

from pathlib import Path


def draw(result: dict, out: Path) -> list[Path]:
    """Time to first token vs concurrency, and RSS over the soak, as PNGs in ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    scenarios = result.get("concurrency") or []
    if scenarios:
        fig, ax = plt.subplots(figsize=(7, 4.2), dpi=100)
        xs = [s["scenario"]["concurrency"] for s in scenarios]
        for target, colour in (("direct", "tab:blue"), ("fintalk", "tab:red")):
            for quantile, style in (("p50", "-o"), ("p99", "--s")):
                ys = [s[target]["ttft_ms"][quantile] for s in scenarios]
                ax.plot(
                    xs,
                    ys,
                    style,
                    color=colour,
                    label=f"{'fake upstream directly' if target == 'direct' else 'through Fintalk'} {quantile}",
                )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xticks(xs, [str(x) for x in xs])
        ax.set_xlabel("concurrent streams")
        ax.set_ylabel("time to first token (ms)")
        ax.set_title("Time to first token: upstream 50 ms TTFT, 20 ms/token")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        path = out / "ttft.png"
        fig.savefig(path)
        plt.close(fig)
        written.append(path)
    soak = result.get("soak")
    if soak:
        fig, ax = plt.subplots(figsize=(7, 3.6), dpi=100)
        samples = soak["samples"]
        requests = [s["requests"] for s in samples]
        ax.plot(requests, [s["rss_mb"] for s in samples], color="tab:purple", label="all workers")
        for index in range(soak["workers"] if soak["workers"] > 1 else 0):
            ax.plot(
                requests,
                [s["workers_rss_mb"][index] for s in samples],
                linewidth=0.8,
                label=f"worker {index + 1}",
            )
        base = soak["rss_after_warm_up_mb"]
        ax.axhline(base + 50, color="tab:red", linestyle=":", label="target: +50 MB")
        ax.set_ylim(0, max(base + 80, soak["rss_peak_mb"] + 20))
        ax.set_xlabel("requests completed")
        ax.set_ylabel("RSS (MB)")
        ax.set_title(f"Fintalk workers' RSS over the soak ({soak['summary']['ok']:,} requests)")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        path = out / "rss.png"
        fig.savefig(path)
        plt.close(fig)
        written.append(path)
    return written
