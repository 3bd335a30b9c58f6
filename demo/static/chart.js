// INT Studio: the race chart, one persistent plotly chart per tab, updated in place.
//
// THE ONE PLACE THAT USES PLOTLY'S INTERNALS (tested with the plotly.js that plotly==7.1.0 ships; the
// version is pinned in requirements.txt): `gd._fullLayout` (the axes as drawn), `axis.c2p` (data -> px)
// and d3's `__data__` on the traces' SVG groups (which group draws which trace). Why: a full redraw
// (Plotly.react) costs ~25 ms of the browser's CPU, about half of everything the page does in a race on
// a 2-core laptop, and the public alternatives (Plotly.extendTraces, Plotly.restyle) redraw as much
// (bench/chart_update_cost.py measures all three). So between full redraws, when a message moves
// nothing but points (the same layout, the same traces but for their x and y) and every point lies
// inside the axes' current ranges, this redraws only the lines' SVG paths and the markers' positions,
// in plotly's own axis scales. A full redraw still comes whenever anything else changed, a point leaves
// an autoranged axis, the pointer is over the chart (plotly's hover reads the data of its last full
// redraw), and after the user zooms or pans. If plotly changes these internals, `quick` returns false
// and every redraw is a full one: slower, never wrong.
(() => {
  const studio = (window.intStudio = window.intStudio || {});
  studio.updates = studio.updates || {};
  studio.times = studio.times || {};
  studio.draw = studio.draw || {};
  const count = (key, name) => { studio[key] = studio[key] || {}; studio[key][name] = (studio[key][name] || 0) + 1; };
  const withoutPoints = (trace) => { const {x, y, ...rest} = trace; return JSON.stringify(rest); };

  studio.chart = (node, name) => {
    let latest = null;  // the newest figure
    let drawn = null;  // what plotly drew in full last: the layout's and each trace's JSON without x and y
    let pointer = false;

    function quick(figure) {
      const fl = node._fullLayout;  // plotly internal (see the top of this file)
      if (pointer || !drawn || !fl || !fl.xaxis || !fl.yaxis || figure.data.length !== drawn.traces.length
          || JSON.stringify(figure.layout) !== drawn.layout) return false;
      const xa = fl.xaxis, ya = fl.yaxis;
      if (xa.type !== 'linear' || ya.type !== 'linear' || !xa.c2p || !ya.c2p) return false;
      const groups = {};  // each trace's SVG group, by the trace's index (none for a trace without points)
      node.querySelectorAll('.scatterlayer .trace').forEach((g) => {
        const cd = g.__data__;  // d3's bound data (plotly internal)
        if (cd && cd[0] && cd[0].trace) groups[cd[0].trace.index] = g;
      });
      // a point must lie inside an autoranged axis (else the axis would grow); a fixed or zoomed one clips it
      const bounds = (axis) => (axis.autorange ? [Math.min(...axis.range), Math.max(...axis.range)]
                                                : [-Infinity, Infinity]);
      const [x0, x1] = bounds(xa), [y0, y1] = bounds(ya);
      const edits = [];
      for (let i = 0; i < figure.data.length; i++) {
        const t = figure.data[i];
        if (withoutPoints(t) !== drawn.traces[i] || t.x.length !== t.y.length) return false;
        const px = [], py = [];
        for (let k = 0; k < t.x.length; k++) {
          const x = t.x[k], y = t.y[k];
          if (x === null || y === null || x < x0 || x > x1 || y < y0 || y > y1) return false;
          px.push(xa.c2p(x).toFixed(2)); py.push(ya.c2p(y).toFixed(2));
        }
        if (!groups[i]) { if (t.x.length === 0) continue; return false; }
        if (t.mode === 'lines') {
          const path = groups[i].querySelector('path.js-line');
          if (t.x.length < 2 || !path) return false;
          edits.push([path, 'd', 'M' + px.map((x, k) => x + ',' + py[k]).join('L')]);
        } else if (t.mode === 'markers') {
          const points = groups[i].querySelectorAll('path.point');
          if (points.length !== t.x.length) return false;
          points.forEach((p, k) => edits.push([p, 'transform', `translate(${px[k]},${py[k]})`]));
        } else return false;
      }
      edits.forEach(([p, attribute, value]) => p.setAttribute(attribute, value));
      return true;
    }

    function full(figure) {
      drawn = null;
      const record = {layout: JSON.stringify(figure.layout), traces: figure.data.map(withoutPoints)};
      // plotly keeps and edits the objects it is given (a zoom writes into the layout), and a later react
      // with such an edited layout makes it forget the user's zoom: it gets a copy, `latest` stays as it came
      const copy = structuredClone(figure);
      const done = Plotly.react(node, copy.data, copy.layout, {displaylogo: false, responsive: true});
      Promise.resolve(done).then(() => { if (latest === figure) drawn = record; });
      if (!node.intStudioHooked && node.on) {
        node.intStudioHooked = true;
        // a zoom, pan or autoscale redraws from plotly's own (older) data: redraw the newest in full
        node.on('plotly_relayout', () => { if (latest) full(latest); });
      }
      count('full', name);
    }

    node.addEventListener('pointerenter', () => { pointer = true; if (latest && drawn) full(latest); });
    node.addEventListener('pointerleave', () => { pointer = false; });
    // A chart drawn while its tab was hidden has no width: redraw it at its size once it is shown.
    new ResizeObserver(() => { if (window.Plotly && node.data) Plotly.Plots.resize(node); }).observe(node);

    function draw(figure) {
      if (!window.Plotly) { setTimeout(() => draw(figure), 100); return; }
      latest = figure;
      if (!figure) { drawn = null; Plotly.purge(node); return; }
      if (quick(figure)) count('quick', name); else full(figure);
      count('updates', name);
      const times = (studio.times[name] = studio.times[name] || []);
      times.push(performance.now());
      if (times.length > 20000) times.splice(0, 10000);
    }
    // Scripts and tests may draw a figure the way a message would: intStudio.draw[chart name](figure).
    studio.draw[name] = draw;
    return {draw};
  };
})();
