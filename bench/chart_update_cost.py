"""What one way of updating the race chart costs the browser, apart from everything else on the page.

    python bench/chart_update_cost.py [--seconds 10] [--methods react,extend,paths]

A static page holds plotly.js (the `plotly` package's copy) and one chart built by demo.drawing.chart.race_figure
(three curves, the target line, the diamonds) at the race view's size. Every 0.4 s the curves grow by
two points each and the chart is updated by one method:
  react   Plotly.react with the whole figure (a full redraw);
  extend  Plotly.extendTraces with the new points only (plotly still redraws in full);
  paths   the curves' SVG paths rebuilt in plotly's axis scales, as the live view does between full
          redraws (axes fixed, as a race with a known budget has them).
Prints Chromium's CPU (all its processes, from /proc) per method, one fresh page each.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app_overhead import CHROMIUM_ARGS, chromium_cpu_seconds, cpu_between  # noqa: E402

from demo.drawing.chart import race_figure  # noqa: E402
from demo.ui.assets import plotly_js  # noqa: E402

PAGE = """<html><head><script src="%(plotly)s"></script></head><body style="margin:0">
<div id="c" style="width:1880px;height:290px"></div>
<script>
const chart = document.getElementById('c');
const template = %(figure)s;
const xs = [[], [], []], ys = [[], [], []];
let n = 0;
function grow() {
  for (let k = 0; k < 2; k++, n++)
    for (let i = 0; i < 3; i++) { xs[i].push(n / 20 * (i + 1) / 2); ys[i].push(20 + 15 * (1 - Math.exp(-n / 200 * (i + 1)))); }
}
function figure() {
  const f = structuredClone(template);
  for (let i = 0; i < 3; i++) { f.data[i].x = xs[i].slice(); f.data[i].y = ys[i].slice(); }
  return f;
}
for (let k = 0; k < 60; k++) grow();
const first = figure();
Plotly.newPlot(chart, first.data, first.layout, {displaylogo: false, responsive: true});
window.METHOD = null;
async function tick() {
  grow();
  if (window.METHOD === 'react') { const f = figure(); await Plotly.react(chart, f.data, f.layout); }
  else if (window.METHOD === 'extend')
    await Plotly.extendTraces(chart, {x: xs.map((x) => x.slice(-2)), y: ys.map((y) => y.slice(-2))}, [0, 1, 2]);
  else if (window.METHOD === 'paths') {
    const xa = chart._fullLayout.xaxis, ya = chart._fullLayout.yaxis;
    chart.querySelectorAll('.scatterlayer .trace path.js-line').forEach((path, i) => {
      if (i < 3) path.setAttribute('d', 'M' + xs[i].map((x, k) => xa.c2p(x).toFixed(2) + ',' + ya.c2p(ys[i][k]).toFixed(2)).join('L'));
    });
  }
  setTimeout(tick, 400);
}
tick();
</script></body></html>"""


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=10.0, help="measuring time per method (default 10)")
    p.add_argument("--methods", default="react,extend,paths")
    p.add_argument("--chromium", default=os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium")
    args = p.parse_args(argv)
    from playwright.sync_api import sync_playwright

    layout = race_figure({}, {}, "psnr", "dB", 30.0, "training seconds", "u", height=290)["layout"]
    layout["xaxis"]["range"], layout["yaxis"]["range"] = [0.0, 60.0], [15.0, 40.0]
    colors = ["#e4572e", "#2e86ab", "#5b9c3a"]
    curves = [{"type": "scatter", "mode": "lines", "x": [], "y": [], "name": f"s{i}",
               "line": {"color": colors[i], "width": 2.5}} for i in range(3)]
    extras = [{"type": "scatter", "mode": "lines", "x": [0.0, 60.0], "y": [30.0, 30.0], "name": "target",
               "line": {"dash": "dash", "color": "#555", "width": 1}}]
    folder = Path(tempfile.mkdtemp(prefix="chart-cost-"))
    page_file = folder / "chart.html"
    page_file.write_text(PAGE % {"plotly": plotly_js().as_uri(),
                                 "figure": json.dumps({"data": curves + extras, "layout": layout})})
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=args.chromium,
                                         args=CHROMIUM_ARGS + ["--allow-file-access-from-files"])
            for method in args.methods.split(","):
                page = browser.new_page(viewport={"width": 1920, "height": 1080})
                page.goto(page_file.as_uri())
                page.wait_for_timeout(1500)
                page.evaluate(f"() => {{ window.METHOD = {json.dumps(method)}; }}")
                page.wait_for_timeout(1000)
                cpu0, t0 = chromium_cpu_seconds(), time.monotonic()
                page.wait_for_timeout(args.seconds * 1000)
                cpu1, t1 = chromium_cpu_seconds(), time.monotonic()
                print(f"{method:<8} Chromium {cpu_between(cpu0, cpu1) / (t1 - t0):.3f} cores "
                      f"(2.5 updates a second), load {os.getloadavg()[0]:.2f}", flush=True)
                page.close()
            browser.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
